import type { StunAttribute, StunMessage } from '../message.js';

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): a list of 16-bit attribute types. */

/** The value bytes for `types` (2 bytes each; the builder pads an odd count). */
export function encodeUnknownAttributes(types: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(types.length * 2);
  types.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t > 0xffff) {
      throw new TypeError(`invalid attribute type ${t}`);
    }
    out.writeUInt16BE(t, i * 2);
  });
  return out;
}

/** Decodes UNKNOWN-ATTRIBUTES; undefined if the length is odd. */
export function decodeUnknownAttributes(m: StunMessage, a: StunAttribute): number[] | undefined {
  if (a.length % 2 !== 0) return undefined;
  const types: number[] = [];
  for (let o = a.offset; o < a.offset + a.length; o += 2) types.push(m.buffer.readUInt16BE(o));
  return types;
}
