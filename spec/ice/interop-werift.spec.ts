import t, { type Test } from 'tap';
import type { Connection } from 'werift';
import { IceAgent } from '../../lib/ice/agent.js';
import { FAST, turnUrl } from '../helpers/ice-pair.js';
import { resendUntil, signalWerift, weriftAgent } from '../helpers/werift-ice.js';
import { PASSWORD, startServer, USER } from '../turn/server-fixture.js';

// werift 0.24 sleeps 5/6 of the allocation lifetime in its refresh loop and close() does not
// cancel that sleep: short lifetimes let this file's process exit ~10 s after the tests.
const { server } = await startServer({
  listen: [{ host: '127.0.0.1', port: 0 }],
  defaultLifetime: 2,
  maxLifetime: 2,
});
t.teardown(() => server.close());
const stun = server.addresses.udp[0]!;

async function run(
  t: Test,
  ourRole: boolean,
  relay: boolean,
): Promise<{ ours: IceAgent; theirs: Connection }> {
  const ours = new IceAgent({
    ...FAST,
    taMs: 20,
    controlling: ourRole,
    ...(relay
      ? {
          relayOnly: true,
          turnServers: [{ urls: turnUrl(server, 'udp'), username: USER, credential: PASSWORD }],
        }
      : {}),
  });
  const theirs = weriftAgent({
    controlling: !ourRole,
    ...(relay
      ? { turn: { host: stun.host, port: stun.port, username: USER, password: PASSWORD } }
      : {}),
  });
  t.teardown(async () => {
    await ours.close();
    await theirs.close();
  });
  await Promise.all([ours.gather(), theirs.gatherCandidates()]);
  signalWerift(ours, theirs);
  await Promise.all([ours.connect(), theirs.connect()]);
  return { ours, theirs };
}

for (const relay of [false, true]) {
  for (const ourRole of [true, false]) {
    const role = ourRole ? 'controlling' : 'controlled';
    const path = relay ? 'relay (rtcd turn)' : 'host';
    t.test(`werift ICE: we are ${role}, over ${path}`, async (t) => {
      const { ours, theirs } = await run(t, ourRole, relay);
      t.ok(ours.selectedPair, 'we selected a pair');
      t.equal(ours.selectedPair?.local.type, relay ? 'relay' : 'host');
      t.ok(theirs.nominated, 'werift nominated/accepted a pair');
      const got = new Promise<Buffer>((resolve) => theirs.onData.once((d) => resolve(d)));
      const sent = await resendUntil(got, () => ours.send(Buffer.from([0x80, 0x60, 1, 2])));
      t.same([...sent], [0x80, 0x60, 1, 2], 'werift receives our data');
      const back = new Promise<Buffer>((resolve) => ours.once('data', resolve));
      const echoed = await resendUntil(back, () =>
        theirs.send(Buffer.from([0x80, 0x60, 3, 4])).catch(() => {}),
      );
      t.same([...echoed], [0x80, 0x60, 3, 4], 'we receive werift data');
    });
  }
}
