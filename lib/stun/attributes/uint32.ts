import type { StunAttribute, StunMessage } from '../message.js';

/** 32-bit unsigned values: LIFETIME (RFC 8656 §18.2), PRIORITY (RFC 8445 §16.1). */

/** The value bytes of a 32-bit unsigned attribute. Throws TypeError outside 0..2^32-1. */
export function encodeUint32(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TypeError(`invalid uint32 ${value}`);
  }
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/** Decodes a 32-bit unsigned value; undefined unless the length is exactly 4. */
export function decodeUint32(m: StunMessage, a: StunAttribute): number | undefined {
  return a.length === 4 ? m.buffer.readUInt32BE(a.offset) : undefined;
}

/** LIFETIME in seconds (RFC 8656 §18.2). */
export const decodeLifetime = decodeUint32;
export const encodeLifetime = encodeUint32;
