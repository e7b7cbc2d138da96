/**
 * Finite limits, each with its own error, and nobody else affected: message size (error, then
 * close 1009 far beyond), message rate (rate-limited, close 4429 on abuse), peers per room,
 * rooms per process, connections per IP and in all (close 4429), dead connections found by
 * heartbeats (close 4408).
 */
import type { Socket } from 'node:net';
import t from 'tap';
import { joined, startSignal, TestClient } from './fixture.js';

t.test('an oversize message gets message-too-large; a huge one closes with 1009', async (t) => {
  const { server, url } = await startSignal({ maxMessageBytes: 2048 });
  t.teardown(() => server.close());
  const [a, ja] = await joined(url, 'big');
  const [b] = await joined(url, 'big');
  a.send({ type: 'offer', to: ja.peerId, sdp: 'x'.repeat(3000) });
  t.match(await a.next('error'), { code: 'message-too-large' });
  a.send({ type: 'ping', id: 1 });
  t.same(await a.next('pong'), { type: 'pong', id: 1 }, 'still up');
  a.send({ type: 'offer', to: ja.peerId, sdp: 'x'.repeat(9000) });
  t.equal(await a.closed, 1009);
  b.send({ type: 'ping', id: 2 });
  t.same(await b.next('pong'), { type: 'pong', id: 2 }, 'the other client is unaffected');
  b.close();
});

t.test('a flood is rate-limited, then closed with 4429; others unaffected', async (t) => {
  const { server, url } = await startSignal({ messagesPerSecond: 10, messageBurst: 5 });
  t.teardown(() => server.close());
  const flood = await TestClient.open(url);
  const calm = await TestClient.open(url);
  for (let i = 0; i < 5; i++) flood.send({ type: 'ping', id: i });
  for (let i = 0; i < 5; i++) t.same(await flood.next('pong'), { type: 'pong', id: i });
  flood.send({ type: 'ping', id: 99 });
  t.match(await flood.next('error'), { code: 'rate-limited' }, 'beyond the burst');
  for (let i = 0; i < 50; i++) flood.send({ type: 'ping', id: i });
  t.equal(await flood.closed, 4429, 'sustained abuse closes');
  calm.send({ type: 'ping', id: 'calm' });
  t.same(await calm.next('pong'), { type: 'pong', id: 'calm' });
  calm.close();
});

t.test('room-full at maxPeersPerRoom; too-many-rooms at maxRooms', async (t) => {
  const { server, url } = await startSignal({ maxPeersPerRoom: 2, maxRooms: 2 });
  t.teardown(() => server.close());
  const [a] = await joined(url, 'r1');
  const [b] = await joined(url, 'r1');
  const c = await TestClient.open(url);
  c.send({ type: 'join', room: 'r1' });
  t.match(await c.next('error'), { code: 'room-full', ref: 'join' });
  t.match(await c.join('r2'), { type: 'joined' }, 'the same connection may join elsewhere');
  const d = await TestClient.open(url);
  d.send({ type: 'join', room: 'r3' });
  t.match(await d.next('error'), { code: 'too-many-rooms', ref: 'join' });
  b.send({ type: 'leave' });
  await a.next('peer-left');
  t.match(await d.join('r1'), { type: 'joined' }, 'a freed place can be taken');
  for (const x of [a, b, c, d]) x.close();
});

t.test('connections per IP and in all are bounded (4429)', async (t) => {
  const { server, url } = await startSignal({ maxConnectionsPerIp: 2, maxConnections: 3 });
  t.teardown(() => server.close());
  const a = await TestClient.open(url);
  const b = await TestClient.open(url);
  const c = await TestClient.open(url);
  t.equal(await c.closed, 4429, 'third from one IP');
  a.close();
  await a.closed;
  await new Promise((r) => setTimeout(r, 50));
  const d = await TestClient.open(url);
  d.send({ type: 'ping' });
  t.same(await d.next('pong'), { type: 'pong' }, 'a freed slot is reusable');
  b.close();
  d.close();
});

t.test('a client that stops answering pings is closed with 4408', async (t) => {
  const { server, url } = await startSignal({ heartbeatIntervalMs: 100 });
  t.teardown(() => server.close());
  const dead = await TestClient.open(url, { autoPong: false });
  const alive = await TestClient.open(url);
  t.equal(await dead.closed, 4408);
  t.equal(alive.ws.readyState, alive.ws.OPEN, 'a client answering pings stays');
  alive.close();
});

t.test('a client that does not read is closed with 1008; its peer may resume', async (t) => {
  const { server, url } = await startSignal({ messagesPerSecond: 100000, messageBurst: 100000 });
  t.teardown(() => server.close());
  const [a] = await joined(url, 'slow');
  const [b, jb] = await joined(url, 'slow');
  await a.next('peer-joined');
  // b stops reading: pause its TCP socket (ws keeps it as _socket) so the server's buffer fills.
  const socket = Reflect.get(b.ws, '_socket') as Socket;
  socket.pause();
  const sdp = 'x'.repeat(60000);
  for (let i = 0; i < 200 && b.closeCode === undefined; i++) {
    a.send({ type: 'offer', to: jb.peerId, sdp });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  socket.resume();
  t.equal(await b.closed, 1008);
  a.send({ type: 'ping', id: 'a' });
  t.same(await a.next('pong'), { type: 'pong', id: 'a' }, 'the sender is unaffected');
  a.close();
});
