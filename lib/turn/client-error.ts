/**
 * Stable codes of `TurnClientError`. Misuse of the API (a bad channel number, an address that is
 * not an IP literal) throws `TypeError` instead.
 */
export const TurnClientErrorCode = {
  /** No response within the RFC 8489 §6.2.1 schedule (UDP) or `timeoutMs` (TCP/TLS). */
  timeout: 'RTCD_TURN_CLIENT_TIMEOUT',
  /** The server answered with an error response; see `stunCode` and `stunReason`. */
  errorResponse: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
  /** The client was closed, or the server closed the TCP/TLS connection. */
  closed: 'RTCD_TURN_CLIENT_CLOSED',
  /** Connecting (DNS, TCP, TLS handshake) failed or timed out. */
  connect: 'RTCD_TURN_CLIENT_CONNECT',
  /**
   * A response to an authenticated request had a missing or wrong MESSAGE-INTEGRITY on a
   * reliable transport (RFC 8489 §9.2.5); on UDP such responses are dropped instead.
   */
  integrity: 'RTCD_TURN_CLIENT_INTEGRITY',
  /** A success response lacked an attribute the method requires (e.g. XOR-RELAYED-ADDRESS). */
  badResponse: 'RTCD_TURN_CLIENT_BAD_RESPONSE',
  /**
   * RFC 8489 §9.2.5 forbids retrying a 401/438: its nonce cookie announces password algorithms
   * but PASSWORD-ALGORITHMS is missing (a bid-down), or the server offers no algorithm in
   * `passwordAlgorithms` (or nothing at all, to a client without MD5). Carries `stunCode`.
   */
  passwordAlgorithms: 'RTCD_TURN_CLIENT_PASSWORD_ALGORITHMS',
  /** The server asked for credentials (401) and the client has none. */
  noCredentials: 'RTCD_TURN_CLIENT_NO_CREDENTIALS',
  /** Every channel number 0x4000–0x4FFF is bound already. */
  noChannel: 'RTCD_TURN_CLIENT_NO_CHANNEL',
  /** The transport failed after connecting (socket error). */
  transport: 'RTCD_TURN_CLIENT_TRANSPORT',
} as const;
export type TurnClientErrorCode = (typeof TurnClientErrorCode)[keyof typeof TurnClientErrorCode];

export interface TurnClientErrorOptions {
  /** STUN error code of an error response (e.g. 401, 437, 438). */
  stunCode?: number;
  /** Reason phrase of that error response, as the server sent it. */
  stunReason?: string;
  cause?: unknown;
}

export class TurnClientError extends Error {
  override readonly name = 'TurnClientError';
  readonly code: TurnClientErrorCode;
  readonly stunCode?: number;
  readonly stunReason?: string;

  constructor(code: TurnClientErrorCode, message: string, options: TurnClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.stunCode !== undefined) this.stunCode = options.stunCode;
    if (options.stunReason !== undefined) this.stunReason = options.stunReason;
  }
}
