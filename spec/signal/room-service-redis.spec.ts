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
