/**
 * DTLS 1.2 code points (RFC 6347 over RFC 5246, plus the extensions WebRTC uses). Versions are
 * the wire values (one's complement of the TLS ones): DTLS 1.0 = 0xfeff, 1.2 = 0xfefd,
 * 1.3 = 0xfefc.
 */

export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  helloVerifyRequest: 3,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

export const DTLS1_0 = 0xfeff;
export const DTLS1_2 = 0xfefd;
/** Offered by Chromium and Firefox in supported_versions; not negotiated here (yet). */
export const DTLS1_3 = 0xfefc;

export const ExtensionType = {
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  useSrtp: 14,
  extendedMasterSecret: 23,
  supportedVersions: 43,
  cookie: 44,
  keyShare: 51,
  renegotiationInfo: 0xff01,
} as const;
export type ExtensionType = (typeof ExtensionType)[keyof typeof ExtensionType];

export const AlertLevel = { warning: 1, fatal: 2 } as const;
export type AlertLevel = (typeof AlertLevel)[keyof typeof AlertLevel];

export const AlertDescription = {
  closeNotify: 0,
  unexpectedMessage: 10,
  badRecordMac: 20,
  recordOverflow: 22,
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateExpired: 45,
  certificateUnknown: 46,
  illegalParameter: 47,
  unknownCa: 48,
  accessDenied: 49,
  decodeError: 50,
  decryptError: 51,
  protocolVersion: 70,
  insufficientSecurity: 71,
  internalError: 80,
  userCanceled: 90,
  noRenegotiation: 100,
  unsupportedExtension: 110,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

/** ECPointFormat (RFC 8422 §5.1.2): only uncompressed is used. */
export const EcPointFormat = { uncompressed: 0 } as const;

/** ECCurveType (RFC 8422 §5.4): named_curve is the only one allowed. */
export const EcCurveType = { namedCurve: 3 } as const;

/** ClientCertificateType (RFC 5246 §7.4.4, RFC 8422 §5.5). */
export const ClientCertificateType = { rsaSign: 1, ecdsaSign: 64 } as const;

/** CompressionMethod null, the only one TLS 1.2 peers use. */
export const COMPRESSION_NULL = 0;

/** RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2). */
export const RECORD_HEADER_LENGTH = 13;
/** RFC 6347 §4.2.2: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3). */
export const HANDSHAKE_HEADER_LENGTH = 12;
/** RFC 5246 §6.2.3: a protected record's fragment may be at most 2^14 + 2048 bytes. */
export const MAX_RECORD_FRAGMENT = 16384 + 2048;
/** Largest 48-bit record sequence number. */
export const MAX_SEQUENCE_NUMBER = 2 ** 48 - 1;
