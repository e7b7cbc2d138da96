/**
 * The parser and every view against hostile text: random lines and mutated captures. Nothing
 * throws; whatever parses serializes to a fixed point, and CRLF input comes back unchanged.
 *   FUZZ_SEED=<seed> FUZZ_ITERATIONS=<n> npx tap spec/sdp/fuzz.spec.ts
 */
import t from 'tap';
import {
  bandwidthsOf,
  bundleGroupsOf,
  candidatesOf,
  codecsOf,
  createAnswer,
  DEFAULT_VIDEO_CODECS,
  directionOf,
  extmapsOf,
  fingerprintsOf,
  groupsOf,
  iceParametersOf,
  matchCodecs,
  maxMessageSizeOf,
  midOf,
  msidsOf,
  originOf,
  parse,
  ridsOf,
  rtcpFeedbackOf,
  type SessionDescription,
  sctpPortOf,
  serialize,
  setupOf,
  simulcastOf,
  ssrcGroupsOf,
  ssrcsOf,
} from '../../lib/sdp/index.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import {
  CHROMIUM_GATHERED_OFFER,
  CHROMIUM_RECVONLY_OFFER,
  CHROMIUM_SIMULCAST_OFFER,
  HANDWRITTEN_OFFER,
  WERIFT_OFFER,
} from '../helpers/sdp-captures.js';

const { seed, iterations } = fuzzSettings({ seed: 0x5d9, iterations: 30_000 });
const CAPTURES = [
  CHROMIUM_SIMULCAST_OFFER,
  CHROMIUM_GATHERED_OFFER,
  CHROMIUM_RECVONLY_OFFER,
  WERIFT_OFFER,
  HANDWRITTEN_OFFER,
];
const CAPTURE_LINES = CAPTURES.flatMap((c) => c.split('\r\n').filter((l) => l !== ''));
const ALPHABET = 'abcmostvx=:;,/~*- 0123456789\r\n\0\u00e9\ud800AZ';
const NAMES = [
  'rtpmap',
  'fmtp',
  'rtcp-fb',
  'extmap',
  'ssrc',
  'ssrc-group',
  'rid',
  'simulcast',
  'mid',
  'msid',
  'group',
  'fingerprint',
  'setup',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'sctp-port',
  'max-message-size',
  'candidate',
];
const HEADER = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n';

function junk(r: Random, max: number): string {
  let s = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) s += ALPHABET[r.int(ALPHABET.length)];
  return s;
}

/** A line that looks like SDP often enough to reach the views. */
function randomLine(r: Random): string {
  switch (r.int(5)) {
    case 0:
      return junk(r, 30);
    case 1:
      return r.pick(CAPTURE_LINES);
    case 2:
      return `a=${r.pick(NAMES)}:${junk(r, 25)}`;
    case 3:
      return `a=${r.pick(NAMES)}:${r.int(130)} ${junk(r, 20)}`;
    default:
      return `m=${r.pick(['audio', 'video', 'application'])} ${r.int(3) === 0 ? 0 : 9} ${r.pick(['UDP/TLS/RTP/SAVPF', 'UDP/DTLS/SCTP'])} ${r.int(128)} ${r.int(128)}`;
  }
}

function mutate(r: Random, text: string): string {
  const lines = text.split('\r\n');
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits; e++) {
    const i = r.int(lines.length);
    const line = lines[i] ?? '';
    switch (r.int(6)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, randomLine(r));
        break;
      case 2: {
        const at = r.int(line.length + 1);
        lines[i] = line.slice(0, at) + junk(r, 4) + line.slice(at + r.int(4));
        break;
      }
      case 3:
        lines[i] = line.slice(0, r.int(line.length + 1));
        break;
      case 4:
        lines.splice(r.int(lines.length), 0, line);
        break;
      default:
        lines[i] = line.replace(/\d+/, `${r.pick([0, 15, 65536, 4294967296, -1, 127, 128])}`);
    }
  }
  return lines.join(r.int(10) === 0 ? '\n' : '\r\n');
}

/** Every view, the codec model and the answer builder; none may throw. */
function exercise(d: SessionDescription): void {
  originOf(d);
  groupsOf(d);
  bundleGroupsOf(d);
  bandwidthsOf(d.session);
  for (const m of d.media) {
    midOf(m);
    msidsOf(m);
    directionOf(m, d.session);
    iceParametersOf(m.lines, d.session);
    fingerprintsOf(m.lines, d.session);
    setupOf(m.lines, d.session);
    candidatesOf(m.lines);
    extmapsOf(m.lines);
    rtcpFeedbackOf(m.lines);
    ssrcsOf(m.lines);
    ssrcGroupsOf(m.lines);
    ridsOf(m.lines);
    simulcastOf(m.lines);
    sctpPortOf(m);
    maxMessageSizeOf(m);
    bandwidthsOf(m.lines);
    matchCodecs(codecsOf(m), DEFAULT_VIDEO_CODECS);
  }
  const a = createAnswer(d, {
    ice: { ufrag: 'u', pwd: 'p' },
    fingerprints: [{ algorithm: 'sha-256', value: 'AA' }],
    sessionId: '1',
  });
  if (a.ok) {
    const again = parse(serialize(a.value));
    if (!again.ok) throw new Error(`our answer does not parse: ${again.error.code}`);
  }
}

t.test(`${iterations} mutated captures and random descriptions (seed ${seed})`, async (t) => {
  const r = new Random(seed);
  let parsed = 0;
  let failures = 0;
  for (let i = 0; i < iterations; i++) {
    let text: string;
    if (r.int(3) === 0) {
      const n = r.int(25);
      const body: string[] = [];
      for (let j = 0; j < n; j++) body.push(randomLine(r));
      text = HEADER + body.join('\r\n') + (r.chance(0.8) ? '\r\n' : '');
    } else {
      text = mutate(r, r.pick(CAPTURES));
    }
    const result = parse(text);
    if (!result.ok) {
      if (typeof result.error.code !== 'string' || result.error.line < 0) failures++;
      continue;
    }
    parsed++;
    const out = serialize(result.value);
    const re = parse(out);
    if (!re.ok || serialize(re.value) !== out) failures++;
    if (text.endsWith('\r\n') && !/(^|[^\r])\n/.test(text) && out !== text) failures++;
    if (i % 8 === 0) exercise(result.value);
  }
  t.equal(failures, 0, 'no failed property');
  t.ok(parsed > iterations / 10, `a fair share parses (${parsed})`);
});

t.test('random text and random lines (seed + 1)', async (t) => {
  const r = new Random(seed + 1);
  let failures = 0;
  const n = Math.max(1, Math.floor(iterations / 1.5));
  for (let i = 0; i < n; i++) {
    const text = r.chance(0.5) ? junk(r, 200) : `v=0\r\n${junk(r, 120)}`;
    const result = parse(text);
    if (result.ok) {
      exercise(result.value);
      if (parse(serialize(result.value)).ok !== true) failures++;
    } else if (result.error.line > text.split('\n').length + 1) failures++;
  }
  t.equal(failures, 0);
});
