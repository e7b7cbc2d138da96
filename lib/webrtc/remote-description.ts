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
  | 'missing-fingerprint'
  | 'bad-setup';

/** The section whose transport the BUNDLE group uses (its first mid; else the first live one). */
function transportSection(desc: SessionDescription): MediaSection | undefined {
  const first = bundleGroupsOf(desc)[0]?.[0];
  const live = desc.media.filter((m) => !isRejected(m));
  return live.find((m) => first !== undefined && midOf(m) === first) ?? live[0];
}

/**
 * The peer's ICE credentials, `a=setup` and fingerprints (media level, else session level,
 * RFC 8839 §5.4 / RFC 8122 §5). Fingerprints with hash functions we do not know are left out;
 * an offer with none left is refused (RFC 8827 §6.5: the peer must be authenticated).
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
  const fingerprints: RemoteFingerprint[] = [];
  for (const f of fingerprintsOf(m.lines, desc.session)) {
    const algorithm = f.algorithm.toLowerCase();
    const known = FINGERPRINT_ALGORITHMS.find((a): a is FingerprintAlgorithm => a === algorithm);
    if (known !== undefined) fingerprints.push({ algorithm: known, value: f.value });
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
 * mux's candidates.
 */
export function answerTransportOf(
  ep: WebRtcEndpoint,
  candidates: readonly string[],
): Pick<AnswerOptions, 'ice' | 'fingerprints' | 'setup' | 'candidates'> {
  return {
    ice: { ufrag: ep.localUfrag, pwd: ep.localPwd },
    fingerprints: [{ algorithm: 'sha-256', value: ep.localFingerprint }],
    setup: ep.options.preferredDtlsRole === 'client' ? 'active' : 'passive',
    candidates,
  };
}
