export { dtlsExportLength, keysFromDtlsExport } from './dtls-keys.js';
export { isSrtpError, type SrtpError, type SrtpErrorCode, SrtpErrors } from './errors.js';
export {
  deriveSessionKey,
  deriveSessionKeys,
  Label,
  type SessionKeySet,
  type SessionKeys,
  type SrtpKeys,
} from './key-derivation.js';
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
