/**
 * TURN credentials minted by the signaling server in the TURN REST form
 * (draft-uberti-behave-turn-rest-00) allocate on a real TurnServer that knows only the shared
 * secret — from `joined` and from POST /api/v1/turn-credentials — and fail under another
 * secret or once expired.
 */
import t from 'tap';
import { mintIceServers } from '../../lib/signal/ice-servers.js';
import { TurnClient } from '../../lib/turn/client.js';
import { TurnServer } from '../../lib/turn/server.js';
import { startSignal, TestClient } from './fixture.js';

const SECRET = 'shared-turn-secret';

async function turnServer() {
  const server = new TurnServer({
    listen: [{ host: '127.0.0.1', port: 0 }],
    relayIps: ['127.0.0.1'],
    authSecrets: [SECRET],
    allowLoopbackPeers: true,
  });
  await server.start();
  return server;
}

async function allocate(port: number, username: string, password: string) {
  const client = await TurnClient.connect({
    server: { host: '127.0.0.1', port },
    username,
    password,
    localAddress: '127.0.0.1',
    rc: 3,
  });
  try {
    return await client.allocate();
  } finally {
    await client.close();
  }
}

t.test('a credential from joined allocates on rtcd turn', async (t) => {
  const turn = await turnServer();
  t.teardown(() => turn.close({ drainTimeoutMs: 0 }));
  const port = turn.addresses.udp[0]!.port;
  const urls = [`turn:127.0.0.1:${port}?transport=udp`];
  const { server, url, http } = await startSignal({
    turnSecret: SECRET,
    turnUrls: urls,
    turnTtl: 600,
  });
  t.teardown(() => server.close());
  const c = await TestClient.open(url);
  const joined = await c.join('turn');
  const [ice] = joined.iceServers as { urls: string[]; username: string; credential: string }[];
  t.same(ice!.urls, urls);
  const [expiry, user] = ice!.username.split(':');
  t.equal(user, joined.peerId, 'without auth the peer id names the user');
  t.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 5, 'expiry = now + turnTtl');
  const a = await allocate(port, ice!.username, ice!.credential);
  t.equal(a.relayed.address, '127.0.0.1');
  c.close();

  const r = await fetch(`${http}/api/v1/turn-credentials`, { method: 'POST' });
  const body = (await r.json()) as { iceServers: (typeof ice)[]; ttl: number };
  t.equal(body.ttl, 600);
  const b = await allocate(port, body.iceServers[0]!.username, body.iceServers[0]!.credential);
  t.equal(b.relayed.address, '127.0.0.1', 'and so does one from the HTTP API');
});

t.test('another secret or an expired credential is refused by the TURN server', async (t) => {
  const turn = await turnServer();
  t.teardown(() => turn.close({ drainTimeoutMs: 0 }));
  const port = turn.addresses.udp[0]!.port;
  const config = { turnUrls: ['turn:x'], turnTtl: 600 };
  const [wrong] = mintIceServers({ ...config, turnSecret: 'not-the-secret' }, 'u', Date.now());
  await t.rejects(allocate(port, wrong!.username!, wrong!.credential!));
  const [old] = mintIceServers({ ...config, turnSecret: SECRET }, 'u', Date.now() - 3600_000);
  await t.rejects(allocate(port, old!.username!, old!.credential!));
});

t.test('user ids are made safe for the username', async (t) => {
  const [s] = mintIceServers(
    { turnSecret: 's', turnUrls: ['turn:x'], turnTtl: 60 },
    'a:b c',
    1_000_000,
  );
  t.equal(s!.username, '1060:a_b_c');
  t.same(mintIceServers({ turnSecret: undefined, turnUrls: ['stun:x'], turnTtl: 60 }, 'u', 0), [
    { urls: ['stun:x'] },
  ]);
  t.same(mintIceServers({ turnSecret: 's', turnUrls: [], turnTtl: 60 }, 'u', 0), []);
});
