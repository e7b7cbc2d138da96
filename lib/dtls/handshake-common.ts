/**
 * What the client and server handshakes share: the transcript, the session keys, the peer
 * certificate checks, and the interface to the connection that carries their flights.
 */
import { type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { fingerprintMatches, publicKeyOf } from './certificate.js';
import type { CipherSuite } from './cipher-suites.js';
import { AlertDescription, ExtensionType } from './constants.js';
import { DtlsError, DtlsErrorCode } from './errors.js';
import { decodeRenegotiationInfo, type Extension, findExtension } from './extensions.js';
import type { FlightMessage } from './flight.js';
import type { HandshakeMessage } from './handshake.js';
import { decodeCertificate } from './messages/certificate.js';
import type { ResolvedDtlsOptions } from './options.js';

/** Keys agreed by the handshake: enough to derive the key block, Finished and exports. */
export interface SessionKeys {
  suite: CipherSuite;
  master: Buffer;
  clientRandom: Buffer;
  serverRandom: Buffer;
}

/** What a handshake asks of its connection. */
export interface HandshakeHost {
  readonly options: ResolvedDtlsOptions;
  /** Sends a flight now; `expectsReply` arms the retransmission timer. */
  sendFlight(messages: FlightMessage[], expectsReply: boolean, now: number): void;
  /** Derives the epoch 1 record keys (used after ChangeCipherSpec each way). */
  installKeys(keys: SessionKeys): void;
  /** The peer's ChangeCipherSpec has switched reading to epoch 1. */
  readonly readEpoch: number;
  /** The handshake is over (Finished verified both ways). */
  complete(now: number): void;
  /** Sends a warning alert (e.g. no_renegotiation) without closing. */
  sendWarning(description: number): void;
  /** Client after HelloVerifyRequest: the server restarts its epoch 0 record numbers. */
  restartEpoch0(): void;
}

export interface HandshakeDriver {
  /** Client: sends the first ClientHello. */
  start(now: number): void;
  /** One reassembled message, in message_seq order. Throws DtlsError to abort. */
  handle(msg: HandshakeMessage, now: number): void;
  /** True once our keys for epoch 1 exist (ChangeCipherSpec is acceptable). */
  readonly keysReady: boolean;
  /** The peer's certificate (DER, leaf) once received. */
  readonly remoteCertificate: Buffer | undefined;
  readonly srtpProfile: number | undefined;
  readonly keys: SessionKeys | undefined;
}

export function fatal(code: DtlsErrorCode, alert: number, message: string): DtlsError {
  return new DtlsError(code, message, alert);
}

export function unexpected(what: string): DtlsError {
  return fatal(DtlsErrorCode.unexpectedMessage, AlertDescription.unexpectedMessage, what);
}

export function decodeFailure(what: string): DtlsError {
  return fatal(DtlsErrorCode.decodeError, AlertDescription.decodeError, `malformed ${what}`);
}

export function newRandom(): Buffer {
  return randomBytes(32);
}

/** Constant-time equality of two verify_data values. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Decodes the peer's Certificate message, checks its fingerprint against the SDP's (RFC 8122
 * §5 / RFC 8827 §6.5: this is what authenticates a WebRTC peer) and returns its leaf and key.
 */
export function acceptPeerCertificate(
  options: ResolvedDtlsOptions,
  body: Buffer,
  keyType: 'ec' | 'rsa' | undefined,
): { der: Buffer; key: KeyObject } | undefined {
  const msg = decodeCertificate(body);
  if (msg === undefined) throw decodeFailure('Certificate');
  const der = msg.certificates[0];
  if (der === undefined) return undefined;
  const key = publicKeyOf(der);
  if (key === undefined) {
    throw fatal(
      DtlsErrorCode.badCertificate,
      AlertDescription.badCertificate,
      'unparsable certificate',
    );
  }
  if (keyType !== undefined && key.asymmetricKeyType !== keyType) {
    throw fatal(
      DtlsErrorCode.badCertificate,
      AlertDescription.unsupportedCertificate,
      `certificate key is ${key.asymmetricKeyType}, the cipher suite needs ${keyType}`,
    );
  }
  const expected = options.remoteFingerprints;
  if (expected !== undefined && expected.length > 0) {
    const match = expected.some((f) => fingerprintMatches(der, f.algorithm, f.value));
    if (!match) {
      throw fatal(
        DtlsErrorCode.fingerprintMismatch,
        AlertDescription.badCertificate,
        'peer certificate does not match the expected fingerprint',
      );
    }
  }
  return { der: Buffer.from(der), key: key };
}

/** extended_master_secret must be present (RFC 7627 §5.2; we refuse without it). */
export function requireExtendedMasterSecret(extensions: readonly Extension[]): void {
  const ems = findExtension(extensions, ExtensionType.extendedMasterSecret);
  if (ems === undefined) {
    throw fatal(
      DtlsErrorCode.noExtendedMasterSecret,
      AlertDescription.handshakeFailure,
      'peer did not negotiate extended_master_secret',
    );
  }
  if (ems.data.length !== 0) throw decodeFailure('extended_master_secret');
}

/** renegotiation_info, when present on an initial handshake, must be empty (RFC 5746 §3.4). */
export function checkRenegotiationInfo(extensions: readonly Extension[]): void {
  const ri = findExtension(extensions, ExtensionType.renegotiationInfo);
  if (ri === undefined) return;
  const v = decodeRenegotiationInfo(ri.data);
  if (v === undefined || v.length !== 0) {
    throw fatal(
      DtlsErrorCode.illegalParameter,
      AlertDescription.handshakeFailure,
      'renegotiation_info is not empty on an initial handshake',
    );
  }
}

/** Our schemes for our own key that the peer also accepts, ours first. */
export function pickSignatureScheme(
  ours: readonly number[],
  peer: readonly number[] | undefined,
): number | undefined {
  if (peer === undefined) return ours[0];
  return ours.find((s) => peer.includes(s));
}

export function handshakeMessage(
  epoch: number,
  msgType: number,
  messageSeq: number,
  body: Buffer,
): FlightMessage {
  return { kind: 'handshake', epoch, msgType, messageSeq, body };
}
