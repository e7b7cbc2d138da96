import * as zlib from 'node:zlib';
import { AttributeType, FINGERPRINT_XOR } from './constants.js';
import type { StunMessage } from './message.js';

// zlib.crc32 (native) exists from Node 20.15; older 20.x fall back to a table.
const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 (ISO 3309 / ITU-T V.42, as RFC 8489 §14.7 requires) of `buf[start..end)`. */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  const view = buf.subarray(start, end);
  if (nativeCrc32 !== undefined) return nativeCrc32(view) >>> 0;
  return crc32Portable(view);
}

/** The table-driven CRC-32, exported for tests that compare it with zlib's. */
export function crc32Portable(buf: Uint8Array): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The FINGERPRINT value for a message whose bytes before the attribute are `buf[0..end)`. */
export function fingerprintValue(buf: Uint8Array, end: number): number {
  return (crc32(buf, 0, end) ^ FINGERPRINT_XOR) >>> 0;
}

/**
 * True if `m` ends with a FINGERPRINT whose value is the CRC-32 of everything before it,
 * XOR 0x5354554e (RFC 8489 §14.7). The decoder already rejects attributes after FINGERPRINT,
 * so the header length field covers the FINGERPRINT, as the sender computed it.
 */
export function verifyFingerprint(m: StunMessage): boolean {
  const a = m.get(AttributeType.FINGERPRINT);
  if (a === undefined || a.length !== 4 || a.offset + 4 !== m.buffer.length) return false;
  return m.buffer.readUInt32BE(a.offset) === fingerprintValue(m.buffer, a.offset - 4);
}
