import net from 'node:net';
import {
  AttributeType,
  decodeAddress,
  decodeErrorCode,
  decodeLifetime,
  decodeReservationToken,
  decodeXorAddress,
  EMPTY_VALUE,
  encodeAddressFamily,
  encodeEvenPort,
  encodeRequestedTransport,
  StunClass,
  type StunMessage,
  type StunMessageBuilder,
  StunMethod,
  type TransportAddress,
  TransportProtocol,
} from '../stun/index.js';
import {
  type LearnOutcome,
  lacksAnnouncedAlgorithms,
  type SigningKey,
  verifyResponse,
} from './client-auth.js';
import { TurnClientError, TurnClientErrorCode } from './client-error.js';
import type { AllocateOptions, Allocation } from './client-options.js';

/** Attributes the client adds itself to every request (credentials, integrity, SOFTWARE…). */
const ADDED_BY_CLIENT: ReadonlySet<number> = new Set([
  AttributeType.USERNAME,
  AttributeType.USERHASH,
  AttributeType.REALM,
  AttributeType.NONCE,
  AttributeType.PASSWORD_ALGORITHM,
  AttributeType.PASSWORD_ALGORITHMS,
  AttributeType.MESSAGE_INTEGRITY,
  AttributeType.MESSAGE_INTEGRITY_SHA256,
  AttributeType.FINGERPRINT,
]);

/** XOR-encoded addresses depend on the transaction id: re-encode them for a new one. */
const XOR_ADDRESSES: ReadonlySet<number> = new Set([
  AttributeType.XOR_PEER_ADDRESS,
  AttributeType.XOR_RELAYED_ADDRESS,
  AttributeType.XOR_MAPPED_ADDRESS,
]);

/**
 * Copies the caller's attributes of `base` into `b` (a request with a new transaction id),
 * leaving out those the client adds itself and re-encoding XOR addresses.
 */
export function copyRequestAttributes(base: StunMessage, b: StunMessageBuilder): void {
  for (const a of base.attributes) {
    if (ADDED_BY_CLIENT.has(a.type)) continue;
    const address = XOR_ADDRESSES.has(a.type) ? decodeXorAddress(base, a) : undefined;
    if (address !== undefined) b.addXorAddress(a.type, address);
    else b.add(a.type, base.buffer.subarray(a.offset, a.offset + a.length));
  }
}

const METHOD_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(StunMethod).map(([name, value]) => [value, name]),
);

/** `allocate`, `refresh`… for messages; `method 0x123` for others. */
export function methodName(method: number): string {
  return METHOD_NAMES.get(method) ?? `method 0x${method.toString(16).padStart(3, '0')}`;
}

/**
 * RFC 8489 §9.2.5: a success response to a signed request must carry a valid integrity
 * attribute. Error responses may lack one, and 401/438 are not checked at all: they are
 * challenges, and after a wrong password the server cannot sign with the client's key.
 * Any other error response that is signed must be signed correctly.
 */
export function integrityAcceptable(m: StunMessage, signing: SigningKey): boolean {
  if (m.messageClass === StunClass.error) {
    const code = readError(m).code;
    if (code === 401 || code === 438) return true;
  }
  const verdict = verifyResponse(m, signing);
  if (verdict === 'ok') return true;
  if (verdict === 'bad') return false;
  return m.messageClass === StunClass.error;
}

/**
 * RFC 8489 §9.2.5: a response other than 401/438 whose NONCE has a cookie announcing password
 * algorithms, without PASSWORD-ALGORITHMS, "MUST be ignored" (dropped as if never received).
 * 401 and 438 reach `LongTermAuth.learn`, which refuses to retry them instead.
 */
export function ignoredForMissingAlgorithms(m: StunMessage): boolean {
  if (!m.has(AttributeType.NONCE)) return false;
  if (m.messageClass === StunClass.error) {
    const code = readError(m).code;
    if (code === 401 || code === 438) return false;
  }
  return lacksAnnouncedAlgorithms(m);
}

export function readLifetime(m: StunMessage): number | undefined {
  const a = m.get(AttributeType.LIFETIME);
  return a === undefined ? undefined : decodeLifetime(m, a);
}

export function readXorAddress(m: StunMessage, type: number): TransportAddress | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : decodeXorAddress(m, a);
}

export function readMappedAddress(m: StunMessage): TransportAddress | undefined {
  const a = m.get(AttributeType.MAPPED_ADDRESS);
  return a === undefined ? undefined : decodeAddress(m, a);
}

export function readError(m: StunMessage): { code: number; reason: string } {
  const a = m.get(AttributeType.ERROR_CODE);
  const error = a === undefined ? undefined : decodeErrorCode(m, a);
  return error ?? { code: 0, reason: 'error response without a valid ERROR-CODE' };
}

/** Misuse of `allocate`'s options is a TypeError, before anything is sent. */
export function checkAllocateOptions(o: AllocateOptions): void {
  if (o.lifetime !== undefined) checkUint32('lifetime', o.lifetime);
  if (o.family !== undefined && o.family !== 4 && o.family !== 6) {
    throw new TypeError('family must be 4 or 6');
  }
  if (o.reservationToken !== undefined && o.reservationToken.length !== 8) {
    throw new TypeError('a reservation token is 8 bytes');
  }
}

/** The attributes of an Allocate request (RFC 8656 §7.1) for `o`: a UDP relay. */
export function writeAllocate(b: StunMessageBuilder, o: AllocateOptions): void {
  b.add(AttributeType.REQUESTED_TRANSPORT, encodeRequestedTransport(TransportProtocol.UDP));
  if (o.lifetime !== undefined) b.addUint32(AttributeType.LIFETIME, o.lifetime);
  if (o.family !== undefined) {
    b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, encodeAddressFamily(o.family));
  }
  if (o.evenPort || o.reserve) b.add(AttributeType.EVEN_PORT, encodeEvenPort(o.reserve === true));
  if (o.reservationToken) b.add(AttributeType.RESERVATION_TOKEN, o.reservationToken);
  if (o.dontFragment) b.add(AttributeType.DONT_FRAGMENT, EMPTY_VALUE);
}

/** The allocation an Allocate success describes (RFC 8656 §7.3); `badResponse` if incomplete. */
export function readAllocation(m: StunMessage): Allocation {
  const relayed = readXorAddress(m, AttributeType.XOR_RELAYED_ADDRESS);
  const mapped = readXorAddress(m, AttributeType.XOR_MAPPED_ADDRESS);
  const lifetime = readLifetime(m);
  if (relayed === undefined) throw badResponse('allocate', 'XOR-RELAYED-ADDRESS');
  if (mapped === undefined) throw badResponse('allocate', 'XOR-MAPPED-ADDRESS');
  if (lifetime === undefined) throw badResponse('allocate', 'LIFETIME');
  const tokenAttribute = m.get(AttributeType.RESERVATION_TOKEN);
  const token = tokenAttribute && decodeReservationToken(m, tokenAttribute);
  return {
    relayed,
    mapped,
    lifetime,
    // A copy: the response's buffer is the transport's, the token outlives it.
    ...(token === undefined ? {} : { reservationToken: Buffer.from(token) }),
  };
}

const ALGORITHM_FAILURES: Partial<Record<LearnOutcome, string>> = {
  'password-algorithms-missing':
    'the nonce cookie announces password algorithms but PASSWORD-ALGORITHMS is missing',
  'no-supported-password-algorithm': 'the server offers no password algorithm the client supports',
};

/**
 * The error a request ends with after error response `error` (no 401/438 retry left, or
 * `learned` from it forbids one): `RTCD_TURN_CLIENT_PASSWORD_ALGORITHMS` when RFC 8489 §9.2.5
 * forbids the retry, `RTCD_TURN_CLIENT_NO_CREDENTIALS` for a 401 to a client without
 * credentials, else `RTCD_TURN_CLIENT_ERROR_RESPONSE`; all carry the STUN code and reason.
 */
export function errorResponseError(
  method: string,
  error: { code: number; reason: string },
  hasCredentials: boolean,
  learned?: LearnOutcome,
): TurnClientError {
  const details = { stunCode: error.code, stunReason: error.reason };
  const algorithmFailure = learned && ALGORITHM_FAILURES[learned];
  if (algorithmFailure !== undefined) {
    return new TurnClientError(
      TurnClientErrorCode.passwordAlgorithms,
      `${method}: ${error.code} and ${algorithmFailure}`,
      details,
    );
  }
  if (error.code === 401 && !hasCredentials) {
    return new TurnClientError(
      TurnClientErrorCode.noCredentials,
      `${method}: the server asks for credentials and none were given`,
      details,
    );
  }
  return new TurnClientError(
    TurnClientErrorCode.errorResponse,
    `${method} failed: ${error.code} ${error.reason}`,
    details,
  );
}

export function badResponse(method: string, missing: string): TurnClientError {
  return new TurnClientError(
    TurnClientErrorCode.badResponse,
    `${method}: success response without ${missing}`,
  );
}

export function closedError(): TurnClientError {
  return new TurnClientError(TurnClientErrorCode.closed, 'the TURN client is closed');
}

export function checkUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TypeError(`${name} must be an integer in 0..2^32-1, got ${value}`);
  }
}

export function toTransportAddress(
  peer: string | TransportAddress,
  port: number,
): TransportAddress {
  const address = typeof peer === 'string' ? peer : peer.address;
  const family = net.isIP(address);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new TypeError(`invalid port ${port}`);
  }
  return { family: family === 6 ? 6 : 4, address, port };
}
