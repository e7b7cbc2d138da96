/** Test vectors are written as spaced hex, one 32-bit word per group where it helps. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]+/g, ''), 'hex');
}
