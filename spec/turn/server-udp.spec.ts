import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { restPassword } from '../../lib/turn/credentials.js';
import { TurnServer } from '../../lib/turn/server.js';
import type { Logger } from '../../lib/util/logger.js';
import { RecordingObserver } from './core-fixture.js';
import {
  connectClient,
  eventually,
  nextData,
  Peer,
  SECRET,
  startServer,
} from './server-fixture.js';

t.test('UDP: Binding returns the client address', async (t) => {
  const { server } = await startServer();
  t.teardown(() => server.close());
  const client = await connectClient(server, 'udp', { username: undefined, password: undefined });
  t.teardown(() => client.close());
  const mapped = await client.binding();
  t.same(mapped, client.local);
  t.equal(server.addresses.udp[0].host, '127.0.0.1');
  t.not(server.addresses.udp[0].port, 0);
  t.equal(server.addresses.tcp[0].port, server.addresses.udp[0].port, 'TCP on the same port');
});

t.test(
  'UDP: Allocate, CreatePermission and Send indication reach a plain peer; Data back',
  async (t) => {
    const { server, observer } = await startServer();
    t.teardown(() => server.close());
    const peer = await Peer.open();
    t.teardown(() => peer.close());
    const client = await connectClient(server);
    t.teardown(() => client.close());
    const allocation = await client.allocate();
    t.equal(allocation.relayed.address, '127.0.0.1');
    t.ok(allocation.relayed.port >= 40000 && allocation.relayed.port <= 60000, 'in the port range');
    t.same(allocation.mapped, client.local);
    t.equal(allocation.lifetime, 600);
    await client.createPermission([peer.address]);
    const received = peer.receive();
    client.send(peer.address, Buffer.from('hello peer'));
    const { data, from } = await received;
    t.equal(data.toString(), 'hello peer');
    t.same(from, allocation.relayed, 'sent from the relayed address');
    const back = nextData(client);
    peer.send(allocation.relayed, Buffer.from('hello client'));
    const got = await back;
    t.equal(got.data.toString(), 'hello client');
    t.same(got.peer, peer.address);
    t.equal(observer.relayedBytes['client-to-peer'], 10);
    t.equal(observer.relayedBytes['peer-to-client'], 12);
    t.equal(observer.lastGauges.allocations, 1);
  },
);

t.test('UDP: ChannelBind then ChannelData both ways', async (t) => {
  const { server } = await startServer();
  t.teardown(() => server.close());
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const client = await connectClient(server);
  t.teardown(() => client.close());
  const { relayed } = await client.allocate();
  const channel = await client.channelBind(peer.address);
  t.ok(channel >= 0x4000 && channel <= 0x4fff);
  for (const size of [1, 3, 1200]) {
    const payload = Buffer.alloc(size, size & 0xff);
    const received = peer.receive();
    client.send(peer.address, payload);
    t.same((await received).data, payload, `${size} bytes to the peer`);
    const back = nextData(client);
    peer.send(relayed, payload);
    t.same((await back).data, payload, `${size} bytes to the client`);
  }
});

t.test('UDP: a TURN REST API username authenticates', async (t) => {
  const { server } = await startServer();
  t.teardown(() => server.close());
  const username = `${Math.floor(Date.now() / 1000) + 600}:carol`;
  const client = await connectClient(server, 'udp', {
    username,
    password: restPassword(SECRET, username),
  });
  t.teardown(() => client.close());
  const allocation = await client.allocate();
  t.equal(allocation.relayed.address, '127.0.0.1');
});

t.test('UDP: a relay port range of one port gives 508 to the second allocation', async (t) => {
  const { server } = await startServer({ minPort: 45678, maxPort: 45678 });
  t.teardown(() => server.close());
  const first = await connectClient(server);
  t.teardown(() => first.close());
  t.equal((await first.allocate()).relayed.port, 45678);
  const second = await connectClient(server);
  t.teardown(() => second.close());
  t.match(await second.allocate().catch((e: unknown) => e), { stunCode: 508 });
});

t.test('UDP: EVEN-PORT with R reserves the odd port for a RESERVATION-TOKEN', async (t) => {
  const { server } = await startServer({ minPort: 41000, maxPort: 41100 });
  t.teardown(() => server.close());
  const first = await connectClient(server);
  t.teardown(() => first.close());
  const a = await first.allocate({ evenPort: true, reserve: true });
  t.equal(a.relayed.port % 2, 0);
  t.equal(a.reservationToken?.length, 8);
  const second = await connectClient(server);
  t.teardown(() => second.close());
  const b = await second.allocate({ reservationToken: a.reservationToken });
  t.equal(b.relayed.port, a.relayed.port + 1);
});

t.test(
  'UDP: close() drains: new allocations get 508, existing ones end, then it resolves',
  async (t) => {
    const { server } = await startServer({ drainTimeoutMs: 10_000 });
    const client = await connectClient(server);
    await client.allocate();
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    const late = await connectClient(server);
    t.match(await late.allocate().catch((e: unknown) => e), { stunCode: 508 });
    await late.close();
    t.equal(closed, false, 'still draining while an allocation lives');
    t.equal(await client.refresh(600), 600, 'the live allocation can still refresh');
    const started = Date.now();
    await client.close(); // Refresh lifetime 0
    await closing;
    t.ok(Date.now() - started < 2000, 'closed as soon as the last allocation ended');
    t.equal(server.allocationCount, 0);
  },
);

t.test('UDP: close() gives up draining after drainTimeoutMs', async (t) => {
  const { server } = await startServer({ drainTimeoutMs: 200 });
  const client = await connectClient(server);
  t.teardown(() => client.close());
  await client.allocate();
  const started = Date.now();
  await server.close();
  t.ok(Date.now() - started >= 150, 'waited for the drain timeout');
  t.equal(server.allocationCount, 0, 'allocations deleted');
});

t.test('UDP: an IPv6 relay (REQUESTED-ADDRESS-FAMILY) relays to an IPv6 peer', async (t) => {
  const { server } = await startServer({ relayIps: ['127.0.0.1', '::1'] });
  t.teardown(() => server.close());
  const peer = createSocket({ type: 'udp6', ipv6Only: true });
  peer.bind(0, '::1');
  await once(peer, 'listening');
  t.teardown(() => peer.close());
  const peerAddress = { family: 6 as const, address: '::1', port: peer.address().port };
  const client = await connectClient(server);
  t.teardown(() => client.close());
  const { relayed } = await client.allocate({ family: 6 });
  t.equal(relayed.address, '::1');
  await client.channelBind(peerAddress);
  const received = once(peer, 'message');
  client.send(peerAddress, Buffer.from('v6'));
  const [data, rinfo] = await received;
  t.equal(data.toString(), 'v6');
  t.equal(rinfo.port, relayed.port);
  const back = nextData(client);
  peer.send(Buffer.from('v6 back'), relayed.port, '::1');
  t.same(await back, { peer: peerAddress, data: Buffer.from('v6 back') });
});

t.test('UDP: usersFile users authenticate next to the configured ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtcd-users-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const usersFile = join(dir, 'users');
  await writeFile(usersFile, '# test users\nerin:erin-pw\n');
  const { server } = await startServer({ usersFile });
  t.teardown(() => server.close());
  for (const [username, password] of [
    ['erin', 'erin-pw'],
    ['alice', 'alice-pw'],
  ]) {
    const client = await connectClient(server, 'udp', { username, password });
    t.teardown(() => client.close());
    t.equal((await client.allocate()).relayed.address, '127.0.0.1', username);
  }
});

t.test('metricsListen serves /metrics and /healthz (503 while draining)', async (t) => {
  const server = new TurnServer({
    listen: [{ host: '127.0.0.1', port: 0 }],
    metricsListen: { host: '127.0.0.1', port: 0 },
    users: { alice: 'alice-pw' },
    drainTimeoutMs: 300,
  });
  await server.start();
  const base = `http://127.0.0.1:${server.addresses.metrics?.port}`;
  const client = await connectClient(server);
  await client.allocate();
  const text = await (await fetch(`${base}/metrics`)).text();
  t.match(text, /rtcd_turn_responses_total\{method="allocate",code="0"\} 1/);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  const closing = server.close();
  t.equal((await fetch(`${base}/healthz`)).status, 503);
  await client.close();
  await closing;
});

t.test('STYLE §5: drops are counted, and logged at debug level only when it is on', async (t) => {
  for (const debug of [true, false]) {
    const logged: { obj: object; msg?: string }[] = [];
    const noop = () => {};
    const logger: Logger = {
      debug: (obj, msg) => logged.push({ obj, msg }),
      info: noop,
      warn: noop,
      error: noop,
      isLevelEnabled: (level) => debug || level !== 'debug',
    };
    const observer = new RecordingObserver();
    const server = new TurnServer(
      { listen: [{ host: '127.0.0.1', port: 0 }], drainTimeoutMs: 0 },
      { logger, observer },
    );
    await server.start();
    t.teardown(() => server.close());
    const socket = createSocket('udp4');
    t.teardown(() => socket.close());
    socket.send(Buffer.from([0xff, 1, 2, 3]), server.addresses.udp[0].port, '127.0.0.1');
    await eventually(() => observer.drops.includes('not-turn'));
    const drops = logged.filter((l) => l.msg === 'turn packet dropped');
    t.same(
      drops.map((l) => l.obj),
      debug ? [{ reason: 'not-turn' }] : [],
      debug ? 'debug on: the drop is logged with its reason' : 'debug off: nothing is logged',
    );
  }
});
