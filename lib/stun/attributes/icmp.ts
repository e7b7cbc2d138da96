import type { StunAttribute, StunMessage } from '../message.js';

/**
 * ICMP (RFC 8656 §18.13), carried in Data indications when a peer's packet drew an ICMP
 * error: 16 reserved bits, ICMP type (7 bits), ICMP code (9 bits), 4 bytes of error data
 * (the next-hop MTU for "packet too big" / "fragmentation needed", else 0).
 *
 * The widths are the RFC's figure (the text gives none). They are odd next to ICMP's own
 * 8-bit fields, but every ICMP *error* type is below 128, so nothing is lost. Some
 * implementations write type and code as whole bytes 2 and 3 instead; a peer doing so
 * would decode differently here. rtcd follows the figure.
 */

export interface IcmpInfo {
  /** ICMP or ICMPv6 type, 0..127. */
  type: number;
  /** ICMP code, 0..511 on the wire (ICMP's own codes are 0..255). */
  code: number;
  /** Next-hop MTU for "packet too big" / "fragmentation needed", else 0. */
  errorData: number;
}

/** The value bytes of ICMP. Throws TypeError on out-of-range fields. */
export function encodeIcmp(info: IcmpInfo): Buffer {
  const { type, code, errorData } = info;
  if (!Number.isInteger(type) || type < 0 || type > 0x7f) throw new TypeError('bad ICMP type');
  if (!Number.isInteger(code) || code < 0 || code > 0x1ff) throw new TypeError('bad ICMP code');
  if (!Number.isInteger(errorData) || errorData < 0 || errorData > 0xffffffff) {
    throw new TypeError('bad ICMP error data');
  }
  const out = Buffer.alloc(8);
  out.writeUInt16BE((type << 9) | code, 2);
  out.writeUInt32BE(errorData, 4);
  return out;
}

/** Decodes ICMP; undefined unless the length is exactly 8. */
export function decodeIcmp(m: StunMessage, a: StunAttribute): IcmpInfo | undefined {
  if (a.length !== 8) return undefined;
  const bits = m.buffer.readUInt16BE(a.offset + 2);
  return { type: bits >> 9, code: bits & 0x1ff, errorData: m.buffer.readUInt32BE(a.offset + 4) };
}
