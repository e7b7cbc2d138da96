/**
 * Reconnection and session records: a dropped client resumes with its token within the grace
 * period, keeping its peer id and room and receiving what was sent to it meanwhile (a bounded
 * queue); after the grace period the others get peer-left and the token is refused. Session
 * records go connecting → connected → disconnected with their times and stay readable for the
 * retention time.
 */
import t from 'tap';
import { joined, startSignal, TestClient } from './fixture.js';

t.test('resume within the grace period keeps id and room and delivers the queue', async (t) => {
  const { server, url } = await startSignal({ resumeGraceMs: 2000, resumeQueueSize: 3 });
  t.teardown(() => server.close());
  const [a, ja] = await joined(url, 'res');
  const [b, jb] = await joined(url, 'res');
  await a.next('peer-joined');
  b.ws.terminate();
  await b.closed;
  for (let i = 0; i < 5; i++) a.send({ type: 'candidate', to: jb.peerId, candidate: null });
  a.send({ type: 'offer', to: jb.peerId, sdp: 'while away' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(a.frames.length, 0, 'no error: the peer is still in the room');
  const b2 = await TestClient.open(url);
  const again = await b2.join('res', { resume: jb.resumeToken });
  t.match(again, { type: 'joined', peerId: jb.peerId, sessionId: jb.sessionId, resumed: true });
  t.same(again.peers, [ja.peerId]);
  const queued = [await b2.next('*'), await b2.next('*'), await b2.next('*')];
  t.same(
    queued.map((f) => f.type),
    ['candidate', 'candidate', 'offer'],
    'the newest 3 (queue bound), in order',
  );
  t.equal(queued[2]!.sdp, 'while away');
  t.equal(a.frames.length, 0, 'the others saw no peer-left');
  b2.send({ type: 'answer', to: ja.peerId, sdp: 'back' });
  t.same(await a.next('answer'), { type: 'answer', from: jb.peerId, sdp: 'back' });
  a.close();
  b2.close();
});

t.test('after the grace period: peer-left, and the token starts afresh', async (t) => {
  const { server, url } = await startSignal({ resumeGraceMs: 200 });
  t.teardown(() => server.close());
  const [a] = await joined(url, 'gone');
  const [b, jb] = await joined(url, 'gone');
  b.close();
  t.same(await a.next('peer-left'), { type: 'peer-left', peerId: jb.peerId });
  const b2 = await TestClient.open(url);
  const fresh = await b2.join('gone', { resume: jb.resumeToken });
  t.equal(fresh.resumed, false);
  t.not(fresh.peerId, jb.peerId);
  a.close();
  b2.close();
});

t.test('a resume token does not cross rooms', async (t) => {
  const { server, url } = await startSignal();
  t.teardown(() => server.close());
  const [b, jb] = await joined(url, 'one');
  b.ws.terminate();
  const c = await TestClient.open(url);
  const j = await c.join('two', { resume: jb.resumeToken });
  t.equal(j.resumed, false);
  c.close();
});

t.test('session records: connecting → connected → disconnected, retained', async (t) => {
  const { server, url, http } = await startSignal({ resumeGraceMs: 0, sessionRetentionMs: 300 });
  t.teardown(() => server.close());
  const [a, ja] = await joined(url, 's');
  const b = await TestClient.open(url);
  // One room has one session type (sfu rooms: spec/signal/room-service.spec.ts).
  const jb = await b.join('s', { sessionType: 'p2p' });
  const get = async (id: unknown) => {
    const r = await fetch(`${http}/api/v1/sessions/${String(id)}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  t.match((await get(jb.sessionId)).body, { type: 'p2p' });
  let s = await get(ja.sessionId);
  t.match(s.body, {
    id: ja.sessionId,
    room: 's',
    type: 'p2p',
    peerId: ja.peerId,
    participants: [ja.peerId],
    status: 'connecting',
    connectedAt: null,
    endedAt: null,
  });
  t.ok(Date.parse(String(s.body.createdAt)) > 0, 'createdAt is an ISO time');
  a.send({ type: 'offer', to: jb.peerId, sdp: 'o' });
  await b.next('offer');
  a.send({ type: 'session-state', sessionId: ja.sessionId, state: 'connected' });
  a.send({ type: 'session-state', sessionId: jb.sessionId, state: 'connected' });
  t.match(await a.next('error'), { code: 'unknown-session', ref: 'session-state' });
  s = await get(ja.sessionId);
  t.match(s.body, { status: 'connected', participants: [ja.peerId, jb.peerId] });
  t.ok(Date.parse(String(s.body.connectedAt)) > 0);
  a.close();
  await b.next('peer-left');
  s = await get(ja.sessionId);
  t.match(s.body, { status: 'disconnected' });
  t.ok(Date.parse(String(s.body.endedAt)) >= Date.parse(String(s.body.connectedAt)));
  await new Promise((r) => setTimeout(r, 1100));
  // A put (b's leave) sweeps; the record of a is past its retention.
  b.close();
  await b.closed;
  await new Promise((r) => setTimeout(r, 50));
  t.equal((await get(ja.sessionId)).status, 404, 'gone after the retention time');
  t.equal((await get('s_nope')).status, 404);
});
