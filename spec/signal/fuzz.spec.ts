/**
 * Fuzzing the message handler: random bytes, random JSON and mutated valid messages into
 * `parseClientMessage` (pure) and `SignalHub.handleFrame` (dispatch, with in-memory sinks),
 * then over a real WebSocket beside two clients negotiating. Nothing throws, every reply is a
 * documented frame with a documented error code, and the other clients are unaffected.
 *   FUZZ_SEED=<seed> FUZZ_ITERATIONS=<n> npx tap spec/signal/fuzz.spec.ts
 */
import t from 'tap';
import { Authenticator } from '../../lib/signal/auth.js';
import { Connection, type PeerSink } from '../../lib/signal/connection.js';
import { SignalErrorCode } from '../../lib/signal/errors.js';
import { SignalHub } from '../../lib/signal/hub.js';
import { MemoryStore } from '../../lib/signal/memory-store.js';
import { resolveSignalOptions } from '../../lib/signal/options.js';
import { parseClientMessage } from '../../lib/signal/protocol.js';
import { silentLogger } from '../../lib/util/logger.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { joined, startSignal, TestClient } from './fixture.js';
import { RecordingService } from './recording-room-service.js';

const { seed, iterations } = fuzzSettings({ seed: 6, iterations: 20000 });
const CODES = new Set<string>(Object.values(SignalErrorCode));
const SERVER_TYPES = new Set([
  'joined',
  'peer-joined',
  'peer-left',
  'offer',
  'answer',
  'candidate',
  'message',
  'error',
  'pong',
  'publish-answer',
]);
const TYPES = [
  'join',
  'offer',
  'answer',
  'candidate',
  'leave',
  'ping',
  'session-state',
  'message',
  'publish',
  'subscribe-answer',
  'set-layer',
];
const KEYS = [
  'type',
  'room',
  'to',
  'sdp',
  'candidate',
  'id',
  'token',
  'resume',
  'sessionId',
  'state',
  'data',
  'sessionType',
  'trackId',
  'layer',
];

function randomValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 6 : 8)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER, r.int(1000)]);
    case 3:
      return r.pick(TYPES);
    case 4:
      return r.bytes(r.int(20)).toString('latin1');
    case 5:
      return r.pick(['', 'abc', 'p_x', '*', '../x', 'a'.repeat(70), 'connected', '\u0000']);
    case 6:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) o[r.pick(KEYS)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function randomFrame(r: Random, peers: string[]): string | Buffer {
  switch (r.int(4)) {
    case 0:
      return r.bytes(r.int(64));
    case 1:
      return JSON.stringify(randomValue(r));
    case 2: {
      // A plausible message with one field bent.
      const m: Record<string, unknown> = {
        type: r.pick(TYPES),
        room: 'fz',
        to: peers.length > 0 ? r.pick(peers) : 'p_x',
        sdp: 'v=0',
        candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
        id: 1,
        sessionId: 's_x',
        state: 'connected',
        data: { x: 1 },
        sessionType: r.pick(['p2p', 'sfu']),
        trackId: 'tr',
        layer: r.int(5),
      };
      m[r.pick(KEYS)] = randomValue(r);
      return JSON.stringify(m);
    }
    default: {
      const text = JSON.stringify({ type: r.pick(TYPES), room: 'fz', to: 'p_x', sdp: 'x' });
      const cut = r.int(text.length);
      return text.slice(0, cut) + r.bytes(3).toString('latin1') + text.slice(cut + 1);
    }
  }
}

function checkFrame(t: { fail(message: string): boolean }, frame: string): boolean {
  const f = JSON.parse(frame) as { type: string; code?: string };
  if (!SERVER_TYPES.has(f.type)) return t.fail(`undocumented frame ${frame}`);
  if (f.type === 'error' && !CODES.has(f.code ?? '')) return t.fail(`undocumented code ${frame}`);
  return true;
}

/** The next `type` frame from `from`: the fuzzer may join the room and send them things too. */
async function nextFrom(c: TestClient, type: string, from: unknown) {
  for (;;) {
    const f = await c.next(type);
    if (f.from === from) return f;
    checkFrame(t, JSON.stringify(f));
  }
}

t.test(`parseClientMessage never throws (seed ${seed})`, async (t) => {
  const r = new Random(seed);
  let ok = 0;
  for (let i = 0; i < iterations; i++) {
    const frame = randomFrame(r, []);
    const result = parseClientMessage(frame, r.chance(0.05));
    if (result.ok) {
      ok++;
      if (!TYPES.includes(result.message.type)) t.fail(`bad type ${JSON.stringify(result)}`);
    } else if (!CODES.has(result.code)) {
      t.fail(`undocumented code ${result.code}`);
    }
  }
  t.ok(ok > iterations / 50, `some frames were valid (${ok})`);
});

t.test(`SignalHub.handleFrame: documented replies only (seed ${seed})`, async (t) => {
  const r = new Random(seed + 1);
  const o = resolveSignalOptions({ noAuth: true, messagesPerSecond: 1e9, messageBurst: 1e9 });
  const store = new MemoryStore();
  // Rooms of both types: sfu messages reach a service that answers publish.
  const service = new RecordingService();
  const auth = new Authenticator({ noAuth: true });
  const hub = new SignalHub(o, store, auth, silentLogger, Date.now, service);
  await store.start((e) => hub.onStoreEvent(e), silentLogger);
  const replies: string[] = [];
  const sink: PeerSink = {
    send: (f) => {
      replies.push(f);
      return true;
    },
    close: () => {},
  };
  const rate = { perSecond: o.messagesPerSecond, burst: o.messageBurst };
  const conns = Array.from(
    { length: 4 },
    () => new Connection(sink, '127.0.0.1', undefined, rate, 0),
  );
  for (let i = 0; i < iterations; i++) {
    const conn = r.pick(conns);
    hub.handleFrame(conn, randomFrame(r, [...hub.peers.keys()]), false);
    if (i % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setImmediate(resolve));
  let bad = 0;
  for (const f of replies) if (!checkFrame(t, f)) bad++;
  t.equal(bad, 0, `${replies.length} replies, all documented`);
  t.ok(hub.peers.size <= 4, 'at most one peer per connection');
  for (const c of service.calls) {
    if (c.op !== 'message') continue;
    const peer = hub.peers.get(c.peerId);
    // A peer may have left since; while here, only sfu peers reach the service.
    if (peer !== undefined && peer.session.type !== 'sfu') t.fail(`p2p peer at the service`);
  }
});

t.test('random frames on a real socket leave the others unaffected', async (t) => {
  const r = new Random(seed + 2);
  const { server, url } = await startSignal({ messagesPerSecond: 100000, messageBurst: 100000 });
  t.teardown(() => server.close());
  const [a, ja] = await joined(url, 'fz');
  const [b, jb] = await joined(url, 'fz');
  const fuzzer = await TestClient.open(url);
  const frames = Math.min(iterations, 3000);
  for (let i = 0; i < frames; i++) {
    const frame = randomFrame(r, [ja.peerId as string, jb.peerId as string]);
    fuzzer.ws.send(frame, { binary: typeof frame !== 'string' });
    if (i % 100 === 0) {
      a.send({ type: 'offer', to: jb.peerId, sdp: `o${i}` });
      t.same(await nextFrom(b, 'offer', ja.peerId), {
        type: 'offer',
        from: ja.peerId,
        sdp: `o${i}`,
      });
    }
  }
  fuzzer.send({ type: 'ping', id: 'end' });
  // The fuzzer may have joined 'fz' and sent them things; those are documented frames too.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const f of [...a.frames, ...b.frames, ...fuzzer.frames]) checkFrame(t, JSON.stringify(f));
  t.equal(fuzzer.ws.readyState, fuzzer.ws.OPEN, 'the fuzzer itself is still connected');
  b.send({ type: 'answer', to: ja.peerId, sdp: 'final' });
  t.same(await nextFrom(a, 'answer', jb.peerId), { type: 'answer', from: jb.peerId, sdp: 'final' });
  for (const c of [a, b, fuzzer]) c.close();
});
