import { AttributeType } from '../constants.js';
import type { StunAttribute, StunMessage } from '../message.js';
import { decodeAddress, decodeXorAddress } from './address.js';
import { decodeAddressErrorCode } from './address-error-code.js';
import { decodeAddressFamily } from './address-family.js';
import { decodeAlternateDomain } from './alternate.js';
import { decodeChannelNumber } from './channel-number.js';
import { decodeData } from './data.js';
import { decodeErrorCode } from './error-code.js';
import { decodeEvenPort } from './even-port.js';
import { decodeFlag } from './flag.js';
import { decodeTieBreaker } from './ice.js';
import { decodeIcmp } from './icmp.js';
import { decodePasswordAlgorithm, decodePasswordAlgorithms } from './password-algorithms.js';
import { decodeRequestedTransport } from './requested-transport.js';
import { decodeReservationToken } from './reservation-token.js';
import { decodeString, StringLimit } from './string.js';
import { decodeUint32 } from './uint32.js';
import { decodeUnknownAttributes } from './unknown-attributes.js';
import { decodeUserhash } from './userhash.js';

/**
 * One decoder per known attribute type, for generic consumers: debug logging
 * (`describeAttributes`), fuzzing, and tests that round-trip every type. Protocol code calls
 * the typed decoders directly.
 */
export type AttributeDecoder = (m: StunMessage, a: StunAttribute) => unknown;

const raw: AttributeDecoder = (m, a) => m.buffer.subarray(a.offset, a.offset + a.length);
const string =
  (max: number): AttributeDecoder =>
  (m, a) =>
    decodeString(m, a, max);

const T = AttributeType;
export const attributeDecoders: ReadonlyMap<number, AttributeDecoder> = new Map<
  number,
  AttributeDecoder
>([
  [T.MAPPED_ADDRESS, decodeAddress],
  [T.USERNAME, string(StringLimit.USERNAME)],
  [T.MESSAGE_INTEGRITY, raw],
  [T.ERROR_CODE, decodeErrorCode],
  [T.UNKNOWN_ATTRIBUTES, decodeUnknownAttributes],
  [T.CHANNEL_NUMBER, decodeChannelNumber],
  [T.LIFETIME, decodeUint32],
  [T.XOR_PEER_ADDRESS, decodeXorAddress],
  [T.DATA, decodeData],
  [T.REALM, string(StringLimit.REALM)],
  [T.NONCE, string(StringLimit.NONCE)],
  [T.XOR_RELAYED_ADDRESS, decodeXorAddress],
  [T.REQUESTED_ADDRESS_FAMILY, decodeAddressFamily],
  [T.EVEN_PORT, decodeEvenPort],
  [T.REQUESTED_TRANSPORT, decodeRequestedTransport],
  [T.DONT_FRAGMENT, decodeFlag],
  [T.MESSAGE_INTEGRITY_SHA256, raw],
  [T.PASSWORD_ALGORITHM, decodePasswordAlgorithm],
  [T.USERHASH, decodeUserhash],
  [T.XOR_MAPPED_ADDRESS, decodeXorAddress],
  [T.RESERVATION_TOKEN, decodeReservationToken],
  [T.PRIORITY, decodeUint32],
  [T.USE_CANDIDATE, decodeFlag],
  [T.ADDITIONAL_ADDRESS_FAMILY, decodeAddressFamily],
  [T.ADDRESS_ERROR_CODE, decodeAddressErrorCode],
  [T.PASSWORD_ALGORITHMS, decodePasswordAlgorithms],
  [T.ALTERNATE_DOMAIN, decodeAlternateDomain],
  [T.ICMP, decodeIcmp],
  [T.SOFTWARE, string(StringLimit.SOFTWARE)],
  [T.ALTERNATE_SERVER, decodeAddress],
  [T.FINGERPRINT, decodeUint32],
  [T.ICE_CONTROLLED, decodeTieBreaker],
  [T.ICE_CONTROLLING, decodeTieBreaker],
]);

const names = new Map<number, string>(
  Object.entries(AttributeType).map(([k, v]) => [v, k.replaceAll('_', '-')]),
);

/** The RFC name of an attribute type (`XOR-MAPPED-ADDRESS`), or `0x` hex for unknown ones. */
export function attributeName(type: number): string {
  return names.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}

/**
 * Decodes every attribute of `m` for logging: `[name, value]` pairs, with `undefined` for a
 * malformed value and a byte count for unknown types and DATA. Allocates: debug paths only.
 */
export function describeAttributes(m: StunMessage): [string, unknown][] {
  return m.attributes.map((a) => {
    const decode = attributeDecoders.get(a.type);
    const value =
      decode === undefined || a.type === AttributeType.DATA ? `${a.length} bytes` : decode(m, a);
    return [attributeName(a.type), value];
  });
}
