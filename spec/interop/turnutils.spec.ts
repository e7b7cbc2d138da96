/**
 * `rtcd turn` against coturn's own clients (RFC 8489 Binding, RFC 8656 Allocate / Refresh /
 * CreatePermission / ChannelBind / Send / Data, UDP and TCP to the server, long-term
 * credentials and TURN REST API secrets). `turnutils_peer` echoes every datagram, so each
 * message relayed client → server → peer comes back peer → server → client; 0 loss means
 * every one of them made both trips through the relay.
 */
import t, { type Test } from 'tap';
import { freePort } from './processes.js';
import { startTarget, type TargetKind, type TargetOptions, targetKinds } from './targets.js';
import { requireTools, toolOptions } from './tools.js';
import {
  parseReflexive,
  parseUclientSummary,
  startPeer,
  stunclient,
  type UclientOptions,
  uclient,
} from './turnutils.js';

const TOOLS = ['turnutils_stunclient', 'turnutils_uclient', 'turnutils_peer'] as const;
const REALM = 'rtcd.interop';
const SECRET = 'interop-rest-secret';
// A relay range of its own: below Linux's ephemeral ports (32768+), apart from the chromium
// file's and from spec/helpers/coturn.ts's (10000-29999), so parallel files do not collide.
const RELAY = { minPort: 30000, maxPort: 30999 };
// "Modest rate": 2 clients × 50 messages of 170 bytes every 20 ms (uclient's default pace).
const LOAD = { messages: 50, clients: 2, length: 170 } as const;

t.test('parsers read turnutils output captured from coturn 4.6', async (t) => {
  t.same(parseReflexive('0: : IPv4. UDP reflexive addr: 127.0.0.1:33314\n'), {
    address: '127.0.0.1',
    port: 33314,
  });
  t.equal(parseReflexive('0: : IPv4. Connected to: 127.0.0.1:3478\n'), undefined);
  const ok = [
    '6: : start_mclient: msz=2, tot_send_msgs=40, tot_recv_msgs=40, tot_send_bytes ~ 6800',
    '7: : start_mclient: tot_send_msgs=100, tot_recv_msgs=100',
    '7: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)',
  ].join('\n');
  t.same(parseUclientSummary(ok), { sent: 100, received: 100, lost: 0, lostPercent: 0 });
  const lost = [
    '16: : start_mclient: tot_send_msgs=20, tot_recv_msgs=0',
    '16: : Total lost packets 40 (100.000000%), total send dropped 0 (0.000000%)',
  ].join('\n');
  t.same(parseUclientSummary(lost), { sent: 20, received: 0, lost: 40, lostPercent: 100 });
  t.equal(parseUclientSummary('recv: Connection refused\n'), undefined);
});

for (const kind of targetKinds()) {
  t.test(`${kind}: turnutils_stunclient learns its reflexive address`, toolOptions(TOOLS), (t) =>
    stunclientTest(t, kind),
  );
  t.test(`${kind}: turnutils_uclient relays to turnutils_peer`, toolOptions(TOOLS), (t) =>
    relayTests(t, kind),
  );
}

async function stunclientTest(t: Test, kind: TargetKind): Promise<void> {
  if (!requireTools(t, TOOLS)) return;
  const target = await startTarget(kind, { realm: REALM, users: { alice: 'a' }, ...RELAY });
  t.teardown(() => target.close());
  const run = await stunclient(target.udpPort);
  t.equal(run.timedOut, false, 'stunclient finished in time');
  t.equal(run.code, 0, 'stunclient exit code 0');
  // On loopback the reflexive address is the client's own: 127.0.0.1 and its ephemeral port.
  const reflexive = parseReflexive(run.output);
  t.equal(reflexive?.address, '127.0.0.1', 'reflexive address is 127.0.0.1', {
    output: run.output,
    server: target.log(),
  });
  t.ok((reflexive?.port ?? 0) > 0, 'reflexive port is a real port');
  t.not(reflexive?.port, target.udpPort, 'reflexive port is the client port, not the server');
  if (target.stats !== undefined) {
    const answered = target.stats.responses.get('binding:0') ?? 0;
    t.ok(answered >= 1, `rtcd answered the Binding requests (${answered})`, {
      server: target.log(),
    });
  }
}

interface Variant {
  name: string;
  options: TargetOptions;
  client: Pick<UclientOptions, 'transport' | 'auth' | 'sendIndications'>;
}

function variants(): Variant[] {
  const users = { alice: 'alice-pass', bob: 'bob-pass', carol: 'carol-pass' };
  const lt = { realm: REALM, users };
  const rest = { realm: REALM, authSecret: SECRET };
  const list: Omit<Variant, 'options'>[] = [
    {
      name: 'UDP, long-term credentials, channels',
      client: { transport: 'udp', auth: { user: 'alice', password: users.alice } },
    },
    {
      name: 'TCP, long-term credentials, channels',
      client: { transport: 'tcp', auth: { user: 'bob', password: users.bob } },
    },
    {
      name: 'UDP, REST API secret, channels',
      client: { transport: 'udp', auth: { user: 'rest-udp', secret: SECRET } },
    },
    {
      name: 'TCP, REST API secret, channels',
      client: { transport: 'tcp', auth: { user: 'rest-tcp', secret: SECRET } },
    },
    {
      name: 'UDP, long-term credentials, Send/Data indications',
      client: { transport: 'udp', auth: { user: 'carol', password: users.carol } },
    },
    {
      name: 'TCP, REST API secret, Send/Data indications',
      client: { transport: 'tcp', auth: { user: 'rest-tcp-send', secret: SECRET } },
    },
  ];
  // Each variant gets its own server and a slice of the relay range, so they run concurrently.
  const slice = Math.floor((RELAY.maxPort - RELAY.minPort + 1) / list.length);
  return list.map((v, i) => {
    const minPort = RELAY.minPort + i * slice;
    const range = { minPort, maxPort: minPort + slice - 1 };
    const auth = 'secret' in v.client.auth ? rest : lt;
    const sendIndications = v.name.includes('Send/Data');
    // uclient picks random channel numbers in RFC 5766's 0x4000-0x7FFF, which RFC 8656 narrowed
    // to 0x4FFF: the channel variants run rtcd with --legacy-channel-numbers, the Send/Data
    // ones with the RFC 8656 default.
    const options = { ...auth, ...range, legacyChannelNumbers: !sendIndications };
    return { ...v, options, client: { ...v.client, sendIndications } };
  });
}

async function relayTests(t: Test, kind: TargetKind): Promise<void> {
  if (!requireTools(t, TOOLS)) return;
  const peerPort = await freePort();
  const peer = await startPeer(peerPort);
  if (peer === undefined) {
    t.fail('turnutils_peer did not echo on 127.0.0.1');
    return;
  }
  t.teardown(() => peer.stop());
  // uclient spends ~5 s before its first message; running the variants side by side keeps the
  // file short. Each has its own server, users and relay ports; the echo peer is shared.
  const runs = await Promise.all(
    variants().map(async (v) => {
      const target = await startTarget(kind, v.options);
      t.teardown(() => target.close());
      const run = await uclient({ serverPort: target.udpPort, peerPort, ...LOAD, ...v.client });
      return { v, target, run };
    }),
  );
  for (const { v, target, run } of runs) {
    t.test(v.name, async (t) => {
      // Shown by tap only when an assertion fails.
      const diag = { uclient: run.output.slice(-3000), server: target.log() };
      t.equal(run.timedOut, false, 'uclient finished in time', diag);
      t.equal(run.code, 0, 'uclient exit code 0', diag);
      // Without legacyChannelNumbers rtcd answers 400 to three uclient binds in four.
      t.notMatch(run.output, /channel bind: error/, 'every ChannelBind succeeded', diag);
      const summary = parseUclientSummary(run.output);
      t.ok(summary, 'uclient printed its totals', diag);
      if (summary === undefined) return;
      t.equal(summary.sent, LOAD.messages * LOAD.clients, 'every message was sent', diag);
      t.equal(summary.received, summary.sent, 'every message came back', diag);
      t.equal(summary.lost, 0, '0 lost packets', diag);
      t.equal(summary.lostPercent, 0, '0% loss', diag);
      const stats = target.stats;
      if (stats !== undefined) {
        // Prove the bytes went through our relay, not around it.
        const min = LOAD.messages * LOAD.clients * LOAD.length;
        t.ok(stats.allocationsCreated >= LOAD.clients, 'rtcd created the allocations', diag);
        t.ok(stats.relayedBytes['client-to-peer'] >= min, 'rtcd relayed client → peer', diag);
        t.ok(stats.relayedBytes['peer-to-client'] >= min, 'rtcd relayed peer → client', diag);
        if (v.client.sendIndications !== true) {
          const binds = stats.responses.get('channel-bind:0') ?? 0;
          t.ok(binds >= LOAD.clients, `rtcd bound channels (${binds})`, diag);
        }
      }
    });
  }
}
