/**
 * What the room service tells a peer when it refuses a message: every failure of the layers
 * below (SDP, WHIP answer building, router limits, the ICE-lite mux) mapped to one
 * `RoomServiceErrorCode` of the contract (lib/signal/room-service.ts).
 */
import { IceLiteOptionsError } from '../ice/lite-options.js';
import { RoomServiceErrorCode } from '../signal/room-service.js';
import { WebRtcOptionsError } from '../webrtc/options.js';
import { SfuError, SfuErrorCode } from './errors.js';
import { WhipError } from './whip.js';

/** The contract's codes by name (a dependency-free file of lib/signal: the interface itself). */
export const roomServiceCodes = RoomServiceErrorCode;
export type RoomServiceErrorKey = keyof typeof roomServiceCodes;

/** A refusal raised inside the service, with the code the peer gets. */
export class RoomServiceError extends Error {
  constructor(
    readonly key: RoomServiceErrorKey,
    message: string,
  ) {
    super(message);
    this.name = 'RoomServiceError';
  }
}

// WhipError 422 codes that mean "nothing usable" rather than "not WebRTC SDP".
const NOT_ACCEPTABLE = new Set(['nothing-published', 'nothing-to-view']);

/** The code and message a peer gets for `err`. */
export function serviceError(err: unknown): { key: RoomServiceErrorKey; message: string } {
  if (err instanceof RoomServiceError) return { key: err.key, message: err.message };
  if (err instanceof WhipError) {
    if (err.status === 503) return { key: 'unavailable', message: err.message };
    const key = NOT_ACCEPTABLE.has(err.code) ? 'notAcceptable' : 'badSdp';
    return { key, message: `${err.code}: ${err.message}` };
  }
  if (err instanceof SfuError) {
    const key: RoomServiceErrorKey =
      err.code === SfuErrorCode.LIMIT
        ? 'limit'
        : err.code === SfuErrorCode.INVALID
          ? 'notAcceptable'
          : err.code === SfuErrorCode.DUPLICATE
            ? 'badSdp'
            : 'badState';
    return { key, message: err.message };
  }
  if (err instanceof IceLiteOptionsError && err.option === 'maxSessions') {
    return { key: 'limit', message: err.message };
  }
  if (err instanceof WebRtcOptionsError && err.option.startsWith('remote')) {
    return { key: 'badSdp', message: err.message };
  }
  return { key: 'internal', message: 'internal error' };
}
