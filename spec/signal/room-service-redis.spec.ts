/**
 * sfu rooms on several `rtcd signal` nodes (Redis): the room type is fixed for all nodes, and
 * one SFU linked to every node serves the room — a peer that resumes on the other node keeps
 * its place at the SFU (no second join, no leave), and its messages flow through the new
 * node's link.
 */
import t from 'tap';
import { RedisStore } from '../../lib/signal/redis-store.js';
import { connectRoomService, type RoomServiceLink } from '../../lib/signal/room-service-link.js';
import { startRedis } from '../helpers/redis.js';
import { joined, startSignal, TestClient } from './fixture.js';
import { op, RecordingService } from './recording-room-service.js';

const SECRET = 'redis-link-secret';
const redis = await startRedis();
t.teardown(() => redis.close());

let prefixes = 0;
async function nodes() {
  const prefix = `rs${prefixes++}:`;
  const make = () =>
    startSignal({
      sfuSecret: SECRET,
      resumeGraceMs: 5000,
      store: new RedisStore({ url: redis.url, prefix, connectTimeoutMs: 2000 }),
    });
  return [await make(), await make()] as const;
}

async function linked(urls: string[], service: RecordingService) {
  const links: RoomServiceLink[] = [];
  for (const url of urls) {
    const up = new Promise<void>((resolve) => {
      links.push(
        connectRoomService(url.replace(/\/ws$/, '/sfu'), SECRET, service, {
          backoffMs: 100,
          onState: (s) => s === 'up' && resolve(),
        }),
      );
    });
    await up;
  }
  return links;
}

t.test('the room type holds across nodes', async (t) => {
  const [n1, n2] = await nodes();
  t.teardown(async () => {
    await n1.server.close();
    await n2.server.close();
  });
  const service = new RecordingService();
  const links = await linked([n1.url, n2.url], service);
  t.teardown(() => Promise.all(links.map((l) => l.close())));
  const a = await TestClient.open(n1.url);
  await a.join('cross', { sessionType: 'sfu' });
  const b = await TestClient.open(n2.url);
  b.send({ type: 'join', room: 'cross', sessionType: 'p2p' });
  t.match(await b.next('error'), { code: 'room-type-mismatch', ref: 'join' });
  const [c] = await joined(n2.url, 'plain');
  const d = await TestClient.open(n1.url);
  d.send({ type: 'join', room: 'plain', sessionType: 'sfu' });
  t.match(await d.next('error'), { code: 'room-type-mismatch', ref: 'join' });
  t.match(await b.join('cross', { sessionType: 'sfu' }), { type: 'joined' });
  for (const x of [a, b, c, d]) x.close();
});

t.test('one SFU linked to both nodes keeps a peer that resumes on the other', async (t) => {
  const [n1, n2] = await nodes();
  t.teardown(async () => {
    await n1.server.close();
    await n2.server.close();
  });
  const service = new RecordingService();
  const [l1, l2] = await linked([n1.url, n2.url], service);
  t.teardown(async () => {
    await l1!.close();
    await l2!.close();
  });
  const a = await TestClient.open(n1.url);
  const ja = await a.join('move', { sessionType: 'sfu' });
  t.same(await service.next(op('join')), { op: 'join', room: 'move', peerId: ja.peerId });
  a.ws.terminate();
  await a.closed;
  await new Promise((r) => setTimeout(r, 100));
  const a2 = await TestClient.open(n2.url);
  t.match(await a2.join('move', { resume: ja.resumeToken, sessionType: 'sfu' }), {
    peerId: ja.peerId,
    resumed: true,
  });
  a2.send({ type: 'publish', sdp: 'from n2' });
  t.same(await a2.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to from n2' });
  t.match(await service.next(op('message')), { peerId: ja.peerId });
  t.same(service.calls, [], 'no second join and no leave at the SFU');

  // The first node's link going does not touch the peer, now served through the second.
  await l1!.close();
  await new Promise((r) => setTimeout(r, 100));
  t.same(service.calls, [], 'still no leave');
  a2.send({ type: 'leave' });
  t.same(await service.next(op('leave')), { op: 'leave', room: 'move', peerId: ja.peerId });
  a2.close();
});

t.test('two SFUs linked to both nodes: each room lands on one SFU from either node', async (t) => {
  const [n1, n2] = await nodes();
  t.teardown(async () => {
    await n1.server.close();
    await n2.server.close();
  });
  const sfus = [new RecordingService(), new RecordingService()];
  const links = [
    ...(await linked([n1.url, n2.url], sfus[0]!)),
    ...(await linked([n1.url, n2.url], sfus[1]!)),
  ];
  t.teardown(() => Promise.all(links.map((l) => l.close())));
  const clients: TestClient[] = [];
  const rooms = Array.from({ length: 16 }, (_, i) => `spread-${i}`);
  // Rooms on the first node only: its SFUs' loads differ from what the second node sees, so
  // a choice by load would put the shared rooms on different SFUs from the two nodes.
  for (const room of ['solo-a', 'solo-b', 'solo-c']) {
    const c = await TestClient.open(n1.url);
    await c.join(room, { sessionType: 'sfu' });
    clients.push(c);
  }
  for (const room of rooms) {
    for (const url of [n1.url, n2.url]) {
      const c = await TestClient.open(url);
      await c.join(room, { sessionType: 'sfu' });
      clients.push(c);
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  const placed = sfus.map((s) =>
    s.calls.filter((c) => c.op === 'join' && c.room.startsWith('spread-')).map((c) => c.room),
  );
  for (const room of rooms) {
    const at = placed.map((p) => p.filter((r) => r === room).length);
    t.ok(at.includes(2) && at.includes(0), `${room}: both peers at one SFU (${at.join('/')})`);
  }
  t.ok(placed[0]!.length > 0 && placed[1]!.length > 0, 'the rooms are spread over both SFUs');
  for (const c of clients) c.close();
});
