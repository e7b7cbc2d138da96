/**
 * Rooms of session type `sfu` (issue 7, rooms contract): a SignalServer with a room service
 * attached in-process (a recording double; the real SFU is tested in spec/sfu). The room's
 * type is its first joiner's; the peers' publish / subscribe-answer / set-layer go to the
 * service and its messages come back to the right peer, queued across a resume; the service
 * hears `leave` once, when the peer is really gone.
 */
import t from 'tap';
import { parseClientMessage } from '../../lib/signal/protocol.js';
import { type Frame, joined, startSignal, TestClient } from './fixture.js';
import { op, RecordingService } from './recording-room-service.js';

/** Until the server has seen the connection go (the client's close is not the server's). */
async function detached(peer: { conn: unknown } | undefined): Promise<void> {
  while (peer?.conn !== undefined) await new Promise((r) => setTimeout(r, 5));
}

async function sfuJoin(url: string, room: string): Promise<[TestClient, Frame]> {
  const c = await TestClient.open(url);
  return [c, await c.join(room, { sessionType: 'sfu' })];
}

t.test('parseClientMessage: the sfu messages and their bounds', async (t) => {
  const ok = (m: unknown) => parseClientMessage(JSON.stringify(m));
  t.same(ok({ type: 'publish', sdp: 'v=0', extra: 1 }), {
    ok: true,
    message: { type: 'publish', sdp: 'v=0' },
  });
  t.same(ok({ type: 'subscribe-answer', sdp: 'v=0' }), {
    ok: true,
    message: { type: 'subscribe-answer', sdp: 'v=0' },
  });
  t.same(ok({ type: 'set-layer', trackId: 'tr', layer: 3 }), {
    ok: true,
    message: { type: 'set-layer', trackId: 'tr', layer: 3 },
  });
  const refused: [string, unknown][] = [
    ['publish without sdp', { type: 'publish' }],
    ['publish with an empty sdp', { type: 'publish', sdp: '' }],
    ['subscribe-answer with a numeric sdp', { type: 'subscribe-answer', sdp: 5 }],
    ['set-layer above 3', { type: 'set-layer', trackId: 'x', layer: 4 }],
    ['set-layer below 0', { type: 'set-layer', trackId: 'x', layer: -1 }],
    ['set-layer with a fraction', { type: 'set-layer', trackId: 'x', layer: 1.5 }],
    ['set-layer with a string layer', { type: 'set-layer', trackId: 'x', layer: '1' }],
    ['set-layer with a long trackId', { type: 'set-layer', trackId: 'x'.repeat(65), layer: 0 }],
    ['set-layer without trackId', { type: 'set-layer', layer: 0 }],
  ];
  for (const [name, m] of refused) {
    t.match(ok(m), { ok: false, code: 'bad-message', ref: (m as { type: string }).type }, name);
  }
});

t.test('sfu join, publish → publish-answer, service messages to the right peer', async (t) => {
  const service = new RecordingService();
  const { server, url, http } = await startSignal({ roomService: service });
  t.teardown(() => server.close());
  t.equal(service.attached, 1, 'attached once');
  const [a, ja] = await sfuJoin(url, 'conf');
  t.same(await service.next(op('join')), { op: 'join', room: 'conf', peerId: ja.peerId });
  const record = await fetch(`${http}/api/v1/sessions/${String(ja.sessionId)}`);
  t.match(await record.json(), { type: 'sfu', room: 'conf' }, 'the session record says sfu');
  const [b, jb] = await sfuJoin(url, 'conf');
  t.same(jb.peers, [ja.peerId], 'joined lists the others as in p2p rooms');
  t.same(await a.next('peer-joined'), { type: 'peer-joined', peerId: jb.peerId });
  await service.next(op('join', jb.peerId));

  a.send({ type: 'publish', sdp: 'offer-a', to: 'ignored' });
  t.same(await service.next(op('message')), {
    op: 'message',
    room: 'conf',
    peerId: ja.peerId,
    message: { type: 'publish', sdp: 'offer-a' },
  });
  t.same(await a.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to offer-a' });

  const tracks = [
    { mid: '0', trackId: 'tr1', peerId: ja.peerId as string, kind: 'video' as const },
  ];
  service.send(jb.peerId as string, { type: 'subscribe-offer', sdp: 'sub', tracks });
  t.same(await b.next('subscribe-offer'), { type: 'subscribe-offer', sdp: 'sub', tracks });
  b.send({ type: 'subscribe-answer', sdp: 'ans-b' });
  b.send({ type: 'set-layer', trackId: 'tr1', layer: 2 });
  t.same((await service.next(op('message', jb.peerId))).op, 'message');
  t.same(await service.next(op('message', jb.peerId)), {
    op: 'message',
    room: 'conf',
    peerId: jb.peerId,
    message: { type: 'set-layer', trackId: 'tr1', layer: 2 },
  });
  service.send(jb.peerId as string, {
    type: 'error',
    code: 'sfu-bad-state',
    message: 'x',
    ref: 'r',
  });
  t.same(await b.next('error'), { type: 'error', code: 'sfu-bad-state', message: 'x', ref: 'r' });
  service.send('p_nobody', { type: 'publish-answer', sdp: 'lost' });
  await new Promise((r) => setTimeout(r, 50));
  t.same([...a.frames, ...b.frames], [], 'nothing for a peer that is not here, nothing leaked');
  t.same(service.calls, [], 'no other call');

  a.send({ type: 'leave' });
  t.same(await service.next(op('leave')), { op: 'leave', room: 'conf', peerId: ja.peerId });
  t.same(await b.next('peer-left'), { type: 'peer-left', peerId: ja.peerId });
  a.close();
  b.close();
});

t.test('the first joiner fixes the room type; the other type is refused', async (t) => {
  const service = new RecordingService();
  const { server, url } = await startSignal({ roomService: service });
  t.teardown(() => server.close());
  const [a] = await sfuJoin(url, 'typed');
  await service.next(op('join'));
  const p2p = await TestClient.open(url);
  p2p.send({ type: 'join', room: 'typed' });
  t.match(await p2p.next('error'), { code: 'room-type-mismatch', ref: 'join' });
  p2p.send({ type: 'join', room: 'typed', sessionType: 'p2p' });
  t.match(await p2p.next('error'), { code: 'room-type-mismatch', ref: 'join' });
  const [c] = await joined(url, 'plain');
  const sfu = await TestClient.open(url);
  sfu.send({ type: 'join', room: 'plain', sessionType: 'sfu' });
  t.match(await sfu.next('error'), { code: 'room-type-mismatch', ref: 'join' });
  t.equal(server.hub.rooms.get('plain')?.size, 1, 'the refused join left no member');

  // Once a room is empty its type goes with it.
  a.send({ type: 'leave' });
  await service.next(op('leave'));
  t.match(await p2p.join('typed'), { type: 'joined', room: 'typed' });
  t.same(
    service.calls.filter((x) => x.op === 'join'),
    [],
    'a p2p join does not reach the service',
  );
  for (const x of [a, c, p2p, sfu]) x.close();
});

t.test('without a service, or while it is unavailable: sfu-unavailable', async (t) => {
  const bare = await startSignal();
  t.teardown(() => bare.server.close());
  const c = await TestClient.open(bare.url);
  c.send({ type: 'join', room: 'r', sessionType: 'sfu' });
  t.match(await c.next('error'), { type: 'error', code: 'sfu-unavailable', ref: 'join' });
  t.equal(bare.server.hub.peers.size, 0, 'not joined');
  t.match(await c.join('r'), { type: 'joined' }, 'p2p rooms work as before');
  c.close();

  const service = new RecordingService();
  const { server, url } = await startSignal({ roomService: service });
  t.teardown(() => server.close());
  const [a, ja] = await sfuJoin(url, 'down');
  service.up = false;
  const d = await TestClient.open(url);
  d.send({ type: 'join', room: 'down', sessionType: 'sfu' });
  t.match(await d.next('error'), { code: 'sfu-unavailable', ref: 'join' });
  a.send({ type: 'publish', sdp: 'o' });
  t.match(await a.next('error'), { code: 'sfu-unavailable', ref: 'publish' });
  service.up = true;
  a.send({ type: 'publish', sdp: 'o' });
  t.same(await a.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to o' });
  t.same((await service.next(op('message', ja.peerId))).peerId, ja.peerId);
  a.close();
  d.close();
});

t.test('sfu messages need an sfu room, and valid fields', async (t) => {
  const service = new RecordingService();
  const { server, url } = await startSignal({ roomService: service });
  t.teardown(() => server.close());
  const lone = await TestClient.open(url);
  lone.send({ type: 'publish', sdp: 'o' });
  t.match(await lone.next('error'), { code: 'not-joined', ref: 'publish' });
  const [p] = await joined(url, 'p2p-room');
  for (const m of [
    { type: 'publish', sdp: 'o' },
    { type: 'subscribe-answer', sdp: 'a' },
    { type: 'set-layer', trackId: 't', layer: 0 },
  ]) {
    p.send(m);
    t.match(await p.next('error'), { code: 'not-sfu-session', ref: m.type }, m.type);
  }
  const [s] = await sfuJoin(url, 'sfu-room');
  s.send({ type: 'set-layer', trackId: 't', layer: 9 });
  t.match(await s.next('error'), { code: 'bad-message', ref: 'set-layer' });
  s.send({ type: 'publish' });
  t.match(await s.next('error'), { code: 'bad-message', ref: 'publish' });
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    service.calls.filter((c) => c.op === 'message'),
    [],
    'nothing refused reached the service',
  );
  for (const c of [lone, p, s]) c.close();
});

t.test('a dropped peer: queued across a resume, leave only after the grace', async (t) => {
  const service = new RecordingService();
  const { server, url } = await startSignal({ roomService: service, resumeGraceMs: 300 });
  t.teardown(() => server.close());
  const [a, ja] = await sfuJoin(url, 'grace');
  await service.next(op('join'));
  a.ws.terminate();
  await detached(server.hub.peers.get(ja.peerId as string));
  service.send(ja.peerId as string, { type: 'publish-answer', sdp: 'while away' });
  const a2 = await TestClient.open(url);
  t.match(await a2.join('grace', { resume: ja.resumeToken, sessionType: 'sfu' }), {
    peerId: ja.peerId,
    resumed: true,
  });
  t.same(await a2.next('publish-answer'), { type: 'publish-answer', sdp: 'while away' });
  a2.send({ type: 'publish', sdp: 'again' });
  t.same(await a2.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to again' });
  await service.next(op('message'));
  t.same(service.calls, [], 'a resume is neither a leave nor a second join');

  a2.ws.terminate();
  await a2.closed;
  await new Promise((r) => setTimeout(r, 100));
  t.same(service.calls, [], 'no leave during the grace period');
  t.same(await service.next(op('leave')), { op: 'leave', room: 'grace', peerId: ja.peerId });
  t.equal(server.hub.peers.size, 0);
});

t.test('shutdown: every sfu peer leaves the service', async (t) => {
  const service = new RecordingService();
  const { server, url } = await startSignal({ roomService: service });
  const [a, ja] = await sfuJoin(url, 'end');
  const [b, jb] = await sfuJoin(url, 'end');
  await server.close();
  const left = service.calls.filter((c) => c.op === 'leave').map((c) => c.peerId);
  t.same(left.sort(), [ja.peerId, jb.peerId].sort());
  a.close();
  b.close();
});

t.test('roomService and sfuSecret exclude each other', async (t) => {
  await t.rejects(startSignal({ roomService: new RecordingService(), sfuSecret: 's' }), {
    code: 'RTCD_SIGNAL_OPTIONS',
    field: 'sfuSecret',
  });
  await t.rejects(startSignal({ sfuSecret: '' }), {
    code: 'RTCD_SIGNAL_OPTIONS',
    field: 'sfuSecret',
  });
});

t.test('over the HTTP API: an SSE peer of an sfu room publishes with POST', async (t) => {
  const service = new RecordingService();
  const { server, http } = await startSignal({ roomService: service });
  t.teardown(() => server.close());
  const ac = new AbortController();
  const res = await fetch(`${http}/api/v1/signaling/events?room=sse&session_type=sfu`, {
    signal: ac.signal,
  });
  t.teardown(() => ac.abort());
  const reader = res.body!.getReader();
  let text = '';
  const event = async (name: string) => {
    for (;;) {
      const m = new RegExp(`event: ${name}\\ndata: (.+)\\n`).exec(text);
      if (m) return JSON.parse(m[1]!) as Frame;
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${name}`);
      text += new TextDecoder().decode(value);
    }
  };
  const j = await event('joined');
  t.same(await service.next(op('join')), { op: 'join', room: 'sse', peerId: j.peerId });
  const post = (type: string, body: object) =>
    fetch(`${http}/api/v1/signaling/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: j.sessionId, ...body }),
    });
  t.equal((await post('publish', { sdp: 'over http' })).status, 200);
  t.same(await event('publish-answer'), { type: 'publish-answer', sdp: 'answer to over http' });
  const bad = await post('set-layer', { trackId: 't', layer: 7 });
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: { code: 'bad-message' } });
  const bogus = await fetch(`${http}/api/v1/signaling/events?room=sse&session_type=mcu`);
  t.equal(bogus.status, 400);
  await bogus.body?.cancel();
  await reader.cancel();
});
