import { reasonPhrase } from '../constants.js';
import type { StunAttribute, StunMessage } from '../message.js';

/**
 * ERROR-CODE (RFC 8489 §14.8): 21 reserved bits, class (3 bits, 3..6), number (0..99),
 * then a UTF-8 reason phrase of fewer than 128 characters (763 bytes).
 */

export interface StunError {
  code: number;
  reason: string;
}

const MAX_REASON_BYTES = 763;

/** Throws TypeError unless 300 <= code <= 699. */
export function checkErrorCode(code: number): void {
  if (!Number.isInteger(code) || code < 300 || code > 699) {
    throw new TypeError(`error code must be an integer in 300..699, got ${code}`);
  }
}

/** Writes an ERROR-CODE value (measure it first with `errorCodeValueLength`). */
export function writeErrorCodeValue(
  out: Buffer,
  offset: number,
  code: number,
  reason: string,
): void {
  out[offset] = 0;
  out[offset + 1] = 0;
  out[offset + 2] = Math.floor(code / 100);
  out[offset + 3] = code % 100;
  out.write(reason, offset + 4, 'utf8');
}

/** Checks and measures an ERROR-CODE value: returns its length in bytes. */
export function errorCodeValueLength(code: number, reason: string): number {
  checkErrorCode(code);
  const n = Buffer.byteLength(reason, 'utf8');
  if (n > MAX_REASON_BYTES) throw new TypeError('error reason phrase is too long');
  return 4 + n;
}

/** The value bytes of an ERROR-CODE attribute; `reason` defaults to `reasonPhrase(code)`. */
export function encodeErrorCode(code: number, reason = reasonPhrase(code)): Buffer {
  const out = Buffer.allocUnsafe(errorCodeValueLength(code, reason));
  writeErrorCodeValue(out, 0, code, reason);
  return out;
}

/** Decodes ERROR-CODE; undefined if too short or long, class outside 3..6 or number > 99. */
export function decodeErrorCode(m: StunMessage, a: StunAttribute): StunError | undefined {
  if (a.length < 4 || a.length > 4 + MAX_REASON_BYTES) return undefined;
  const buf = m.buffer;
  const cls = buf[a.offset + 2]! & 0x07;
  const number = buf[a.offset + 3]!;
  if (cls < 3 || cls > 6 || number > 99) return undefined;
  // The reason is informative only: malformed UTF-8 is replaced, not a reason to lose the code.
  const reason = buf.toString('utf8', a.offset + 4, a.offset + a.length);
  return { code: cls * 100 + number, reason };
}
