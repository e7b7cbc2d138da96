import type { StunAttribute, StunMessage } from '../message.js';
import { decodeUint32, encodeUint32 } from './uint32.js';

/**
 * ICE attributes (RFC 8445 §16.1): PRIORITY (uint32), USE-CANDIDATE (flag, see flag.ts),
 * ICE-CONTROLLED and ICE-CONTROLLING (a 64-bit tie-breaker, as bigint because it does not fit
 * in a double).
 */

export const decodePriority = decodeUint32;
export const encodePriority = encodeUint32;

const MAX_UINT64 = (1n << 64n) - 1n;

/** The value bytes of ICE-CONTROLLED/ICE-CONTROLLING. Throws TypeError outside 0..2^64-1. */
export function encodeTieBreaker(tieBreaker: bigint): Buffer {
  if (typeof tieBreaker !== 'bigint' || tieBreaker < 0n || tieBreaker > MAX_UINT64) {
    throw new TypeError('an ICE tie-breaker is an unsigned 64-bit bigint');
  }
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(tieBreaker, 0);
  return out;
}

/** Decodes ICE-CONTROLLED/ICE-CONTROLLING; undefined unless the length is exactly 8. */
export function decodeTieBreaker(m: StunMessage, a: StunAttribute): bigint | undefined {
  return a.length === 8 ? m.buffer.readBigUInt64BE(a.offset) : undefined;
}
