import { reasonPhrase } from '../constants.js';
import type { StunAttribute, StunMessage } from '../message.js';
import { checkErrorCode } from './error-code.js';

/**
 * ADDRESS-ERROR-CODE (RFC 8656 §18.12): family (8 bits: 0x01 IPv4, 0x02 IPv6), 13 reserved
 * bits, class (3 bits), number (8 bits), reason phrase. Tells a dual-stack client which of
 * its two requested relayed addresses failed and why.
 */

export interface AddressError {
  family: 4 | 6;
  code: number;
  reason: string;
}

const MAX_REASON_BYTES = 763;

/** The value bytes of ADDRESS-ERROR-CODE. Throws TypeError on a bad family or code. */
export function encodeAddressErrorCode(
  family: 4 | 6,
  code: number,
  reason = reasonPhrase(code),
): Buffer {
  if (family !== 4 && family !== 6) throw new TypeError(`invalid address family ${family}`);
  checkErrorCode(code);
  const n = Buffer.byteLength(reason, 'utf8');
  if (n > MAX_REASON_BYTES) throw new TypeError('error reason phrase is too long');
  const out = Buffer.allocUnsafe(4 + n);
  out[0] = family === 4 ? 0x01 : 0x02;
  out[1] = 0;
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  out.write(reason, 4, 'utf8');
  return out;
}

/** Decodes ADDRESS-ERROR-CODE; undefined on a short value, bad family, class or number. */
export function decodeAddressErrorCode(m: StunMessage, a: StunAttribute): AddressError | undefined {
  if (a.length < 4 || a.length > 4 + MAX_REASON_BYTES) return undefined;
  const buf = m.buffer;
  const f = buf[a.offset];
  const family = f === 0x01 ? 4 : f === 0x02 ? 6 : undefined;
  const cls = buf[a.offset + 2]! & 0x07;
  const number = buf[a.offset + 3]!;
  if (family === undefined || cls < 3 || cls > 6 || number > 99) return undefined;
  const reason = buf.toString('utf8', a.offset + 4, a.offset + a.length);
  return { family, code: cls * 100 + number, reason };
}
