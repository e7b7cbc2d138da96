/**
 * The SFU link over a real socket: a SignalServer with `sfuSecret` and an SFU-side
 * `connectRoomService` (with the recording service double; the real SFU joins in
 * room-service-sfu.spec.ts). The secret is checked (401), frames go both ways and are
 * validated, a lost link tells the sfu peers `sfu-unavailable` and refuses sfu joins until the
 * SFU is back, and the SFU side reconnects by itself and gets the room's peers again.
 */
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import WebSocket from 'ws';
import { parseLinkDownFrame, parseLinkUpFrame } from '../../lib/signal/link-frame.js';
import { connectRoomService, type RoomServiceLink } from '../../lib/signal/room-service-link.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { startSignal, TestClient } from './fixture.js';
import { op, RecordingService } from './recording-room-service.js';

const SECRET = 'link-secret-for-tests';

/** The HTTP status of an upgrade to `/sfu`, or 101 when it is accepted. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

/** A link whose state changes can be awaited. */
function link(url: string, service: RecordingService, backoffMs = 100) {
  const states: ('up' | 'down')[] = [];
  const waiters: { state: 'up' | 'down'; resolve: () => void }[] = [];
  const l: RoomServiceLink = connectRoomService(url, SECRET, service, {
    backoffMs,
    maxBackoffMs: backoffMs,
    onState: (s) => {
      const i = waiters.findIndex((w) => w.state === s);
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve();
      else states.push(s);
    },
  });
  const next = (state: 'up' | 'down') => {
    const i = states.indexOf(state);
    if (i >= 0) {
      states.splice(i, 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiters.push({ state, resolve }));
  };
  return { link: l, next };
}

async function sfuClient(url: string, room: string) {
  const c = await TestClient.open(url);
  return [c, await c.join(room, { sessionType: 'sfu' })] as const;
}

t.test('link frames: valid ones rebuilt, anything else refused', async (t) => {
  const down = (v: unknown) => parseLinkDownFrame(JSON.stringify(v));
  const up = (v: unknown) => parseLinkUpFrame(JSON.stringify(v));
  t.same(down({ op: 'join', room: 'r', peerId: 'p_1', x: 1 }), {
    op: 'join',
    room: 'r',
    peerId: 'p_1',
  });
  t.same(down({ op: 'message', room: 'r', peerId: 'p', message: { type: 'publish', sdp: 'v' } }), {
    op: 'message',
    room: 'r',
    peerId: 'p',
    message: { type: 'publish', sdp: 'v' },
  });
  for (const bad of [
    { op: 'join', room: 'bad room', peerId: 'p' },
    { op: 'join', room: 'r', peerId: 'p'.repeat(65) },
    { op: 'leave', room: 'r' },
    { op: 'message', room: 'r', peerId: 'p', message: { type: 'set-layer', trackId: 't' } },
    { op: 'message', room: 'r', peerId: 'p', message: { type: 'offer', sdp: 'v' } },
    { op: 'send', peerId: 'p', message: { type: 'publish-answer', sdp: 'v' } },
    [1],
  ]) {
    t.equal(down(bad), undefined, JSON.stringify(bad));
  }
  t.equal(parseLinkDownFrame('{not json'), undefined);

  const speaker = { type: 'active-speaker', peerId: 'p_2', trackId: 't', x: 1 };
  t.same(up({ op: 'send', peerId: 'p', message: speaker }), {
    op: 'send',
    peerId: 'p',
    message: { type: 'active-speaker', peerId: 'p_2', trackId: 't' },
  });
  t.equal(up({ op: 'send', peerId: 'p', message: { ...speaker, peerId: 7 } }), undefined);
  const tracks = [{ mid: '0', trackId: 't', peerId: 'p_2', kind: 'audio', extra: true }];
  t.same(up({ op: 'send', peerId: 'p', message: { type: 'subscribe-offer', sdp: 's', tracks } }), {
    op: 'send',
    peerId: 'p',
    message: {
      type: 'subscribe-offer',
      sdp: 's',
      tracks: [{ mid: '0', trackId: 't', peerId: 'p_2', kind: 'audio' }],
    },
  });
  t.same(
    up({ op: 'send', peerId: 'p', message: { type: 'error', code: 'sfu-limit', message: 'm' } }),
    {
      op: 'send',
      peerId: 'p',
      message: { type: 'error', code: 'sfu-limit', message: 'm' },
    },
  );
  for (const bad of [
    { op: 'send', peerId: 'p', message: { type: 'error', code: 'made-up', message: 'm' } },
    { op: 'send', peerId: 'p', message: { type: 'publish-answer', sdp: '' } },
    { op: 'send', peerId: 'p', message: { type: 'joined', room: 'r' } },
    { op: 'send', peerId: 'p', message: { type: 'subscribe-offer', sdp: 's', tracks: [{}] } },
    {
      op: 'send',
      peerId: 'p',
      message: { type: 'subscribe-offer', sdp: 's', tracks: [{ ...tracks[0], kind: 'data' }] },
    },
    { op: 'send', message: { type: 'publish-answer', sdp: 'v' } },
    { op: 'join', room: 'r', peerId: 'p' },
  ]) {
    t.equal(up(bad), undefined, JSON.stringify(bad));
  }
});

t.test('link frame parsers never throw; what they accept is rebuilt whole', async (t) => {
  const { seed, iterations } = fuzzSettings({ seed: 17, iterations: 20000 });
  const r = new Random(seed);
  const values = (depth: number): unknown => {
    switch (r.int(depth > 2 ? 5 : 7)) {
      case 0:
        return null;
      case 1:
        return r.pick([0, 1, -1, 2.5, 4, 1e308]);
      case 2:
        return r.pick(['', 'r', 'p_1', 'x'.repeat(300), 'video', 'audio', 'sfu-limit', 'v=0']);
      case 3:
        return r.pick(['join', 'leave', 'message', 'send', 'publish', 'publish-answer']);
      case 4:
        return r.pick(['subscribe-offer', 'subscribe-answer', 'set-layer', 'error']);
      case 5:
        return Array.from({ length: r.int(3) }, () => values(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        const keys = ['op', 'room', 'peerId', 'message', 'type', 'sdp', 'tracks', 'mid'];
        for (const k of [...keys, 'trackId', 'kind', 'code', 'ref', 'layer']) {
          if (r.chance(0.4)) o[k] = values(depth + 1);
        }
        return o;
      }
    }
  };
  const valid = (): Record<string, unknown>[] => [
    { op: 'join', room: 'r', peerId: 'p_1' },
    {
      op: 'message',
      room: 'r',
      peerId: 'p_1',
      message: { type: 'set-layer', trackId: 't', layer: 1 },
    },
    { op: 'message', room: 'r', peerId: 'p_1', message: { type: 'publish', sdp: 'v=0' } },
    {
      op: 'send',
      peerId: 'p_1',
      message: {
        type: 'subscribe-offer',
        sdp: 'v=0',
        tracks: [{ mid: '0', trackId: 't', peerId: 'p_2', kind: 'video' }],
      },
    },
    {
      op: 'send',
      peerId: 'p_1',
      message: { type: 'error', code: 'bad-sdp', message: 'm', ref: 'publish' },
    },
  ];
  /** A valid frame with one field, top-level or in its message, bent (or not). */
  const bent = () => {
    const f = r.pick(valid());
    const target =
      r.chance(0.5) && typeof f.message === 'object' ? (f.message as Record<string, unknown>) : f;
    if (r.chance(0.7)) target[r.pick([...Object.keys(target), 'x'])] = values(1);
    return f;
  };
  let accepted = 0;
  let unstable = 0;
  for (let i = 0; i < iterations; i++) {
    const text = r.chance(0.1)
      ? r.bytes(r.int(40)).toString('latin1')
      : JSON.stringify(r.chance(0.3) ? values(0) : bent());
    for (const parse of [parseLinkDownFrame, parseLinkUpFrame]) {
      const f = parse(text);
      if (f === undefined) continue;
      accepted++;
      // Accepted frames are plain data that parse to themselves again.
      if (!isDeepStrictEqual(parse(JSON.stringify(f)), f)) unstable++;
    }
  }
  t.equal(unstable, 0, 'every accepted frame round-trips');
  t.ok(accepted > iterations / 10, `${accepted} of ${iterations * 2} accepted (seed ${seed})`);
});

t.test('/sfu: off without a secret, 401 for a wrong or missing one', async (t) => {
  const off = await startSignal();
  t.teardown(() => off.server.close());
  const offUrl = off.url.replace(/\/ws$/, '/sfu');
  t.equal(await upgradeStatus(offUrl, { authorization: `Bearer ${SECRET}` }), 404);

  const { server, url } = await startSignal({ sfuSecret: SECRET });
  t.teardown(() => server.close());
  const sfu = url.replace(/\/ws$/, '/sfu');
  t.equal(await upgradeStatus(sfu), 401, 'no Authorization');
  t.equal(await upgradeStatus(sfu, { authorization: 'Bearer wrong' }), 401, 'wrong secret');
  t.equal(await upgradeStatus(sfu, { authorization: SECRET }), 401, 'not a Bearer');
  t.equal(server.sfuLinks?.stats.unauthorized, 3);
  t.equal(server.sfuLinks?.linkCount, 0);
  t.equal(await upgradeStatus(sfu, { authorization: `Bearer ${SECRET}` }), 101);
});

t.test('frames both ways over the link; bad frames from the SFU are dropped', async (t) => {
  const { server, url, http } = await startSignal({ sfuSecret: SECRET });
  t.teardown(() => server.close());
  const service = new RecordingService();
  const { link: l, next } = link(url.replace(/\/ws$/, '/sfu'), service);
  t.teardown(() => l.close());
  await next('up');
  t.ok(l.connected);
  const [a, ja] = await sfuClient(url, 'linked');
  t.same(await service.next(op('join')), { op: 'join', room: 'linked', peerId: ja.peerId });
  a.send({ type: 'publish', sdp: 'offer' });
  t.same(await a.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to offer' });
  t.match(await service.next(op('message')), { message: { type: 'publish', sdp: 'offer' } });
  a.send({ type: 'set-layer', trackId: 'v1', layer: 1 });
  t.match(await service.next(op('message')), {
    message: { type: 'set-layer', trackId: 'v1', layer: 1 },
  });
  const tracks = [{ mid: '1', trackId: 'v9', peerId: 'p_other', kind: 'video' as const }];
  service.send(ja.peerId as string, { type: 'subscribe-offer', sdp: 'sub', tracks });
  t.same(await a.next('subscribe-offer'), { type: 'subscribe-offer', sdp: 'sub', tracks });
  const metrics = await (await fetch(`${http}/metrics`)).text();
  t.match(metrics, /^rtcd_signal_sfu_available 1$/m);
  t.match(metrics, /^rtcd_signal_sfu_links 1$/m);
  t.match(metrics, /^rtcd_signal_sfu_messages_total\{direction="to_sfu"\} 2$/m);
  t.match(metrics, /^rtcd_signal_sfu_messages_total\{direction="from_sfu"\} 2$/m);

  // A second SFU link that misbehaves: nothing it sends reaches a peer.
  const rogue = new WebSocket(url.replace(/\/ws$/, '/sfu'), {
    headers: { authorization: `Bearer ${SECRET}` },
  });
  await new Promise((r) => rogue.once('open', r));
  const before = server.sfuLinks!.stats.dropped;
  rogue.send('not json');
  rogue.send(JSON.stringify({ op: 'send', peerId: ja.peerId, message: { type: 'nope' } }));
  // Valid, but the peer's room is homed on the first link, not this one.
  rogue.send(
    JSON.stringify({
      op: 'send',
      peerId: ja.peerId,
      message: { type: 'publish-answer', sdp: 'forged' },
    }),
  );
  rogue.send(Buffer.from([1, 2, 3]), { binary: true });
  for (let i = 0; i < 50 && server.sfuLinks!.stats.dropped < before + 4; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  t.equal(server.sfuLinks!.stats.dropped, before + 4, 'all four dropped and counted');
  t.same(a.frames, [], 'the peer got none of them');
  rogue.close();

  a.send({ type: 'leave' });
  t.same(await service.next(op('leave')), { op: 'leave', room: 'linked', peerId: ja.peerId });
  a.close();
});

t.test('link loss: sfu-unavailable, joins refused, reconnect brings the room back', async (t) => {
  const { server, url } = await startSignal({ sfuSecret: SECRET });
  t.teardown(() => server.close());
  const service = new RecordingService();
  const { link: l, next } = link(url.replace(/\/ws$/, '/sfu'), service, 400);
  t.teardown(() => l.close());
  await next('up');
  const [a, ja] = await sfuClient(url, 'lossy');
  await service.next(op('join'));

  server.sfuLinks!.terminate();
  t.match(await a.next('error'), { type: 'error', code: 'sfu-unavailable' });
  t.same(await service.next(op('leave')), { op: 'leave', room: 'lossy', peerId: ja.peerId });
  await next('down');
  t.notOk(l.connected);
  const b = await TestClient.open(url);
  b.send({ type: 'join', room: 'lossy', sessionType: 'sfu' });
  t.match(await b.next('error'), { code: 'sfu-unavailable', ref: 'join' });
  a.send({ type: 'publish', sdp: 'o' });
  t.match(await a.next('error'), { code: 'sfu-unavailable', ref: 'publish' });

  await next('up');
  t.same(
    await service.next(op('join')),
    { op: 'join', room: 'lossy', peerId: ja.peerId },
    'the room is joined on the new link',
  );
  a.send({ type: 'publish', sdp: 'again' });
  t.same(await a.next('publish-answer'), { type: 'publish-answer', sdp: 'answer to again' });
  const jb = await b.join('lossy', { sessionType: 'sfu' });
  t.same(await service.next(op('join')), { op: 'join', room: 'lossy', peerId: jb.peerId });

  // The SFU going away on purpose: the same, and no reconnect.
  await l.close();
  t.match(await a.next('error'), { code: 'sfu-unavailable' });
  t.match(await b.next('error'), { code: 'sfu-unavailable' });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(server.sfuLinks?.linkCount, 0, 'no reconnect after close()');
  a.close();
  b.close();
});

t.test('an SFU with the wrong secret is refused, and keeps trying', async (t) => {
  const { server, url } = await startSignal({ sfuSecret: SECRET });
  t.teardown(() => server.close());
  const errors: unknown[] = [];
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (o: object) => {
      errors.push(o);
    },
  };
  const l = connectRoomService(url.replace(/\/ws$/, '/sfu'), 'wrong', new RecordingService(), {
    backoffMs: 20,
    maxBackoffMs: 20,
    logger,
  });
  t.teardown(() => l.close());
  for (let i = 0; i < 200 && (server.sfuLinks?.stats.unauthorized ?? 0) < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok((server.sfuLinks?.stats.unauthorized ?? 0) >= 3, 'retried after each 401');
  t.notOk(l.connected);
  t.match(errors[0], { status: 401 }, 'logged at error level with the status');
  await l.close();
  const after = server.sfuLinks?.stats.unauthorized;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(server.sfuLinks?.stats.unauthorized, after, 'no attempt after close()');
});

t.test('connectRoomService: misuse throws TypeError', async (t) => {
  const s = new RecordingService();
  t.throws(() => connectRoomService('http://x/sfu', SECRET, s), TypeError);
  t.throws(() => connectRoomService('not a url', SECRET, s), TypeError);
  t.throws(() => connectRoomService('ws://127.0.0.1:1/sfu', '', s), TypeError);
});
