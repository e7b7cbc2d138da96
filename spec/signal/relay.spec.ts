/**
 * The WebSocket protocol end to end on one node (memory store): join → joined with the other
 * peers, peer-joined/peer-left, offer/answer/candidate/message relayed with `from`, ping/pong,
 * and the errors that leave the connection up.
 */
import t from 'tap';
import { type Frame, joined, startSignal, TestClient } from './fixture.js';

t.test('two peers meet in a room and exchange offer, answer and candidates', async (t) => {
  const { server, url } = await startSignal();
  t.teardown(() => server.close());
  const [a, ja] = await joined(url, 'abc');
  t.match(ja, { type: 'joined', room: 'abc', peers: [], resumed: false, iceServers: [] });
  t.match(ja.peerId, /^p_/);
  t.match(ja.sessionId, /^s_/);
  t.type(ja.resumeToken, 'string');
  const [b, jb] = await joined(url, 'abc');
  t.same(jb.peers, [ja.peerId]);
  t.same(await a.next('peer-joined'), { type: 'peer-joined', peerId: jb.peerId });

  b.send({ type: 'offer', to: ja.peerId, sdp: 'v=0 offer' });
  t.same(await a.next('offer'), { type: 'offer', from: jb.peerId, sdp: 'v=0 offer' });
  a.send({ type: 'answer', to: jb.peerId, sdp: 'v=0 answer', from: 'forged' });
  t.same(await b.next('answer'), { type: 'answer', from: ja.peerId, sdp: 'v=0 answer' });
  const candidate = {
    candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
    sdpMid: '0',
    sdpMLineIndex: 0,
  };
  a.send({ type: 'candidate', to: jb.peerId, candidate });
  t.same(await b.next('candidate'), { type: 'candidate', from: ja.peerId, candidate });
  a.send({ type: 'candidate', to: jb.peerId, candidate: null });
  t.same(await b.next('candidate'), { type: 'candidate', from: ja.peerId, candidate: null });
  a.send({ type: 'message', to: jb.peerId, data: { chat: 'hi' } });
  t.same(await b.next('message'), { type: 'message', from: ja.peerId, data: { chat: 'hi' } });

  b.send({ type: 'leave' });
  t.same(await a.next('peer-left'), { type: 'peer-left', peerId: jb.peerId });
  a.close();
  b.close();
});

t.test('rooms are separate: a peer of another room is unknown', async (t) => {
  const { server, url } = await startSignal();
  t.teardown(() => server.close());
  const [a] = await joined(url, 'one');
  const [b, jb] = await joined(url, 'two');
  a.send({ type: 'offer', to: jb.peerId, sdp: 'x' });
  t.match(await a.next('error'), { code: 'unknown-peer', ref: 'offer' });
  t.equal(b.frames.length, 0);
  a.close();
  b.close();
});

t.test('errors are replied and the connection stays up', async (t) => {
  const { server, url } = await startSignal();
  t.teardown(() => server.close());
  const c = await TestClient.open(url);
  const cases: [string, unknown, Partial<Frame>][] = [
    ['not JSON', 'hello', { code: 'bad-message' }],
    ['an array', '[1,2]', { code: 'bad-message' }],
    ['no type', { room: 'x' }, { code: 'bad-message' }],
    ['an unknown type', { type: 'dance' }, { code: 'unknown-type', ref: 'dance' }],
    ['a bad room name', { type: 'join', room: '../etc' }, { code: 'bad-message', ref: 'join' }],
    ['an offer before join', { type: 'offer', to: 'p_x', sdp: 'x' }, { code: 'not-joined' }],
    ['an offer without sdp', { type: 'offer', to: 'p_x' }, { code: 'bad-message', ref: 'offer' }],
    ['leave before join', { type: 'leave' }, { code: 'not-joined', ref: 'leave' }],
  ];
  for (const [name, m, want] of cases) {
    c.send(m);
    t.match(await c.next('error'), { type: 'error', ...want }, name);
  }
  c.send({ type: 'ping', id: 7 });
  t.same(await c.next('pong'), { type: 'pong', id: 7 });
  await c.join('still-up');
  c.send({ type: 'join', room: 'again' });
  t.match(await c.next('error'), { code: 'already-joined' });
  c.send({ type: 'offer', to: 'p_nobody', sdp: 'x' });
  t.match(await c.next('error'), { code: 'unknown-peer', ref: 'offer' });
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  t.match(await c.next('error'), { code: 'bad-message' });
  t.equal(c.ws.readyState, c.ws.OPEN);
  c.close();
});
