/**
 * The publish side's bookkeeping, sans-IO, on captured Chromium offers: each producer of
 * `answerPublish` paired with the mid of its section (by SSRC, or by rid for simulcast) and the
 * codec as negotiated (fmtp kept for subscribers' offers); whether a re-offer keeps the
 * transport (same ufrag, a fingerprint in common); with `allowEmpty` (room peers) sections that
 * send nothing are answered inactive and an offer publishing nothing is a transport alone.
 */
import t from 'tap';
import { directionOf, midOf, parse, type SessionDescription } from '../../lib/sdp/index.js';
import { publishedTracks, sameTransport, trackKey } from '../../lib/sfu/publish-offer.js';
import { answerPublish, WhipError } from '../../lib/sfu/whip.js';
import { sdpCandidateValues } from '../../lib/webrtc/remote-description.js';
import { CHROMIUM_GATHERED_OFFER, CHROMIUM_SIMULCAST_OFFER } from '../helpers/sdp-captures.js';

const FP = Array.from({ length: 32 }, () => 'CD').join(':');
const transport = {
  ice: { ufrag: 'srvU', pwd: 'serverPasswordOf22chars' },
  fingerprints: [{ algorithm: 'sha-256', value: FP }],
  setup: 'passive' as const,
  candidates: ['1 1 udp 2130706431 127.0.0.1 40000 typ host'],
};
const parsed = (sdp: string): SessionDescription => {
  const r = parse(sdp);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
};

t.test('producers of a camera + microphone offer paired with their mids', async (t) => {
  const offer = parsed(CHROMIUM_GATHERED_OFFER);
  const a = answerPublish(offer, transport);
  const tracks = publishedTracks(offer, a.sdp, a.producers);
  t.same(
    tracks.map((x) => [x.mid, x.options.kind]),
    [
      ['0', 'audio'],
      ['1', 'video'],
    ],
  );
  t.match(tracks[0]?.codec, { name: 'opus', clockRate: 48000, channels: 2 });
  t.match(tracks[0]?.codec.fmtp, /useinbandfec=1/, 'the negotiated fmtp is kept');
  t.not(trackKey(tracks[0]!.options), trackKey(tracks[1]!.options));
});

t.test('a rid simulcast section is paired by its rids', async (t) => {
  const offer = parsed(CHROMIUM_SIMULCAST_OFFER);
  const a = answerPublish(offer, transport);
  const tracks = publishedTracks(offer, a.sdp, a.producers);
  const video = tracks.find((x) => x.options.kind === 'video');
  t.equal(video?.mid, '1');
  t.same(
    video?.options.encodings.map((e) => e.rid),
    ['q', 'h', 'f'],
    'one encoding per rid, as answerPublish orders them',
  );
});

t.test('sameTransport: same ufrag and a fingerprint in common', async (t) => {
  const fp = { algorithm: 'sha-256' as const, value: 'AA:BB' };
  const base = { iceUfrag: 'u1', setup: 'actpass' as const, fingerprints: [fp] };
  t.ok(sameTransport(base, { ...base, fingerprints: [{ ...fp, value: 'aa:bb' }] }), 'case');
  t.notOk(sameTransport(base, { ...base, iceUfrag: 'u2' }), 'an ICE restart');
  t.notOk(sameTransport(base, { ...base, fingerprints: [{ ...fp, value: 'CC' }] }), 'new cert');
});

t.test('allowEmpty: a dropped section is answered inactive, not rejected', async (t) => {
  const offer = parsed(CHROMIUM_GATHERED_OFFER.replace('a=sendrecv', 'a=inactive'));
  const first = answerPublish(parsed(CHROMIUM_GATHERED_OFFER), transport);
  const a = answerPublish(offer, transport, { allowEmpty: true });
  t.equal(a.producers.length, 1, 'the section still sending publishes');
  const answer = parsed(a.sdp);
  t.equal(answer.media.length, parsed(first.sdp).media.length);
  for (const m of answer.media) t.not(m.port, 0, `mid ${midOf(m)} stays in the bundle`);
  t.match(a.sdp, /a=group:BUNDLE 0 1\r\n/);
  const dirs = answer.media.map((m) => directionOf(m, answer.session));
  t.ok(dirs.includes('inactive'), `the dropped section is inactive (${dirs.join(',')})`);
  const plain = parsed(answerPublish(offer, transport).sdp);
  t.ok(
    plain.media.some((m) => m.port === 0),
    'without the option (WHIP) the section is rejected',
  );
});

t.test('allowEmpty: an offer sending nothing gets a transport alone', async (t) => {
  const offer = parsed(CHROMIUM_GATHERED_OFFER.replace(/a=send(recv|only)/g, 'a=inactive'));
  t.throws(
    () => answerPublish(offer, transport),
    new WhipError(
      422,
      'nothing-published',
      'no audio or video section with an SSRC or rid simulcast',
    ),
    'WHIP keeps its 422',
  );
  const a = answerPublish(offer, transport, { allowEmpty: true });
  t.same(a.producers, [], 'no producer');
  const answer = parsed(a.sdp);
  t.same(
    answer.media.map((m) => [m.port !== 0, directionOf(m, answer.session)]),
    answer.media.map(() => [true, 'inactive']),
    'every section kept, inactive',
  );
  t.match(a.sdp, /a=ice-ufrag:srvU/, 'our ICE credentials');
  t.match(a.sdp, /a=fingerprint:sha-256 CD:/, 'our fingerprint');
  t.match(a.sdp, /a=candidate:1 1 udp/, 'our candidate');
});

t.test('candidates lose the candidate: prefix lib/sdp adds itself', async (t) => {
  t.same(
    sdpCandidateValues(['candidate:1 1 udp 1 127.0.0.1 9 typ host', '2 1 udp 1 ::1 9 typ host']),
    ['1 1 udp 1 127.0.0.1 9 typ host', '2 1 udp 1 ::1 9 typ host'],
  );
});
