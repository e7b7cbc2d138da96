/**
 * Errors of the DTLS connection. Each has a stable `code` (never reworded) and, when the
 * connection sent or received an alert, its AlertDescription. Misuse of the API throws
 * TypeError instead; bad input from the network never throws out of the connection, it ends
 * in a `DtlsError` handed to the sink's `closed` callback.
 */

export const DtlsErrorCode = {
  /** No answer after `maxRetransmits` retransmissions of a flight. */
  handshakeTimeout: 'DTLS_ERR_HANDSHAKE_TIMEOUT',
  /** The peer sent a fatal alert (`alert` says which). */
  alertReceived: 'DTLS_ERR_ALERT_RECEIVED',
  /** A message arrived that the state machine does not expect now. */
  unexpectedMessage: 'DTLS_ERR_UNEXPECTED_MESSAGE',
  /** A handshake message or extension did not decode. */
  decodeError: 'DTLS_ERR_DECODE_ERROR',
  /** A field had a value the peer could not legally send (e.g. a group we did not offer). */
  illegalParameter: 'DTLS_ERR_ILLEGAL_PARAMETER',
  /** The server answered an extension we did not offer. */
  unsupportedExtension: 'DTLS_ERR_UNSUPPORTED_EXTENSION',
  /** The peer offered no DTLS version we speak (1.2). */
  protocolVersion: 'DTLS_ERR_PROTOCOL_VERSION',
  /** No cipher suite, group or signature scheme in common. */
  noCommonParameters: 'DTLS_ERR_NO_COMMON_PARAMETERS',
  /** The peer did not negotiate extended_master_secret (RFC 7627), which we require. */
  noExtendedMasterSecret: 'DTLS_ERR_NO_EXTENDED_MASTER_SECRET',
  /** The peer's certificate is missing, unparsable or of the wrong key type. */
  badCertificate: 'DTLS_ERR_BAD_CERTIFICATE',
  /** The peer's certificate does not match any of `remoteFingerprints`. */
  fingerprintMismatch: 'DTLS_ERR_FINGERPRINT_MISMATCH',
  /** The ServerKeyExchange signature does not verify with the server's certificate. */
  badServerKeyExchangeSignature: 'DTLS_ERR_BAD_SERVER_KEY_EXCHANGE_SIGNATURE',
  /** The CertificateVerify signature does not verify with the client's certificate. */
  badCertificateVerify: 'DTLS_ERR_BAD_CERTIFICATE_VERIFY',
  /** The peer's Finished verify_data is not what the transcript gives. */
  badFinished: 'DTLS_ERR_BAD_FINISHED',
  /** The peer's ECDHE public value is not a valid point. */
  badKeyShare: 'DTLS_ERR_BAD_KEY_SHARE',
  /** The peer tried to renegotiate (refused, RFC 5746 aside: WebRTC never renegotiates). */
  renegotiationRefused: 'DTLS_ERR_RENEGOTIATION_REFUSED',
  /** Our own failure (e.g. signing failed). */
  internalError: 'DTLS_ERR_INTERNAL',
  /** `send` on a connection that is not connected. */
  notConnected: 'DTLS_ERR_NOT_CONNECTED',
} as const;
export type DtlsErrorCode = (typeof DtlsErrorCode)[keyof typeof DtlsErrorCode];

export class DtlsError extends Error {
  override readonly name = 'DtlsError';

  constructor(
    readonly code: DtlsErrorCode,
    message: string,
    /** The AlertDescription sent (or received, for `alertReceived`). */
    readonly alert?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
