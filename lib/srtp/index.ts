/**
 * SRTP and SRTCP (RFC 3711) with the AES-CM/HMAC-SHA1 profiles and AES-GCM (RFC 7714), keyed
 * from DTLS-SRTP (RFC 5764). Sans-IO: bytes in, bytes out, no clock.
 *
 * ```ts
 * const { local, remote } = keysFromDtlsExport('AEAD_AES_128_GCM', exported, 'server');
 * const tx = new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: local });
 * const rx = new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: remote, replayWindow: 1024 });
 * const n = rx.unprotectRtp(datagram, datagram.length, datagram); // in place
 * if (typeof n !== 'number') drop(n.error); // 'auth-failed' | 'replayed' | ...
 * ```
 */
export { dtlsExportLength, keysFromDtlsExport } from './dtls-keys.js';
export { isSrtpError, type SrtpError, type SrtpErrorCode, SrtpErrors } from './errors.js';
export {
  GhashSimdError,
  type GhashSimdErrorCode,
  ghashSimdAvailable,
  ghashSimdStats,
} from './ghash-simd.js';
export {
  deriveSessionKey,
  deriveSessionKeys,
  Label,
  type SessionKeySet,
  type SessionKeys,
  type SrtpKeys,
} from './key-derivation.js';
export { ecbResultReleaseEnabled, enableEcbResultRelease } from './keystream-runs.js';
export {
  profileById,
  profileParameters,
  SRTP_PROFILE_IDS,
  type SrtpProfileName,
  type SrtpProfileParameters,
} from './profiles.js';
export { estimateIndex, ReplayWindow } from './replay-window.js';
export {
  DEFAULT_MAX_STREAMS,
  DEFAULT_REPLAY_WINDOW,
  rtpHeaderLength,
  SrtpSession,
  type SrtpSessionOptions,
} from './session.js';
