import {
  AttributeType,
  decodeXorAddress,
  type StunMessage,
  type StunMessageBuilder,
  StunMethod,
} from '../stun/index.js';

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
