import { MAGIC_COOKIE } from '../constants.js';
import type { StunAttribute, StunMessage } from '../message.js';
import { formatIp, type TransportAddress, writeIp } from '../transport-address.js';

/**
 * MAPPED-ADDRESS / ALTERNATE-SERVER (RFC 8489 §14.1, §14.15) and XOR-MAPPED-ADDRESS,
 * XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2, RFC 8656 §18.3, §18.5):
 * reserved byte, family (0x01 IPv4, 0x02 IPv6), port, 4 or 16 address bytes.
 */

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

/** Value length of an address attribute of `family`. */
export function addressValueLength(family: 4 | 6): number {
  return family === 4 ? 8 : 20;
}

/**
 * Writes the value of an address attribute at `out[offset]`. With `xorKey` (the 16 header
 * bytes cookie + transaction ID, i.e. `message[4..20)`) the port and address are XORed as
 * RFC 8489 §14.2 specifies. Throws TypeError if `a` is not a valid address.
 */
export function writeAddressValue(
  out: Uint8Array,
  offset: number,
  a: TransportAddress,
  xorKey?: Uint8Array,
): void {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new TypeError(`invalid port ${a.port}`);
  }
  if ((a.family !== 4 && a.family !== 6) || !writeIp(out, offset + 4, a.family, a.address)) {
    throw new TypeError(`invalid IPv${a.family} address ${JSON.stringify(a.address)}`);
  }
  out[offset] = 0;
  out[offset + 1] = a.family === 4 ? FAMILY_IPV4 : FAMILY_IPV6;
  const port = xorKey === undefined ? a.port : a.port ^ (MAGIC_COOKIE >>> 16);
  out[offset + 2] = port >> 8;
  out[offset + 3] = port & 0xff;
  if (xorKey !== undefined) {
    const n = a.family === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) out[offset + 4 + i]! ^= xorKey[i]!;
  }
}

/** The value bytes of a plain address attribute (MAPPED-ADDRESS, ALTERNATE-SERVER). */
export function encodeAddress(a: TransportAddress): Buffer {
  const out = Buffer.alloc(addressValueLength(a.family));
  writeAddressValue(out, 0, a);
  return out;
}

/** The value bytes of an XOR address attribute for the message with `transactionId`. */
export function encodeXorAddress(a: TransportAddress, transactionId: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(16);
  key.writeUInt32BE(MAGIC_COOKIE, 0);
  key.set(transactionId.subarray(0, 12), 4);
  const out = Buffer.alloc(addressValueLength(a.family));
  writeAddressValue(out, 0, a, key);
  return out;
}

// Reused for every decode: the address text is built from it before returning.
const scratch4 = new Uint8Array(4);
const scratch16 = new Uint8Array(16);

function readAddress(buf: Buffer, a: StunAttribute, xor: boolean): TransportAddress | undefined {
  if (a.length !== 8 && a.length !== 20) return undefined;
  const o = a.offset;
  const familyByte = buf[o + 1];
  const n = familyByte === FAMILY_IPV4 ? 4 : familyByte === FAMILY_IPV6 ? 16 : 0;
  if (n === 0 || a.length !== 4 + n) return undefined;
  let port = buf.readUInt16BE(o + 2);
  if (xor) port ^= MAGIC_COOKIE >>> 16;
  // XOR key: cookie + transaction ID = header bytes 4..20.
  const ip = n === 4 ? scratch4 : scratch16;
  for (let i = 0; i < n; i++) ip[i] = xor ? buf[o + 4 + i]! ^ buf[4 + i]! : buf[o + 4 + i]!;
  return { family: n === 4 ? 4 : 6, address: formatIp(ip), port };
}

/** Decodes MAPPED-ADDRESS-style values; undefined if length or family is wrong. */
export function decodeAddress(m: StunMessage, a: StunAttribute): TransportAddress | undefined {
  return readAddress(m.buffer, a, false);
}

/** Decodes XOR-*-ADDRESS values; undefined if length or family is wrong. */
export function decodeXorAddress(m: StunMessage, a: StunAttribute): TransportAddress | undefined {
  return readAddress(m.buffer, a, true);
}
