/**
 * Fuzz of the SfuServer's network inputs (seeded: `FUZZ_SEED=<n> FUZZ_ITERATIONS=<n>`):
 * random and mutated SDP bodies to WHIP/WHEP (only 201/400/404/413/415/422/503 with a JSON
 * error, never a 500 or a crash), every 201 DELETE-able; random, STUN-shaped and mutated-check
 * datagrams to the shared UDP port. Afterwards nothing is left behind and the server still
 * answers a real publish whose media a viewer receives.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { delay } from '../helpers/raw-stun.js';
import { BytePool, mutateMessage } from '../helpers/stun-mutations.js';
import { captureLogger, opusPacket, peerOffer, postSdp, startOpsSfu, until } from './ops-peer.js';

const { seed, iterations } = fuzzSettings({ seed: 0x5f0, iterations: 300 });
const rng = new Random(seed);
const { logger, lines: logLines } = captureLogger();
const { sfu, url, udp, connect } = await startOpsSfu(t, {
  logger,
  requestsPerSecond: 1e6,
  requestBurst: 1e6,
  maxBodyBytes: 8192,
});

// A room with a live publisher, so WHEP bodies reach the SDP code, not a 404.
await connect('/whip/fz', [{ kind: 'audio', ssrc: 77 }]);
const base = {
  whip: await peerOffer('sendonly', [
    { kind: 'audio', ssrc: 1 },
    { kind: 'video', ssrc: 2 },
  ]),
  whep: await peerOffer('recvonly', [{ kind: 'audio' }, { kind: 'video', rtx: true }]),
};

const JUNK_LINES = [
  'a=ssrc-group:FID 1',
  'a=rtpmap:96 VP8/0',
  'a=fmtp:97 apt=999',
  'a=extmap:0 urn:x',
  'a=extmap:4000 urn:ietf:params:rtp-hdrext:sdes:mid',
  'm=video 9 UDP/TLS/RTP/SAVPF',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=setup:holdconn',
  'a=fingerprint:sha-1 00',
  'a=simulcast:send a;b;c;d;e;f',
  'a=rid:a send max-width=-1',
  'a=group:BUNDLE 7 8 9',
  'a=ice-ufrag:',
  'a=mid:',
  'c=IN IP6 ::',
  'a=rtpmap:111 opus/48000/99',
  '\u0000\u0001\u0002',
  'a=ssrc:4294967296 cname:x',
];

/** 1-4 line-level or character-level mutations of a valid offer. */
function mutate(sdp: string): string {
  let lines = sdp.split('\r\n');
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const i = rng.int(lines.length);
    switch (rng.int(8)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, lines[rng.int(lines.length)]!);
        break;
      case 2: {
        const j = rng.int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        break;
      }
      case 3:
        lines.splice(i, 0, rng.pick(JUNK_LINES));
        break;
      case 4: {
        const l = lines[i] ?? '';
        const c = rng.int(l.length + 1);
        lines[i] = l.slice(0, c) + String.fromCharCode(rng.int(128)) + l.slice(c + 1);
        break;
      }
      case 5:
        lines[i] = (lines[i] ?? '').replace(/\d+/, String(rng.pick([0, -1, 65536, 2 ** 32, 1e20])));
        break;
      case 6:
        lines = lines.slice(0, i);
        break;
      default:
        lines[i] = (lines[i] ?? '').repeat(1 + rng.int(40));
    }
  }
  return lines.join(rng.chance(0.9) ? '\r\n' : '\n');
}

function body(kind: 'whip' | 'whep'): string {
  const r = rng.int(10);
  if (r === 0) return rng.bytes(rng.int(3000)).toString('latin1');
  if (r === 1) return rng.bytes(rng.int(3000)).toString('utf8');
  if (r === 2) return base[kind === 'whip' ? 'whep' : 'whip'];
  return mutate(base[kind]);
}

const ALLOWED = new Set([201, 400, 404, 413, 415, 422, 503]);

t.test(`${iterations} random and mutated offers (seed ${seed})`, async (t) => {
  const statuses: Record<number, number> = {};
  let bad = 0;
  for (let i = 0; i < iterations; i++) {
    const kind = rng.chance(0.5) ? 'whip' : 'whep';
    const room = rng.pick(['fz', 'fz', 'other', 'x'.repeat(1 + rng.int(140))]);
    const query = rng.chance(0.1) ? `?layer=${rng.pick(['0', '3', '-1', 'x', '9'])}` : '';
    const type = rng.chance(0.95) ? 'application/sdp' : rng.pick(['text/plain', '', 'sdp']);
    const res = await postSdp(`${url}/${kind}/${room}${query}`, body(kind), type);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.status === 201) {
      const del = await fetch(`${url}${res.headers.get('location')}`, { method: 'DELETE' });
      if (del.status !== 200) bad++;
      continue;
    }
    const text = await res.text();
    let error: unknown;
    try {
      error = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      error = undefined;
    }
    if (!ALLOWED.has(res.status) || typeof error !== 'string') {
      bad++;
      const why = logLines.find((l) => l.level === 'warn' && l.obj.err !== undefined)?.obj.err;
      t.fail(`iteration ${i}: ${res.status} ${text.slice(0, 200)} ${String(why)}`);
      if (why instanceof Error) t.comment(why.stack);
    }
  }
  t.equal(bad, 0, `statuses ${JSON.stringify(statuses)}`);
  t.ok((statuses[400] ?? 0) > 0 && (statuses[201] ?? 0) > 0, 'both refusals and sessions seen');
  t.equal(sfu.stats().http.errors.internal, undefined, 'no internal error');
  t.equal(sfu.resources.size, 1, 'only the anchor session is left');
  t.same([...sfu.router.rooms.keys()], ['fz'], 'only its room');
  t.equal(sfu.media().mux.counters().sessions, 1, 'and its ICE session');
});

t.test('random methods and paths get JSON errors, never a 500', async (t) => {
  const methods = ['GET', 'PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS', 'HEAD'];
  const paths = () =>
    rng.pick([
      `/whip/${rng.bytes(4).toString('hex')}`,
      `/resource/${rng.bytes(18).toString('hex').slice(0, 36)}`,
      '/resource/00000000-0000-0000-0000-000000000000',
      `/${encodeURIComponent(rng.bytes(rng.int(40)).toString('latin1'))}`,
      '/whep/%2e%2e/whip',
      '/whip/',
      `/whip/${'a'.repeat(129)}`,
    ]);
  let bad = 0;
  for (let i = 0; i < Math.ceil(iterations / 3); i++) {
    const method = rng.pick(methods);
    const res = await fetch(`${url}${paths()}`, { method });
    const text = await res.text();
    const ok =
      [200, 204, 404, 405, 415].includes(res.status) &&
      (method === 'HEAD' || res.status === 204 || /"error":"[a-z-]+"/.test(text));
    if (!ok) {
      bad++;
      t.fail(`${method}: ${res.status} ${text.slice(0, 120)}`);
    }
  }
  t.equal(bad, 0);
  t.equal(sfu.resources.size, 1, 'the anchor session untouched');
});

t.test('random and mutated datagrams to the shared UDP port', async (t) => {
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const pool = new BytePool(rng, 1 << 14);
  const before = sfu.media().mux.counters().packetsReceived;
  const check = () =>
    buildCheckRequest({
      localUfrag: 'fuzz',
      remoteUfrag: rng.chance(0.5) ? 'nosuchufrag' : 'x'.repeat(rng.int(600)),
      remotePwd: 'fuzz-password-0123456789',
      priority: rng.int(2 ** 32),
      role: rng.chance(0.5) ? 'controlling' : 'controlled',
      tieBreaker: BigInt(rng.int(2 ** 32)),
      useCandidate: rng.chance(0.5),
    });
  const total = iterations * 10;
  for (let i = 0; i < total; i++) {
    let d: Buffer;
    const r = rng.int(4);
    if (r === 0) d = rng.bytes(1 + rng.int(1400));
    else if (r === 1) d = mutateMessage(rng, check(), pool);
    else if (r === 2) d = check();
    else {
      d = rng.bytes(1 + rng.int(300));
      d[0] = rng.pick([0x00, 0x01, 0x16, 0x17, 0x40, 0x4f, 0x80, 0x90, 0xbf]);
    }
    if (d.length === 0) d = Buffer.from([0]);
    socket.send(d, udp.port, udp.address);
    if (i % 100 === 99) await delay(2); // let the SFU read, not the kernel drop
  }
  t.ok(
    await until(() => sfu.media().mux.counters().packetsReceived - before >= total * 0.9),
    'the SFU read them',
  );
  const c = sfu.media().mux.counters();
  const drops = Object.values(c.drops).reduce((a, b) => a + b, 0);
  t.ok(drops > 0, `dropped and counted: ${JSON.stringify(c.drops)}`);
  t.equal(c.connectedSessions, 1, 'no stranger got a session');
  t.equal(sfu.resources.size, 1);
});

t.test('afterwards a real publish still works end to end', async (t) => {
  const pub = await connect('/whip/after', [{ kind: 'audio', ssrc: 99 }]);
  const viewer = await connect('/whep/after', [{ kind: 'audio' }]);
  let seq = 0;
  const talk = setInterval(() => pub.peer.sendRtp(opusPacket(99, seq++)), 20);
  t.teardown(() => clearInterval(talk));
  t.ok(await until(() => viewer.peer.rtp.length >= 5), 'the viewer receives the publisher');
  t.equal(sfu.resources.size, 3);
});
