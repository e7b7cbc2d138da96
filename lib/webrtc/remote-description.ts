/**
 * The glue between lib/sdp and a WebRtcEndpoint: the peer's transport parameters read from its
 * parsed offer or answer, and our transport parameters in the shape lib/sdp's `createAnswer`
 * takes. One BUNDLE group per endpoint (RFC 8843): its first section carries the transport.
 */
import { FINGERPRINT_ALGORITHMS, type FingerprintAlgorithm } from '../dtls/certificate.js';
import type { RemoteFingerprint } from '../dtls/options.js';
import type { AnswerOptions } from '../sdp/answer.js';
import type { MediaSection, SessionDescription } from '../sdp/description.js';
import { isRejected } from '../sdp/media.js';
import { bundleGroupsOf, midOf } from '../sdp/session.js';
import { fingerprintsOf, iceParametersOf, setupOf } from '../sdp/transport.js';
import type { WebRtcEndpoint } from './endpoint.js';
import type { WebRtcRemoteParameters } from './options.js';

/** Why `remoteParametersOf` found no usable transport in a description. */
export type RemoteDescriptionError =
  | 'no-media'
  | 'missing-ice-credentials'
  /** ufrag or pwd outside ice-char, or of the wrong length (RFC 8839 §5.4). */
  | 'bad-ice-credentials'
  | 'missing-fingerprint'
  /** A fingerprint of a known hash that is not colon-separated hex of its length (RFC 8122 §5). */
  | 'bad-fingerprint'
  | 'bad-setup';

/**
 * RFC 8839 §5.4: ice-ufrag = 4*256ice-char, ice-pwd = 22*256ice-char, ice-char = ALPHA / DIGIT /
 * "+" / "/". Refused here, so every front answers bad-sdp instead of ICE failing later.
 */
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^[A-Za-z0-9+/]{22,256}$/;

/** Bytes of each hash function's digest: a fingerprint is that many hex pairs (RFC 8122 §5). */
const DIGEST_BYTES: Readonly<Record<FingerprintAlgorithm, number>> = {
  'sha-1': 20,
  'sha-224': 28,
  'sha-256': 32,
  'sha-384': 48,
  'sha-512': 64,
};
const HEX_PAIRS = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/;

/** The section whose transport the BUNDLE group uses (its first mid; else the first live one). */
function transportSection(desc: SessionDescription): MediaSection | undefined {
  const first = bundleGroupsOf(desc)[0]?.[0];
  const live = desc.media.filter((m) => !isRejected(m));
  return live.find((m) => first !== undefined && midOf(m) === first) ?? live[0];
}

/**
 * The peer's ICE credentials, `a=setup` and fingerprints (media level, else session level,
 * RFC 8839 §5.4 / RFC 8122 §5). Fingerprints with hash functions we do not know are left out;
 * an offer with none left is refused (RFC 8827 §6.5: the peer must be authenticated). ICE
 * credentials outside ice-char and malformed fingerprints are refused with their own codes:
 * such a peer could never connect, and a session waiting for it would only time out.
 */
export function remoteParametersOf(
  desc: SessionDescription,
): { ok: true; value: WebRtcRemoteParameters } | { ok: false; error: RemoteDescriptionError } {
  const m = transportSection(desc);
  if (m === undefined) return { ok: false, error: 'no-media' };
  const ice = iceParametersOf(m.lines, desc.session);
  if (ice.ufrag === undefined || ice.pwd === undefined) {
    return { ok: false, error: 'missing-ice-credentials' };
  }
  if (!ICE_UFRAG.test(ice.ufrag) || !ICE_PWD.test(ice.pwd)) {
    return { ok: false, error: 'bad-ice-credentials' };
  }
  const fingerprints: RemoteFingerprint[] = [];
  for (const f of fingerprintsOf(m.lines, desc.session)) {
    const algorithm = f.algorithm.toLowerCase();
    const known = FINGERPRINT_ALGORITHMS.find((a): a is FingerprintAlgorithm => a === algorithm);
    if (known === undefined) continue;
    // n bytes are n hex pairs joined by n-1 colons.
    if (!HEX_PAIRS.test(f.value) || f.value.length !== DIGEST_BYTES[known] * 3 - 1) {
      return { ok: false, error: 'bad-fingerprint' };
    }
    fingerprints.push({ algorithm: known, value: f.value });
  }
  if (fingerprints.length === 0) return { ok: false, error: 'missing-fingerprint' };
  // RFC 4145 §4: an absent a=setup means active (the offerer connects).
  const setup = setupOf(m.lines, desc.session) ?? 'active';
  if (setup === 'holdconn') return { ok: false, error: 'bad-setup' };
  return { ok: true, value: { iceUfrag: ice.ufrag, icePwd: ice.pwd, setup, fingerprints } };
}

/**
 * Our side of the transport for `createAnswer`: ICE credentials, our sha-256 fingerprint,
 * the `a=setup` we answer an `actpass` with (the endpoint's DTLS role preference), and the
 * mux's candidates (as `sdpCandidateValues`: lib/sdp writes the `candidate:` itself).
 */
export function answerTransportOf(
  ep: WebRtcEndpoint,
  candidates: readonly string[],
): Pick<AnswerOptions, 'ice' | 'fingerprints' | 'setup' | 'candidates'> {
  return {
    ice: { ufrag: ep.localUfrag, pwd: ep.localPwd },
    fingerprints: [{ algorithm: 'sha-256', value: ep.localFingerprint }],
    setup: ep.options.preferredDtlsRole === 'client' ? 'active' : 'passive',
    candidates: sdpCandidateValues(candidates),
  };
}

/**
 * Candidates as lib/sdp's builders take them: the mux lists whole attribute values
 * (`candidate:1 1 udp …`) while createAnswer/createOffer add `candidate:` themselves, which
 * wrote `a=candidate:candidate:1 …` (Chromium tolerated it; RFC 8839 §5.1 does not).
 */
export function sdpCandidateValues(candidates: readonly string[]): string[] {
  return candidates.map((c) => (c.startsWith('candidate:') ? c.slice(10) : c));
}
