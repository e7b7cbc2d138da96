/**
 * Why unprotect (or protect) refused a packet. Stable codes, counted by callers; network input
 * never makes the session throw.
 * - `auth-failed`: the tag did not verify (forged, corrupted, or wrong keys).
 * - `replayed`: the index was already accepted, or is older than the replay window.
 * - `too-short`: shorter than its header plus trailer.
 * - `bad-header`: not RTP/RTCP version 2, or header fields overrun the packet.
 * - `stream-limit`: a new SSRC would exceed `maxStreams`.
 */
export type SrtpErrorCode =
  | 'auth-failed'
  | 'replayed'
  | 'too-short'
  | 'bad-header'
  | 'stream-limit';

export interface SrtpError {
  readonly error: SrtpErrorCode;
}

function frozen(error: SrtpErrorCode): SrtpError {
  return Object.freeze({ error });
}

/** Shared, frozen results so a rejected packet allocates nothing. */
export const SrtpErrors = Object.freeze({
  authFailed: frozen('auth-failed'),
  replayed: frozen('replayed'),
  tooShort: frozen('too-short'),
  badHeader: frozen('bad-header'),
  streamLimit: frozen('stream-limit'),
});

export function isSrtpError(r: number | SrtpError): r is SrtpError {
  return typeof r !== 'number';
}
