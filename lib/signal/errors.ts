/**
 * Error codes of the signaling protocol: the `code` of an `error` message on the WebSocket and
 * of `{"error":{"code"}}` on HTTP. Stable: clients switch on them.
 */
export const SignalErrorCode = {
  /** Not JSON, not an object, or a field of the wrong type or size. */
  badMessage: 'bad-message',
  /** A `type` the server does not know. */
  unknownType: 'unknown-type',
  /** A message that needs a room before `join`. */
  notJoined: 'not-joined',
  /** `join` on a connection that has joined already. */
  alreadyJoined: 'already-joined',
  /** `to` names no peer in the sender's room. */
  unknownPeer: 'unknown-peer',
  roomFull: 'room-full',
  /** The process holds `maxRooms` rooms and this join would open another. */
  tooManyRooms: 'too-many-rooms',
  rateLimited: 'rate-limited',
  messageTooLarge: 'message-too-large',
  unauthorized: 'unauthorized',
  forbiddenRoom: 'forbidden-room',
  /** The resume token is unknown or its grace period is over: join afresh. */
  resumeFailed: 'resume-failed',
  /** The store (Redis) cannot be reached: the message was not delivered. */
  redisUnavailable: 'redis-unavailable',
  /** `session-state` for a session that is not the sender's. */
  unknownSession: 'unknown-session',
  /** The server is shutting down. */
  shuttingDown: 'shutting-down',
  /** A join of the other session type than the room's (fixed by its first joiner). */
  roomTypeMismatch: 'room-type-mismatch',
  /** `publish`, `subscribe-answer` or `set-layer` from a peer that is not in an sfu room. */
  notSfuSession: 'not-sfu-session',
  /** No SFU is attached to this server, or its link is down: sfu rooms are unavailable. */
  sfuUnavailable: 'sfu-unavailable',
  notFound: 'not-found',
  methodNotAllowed: 'method-not-allowed',
  internal: 'internal',
} as const;
export type SignalErrorCode = (typeof SignalErrorCode)[keyof typeof SignalErrorCode];

/** WebSocket close codes (4000-4999 are the application's, RFC 6455 §7.4.2). */
export const CloseCode = {
  goingAway: 1001,
  /** The client does not read: more than `maxBufferedBytes` wait to be sent to it. */
  policyViolation: 1008,
  messageTooBig: 1009,
  unauthorized: 4401,
  forbiddenRoom: 4403,
  heartbeatTimeout: 4408,
  tooManyConnections: 4429,
} as const;

/** HTTP status of each error code on the HTTP API. */
export function httpStatus(code: SignalErrorCode): number {
  switch (code) {
    case 'unauthorized':
      return 401;
    case 'forbidden-room':
      return 403;
    case 'not-found':
    case 'unknown-peer':
    case 'unknown-session':
    case 'resume-failed':
      return 404;
    case 'method-not-allowed':
      return 405;
    case 'not-joined':
    case 'already-joined':
    case 'room-full':
    case 'room-type-mismatch':
    case 'not-sfu-session':
      return 409;
    case 'message-too-large':
      return 413;
    case 'rate-limited':
    case 'too-many-rooms':
      return 429;
    case 'internal':
      return 500;
    case 'redis-unavailable':
    case 'shutting-down':
    case 'sfu-unavailable':
      return 503;
    default:
      return 400;
  }
}

/** Thrown by `new SignalServer` for an invalid option; `field` names it. */
export class SignalOptionsError extends Error {
  readonly code = 'RTCD_SIGNAL_OPTIONS';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SignalOptionsError';
    this.field = field;
  }
}
