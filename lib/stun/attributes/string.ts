import { isUtf8 } from 'node:buffer';
import type { StunAttribute, StunMessage } from '../message.js';

/**
 * Byte limits of the UTF-8 string attributes. RFC 8489 says "fewer than 509 bytes" for
 * USERNAME (RFC 5389 said 513: accepted here for older clients) and "fewer than 128
 * characters (763 bytes)" for REALM, NONCE and SOFTWARE; ALTERNATE-DOMAIN is a DNS name
 * (RFC 8489 §14.16, at most 255 bytes).
 */
export const StringLimit = {
  USERNAME: 512,
  REALM: 763,
  NONCE: 763,
  SOFTWARE: 763,
  ALTERNATE_DOMAIN: 255,
} as const;

/**
 * Decodes a UTF-8 string attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN).
 * Undefined if the value exceeds `maxBytes` or is not valid UTF-8: a username with broken
 * UTF-8 must not be silently repaired into someone else's.
 */
export function decodeString(
  m: StunMessage,
  a: StunAttribute,
  maxBytes: number,
): string | undefined {
  if (a.length > maxBytes) return undefined;
  const view = m.buffer.subarray(a.offset, a.offset + a.length);
  if (!isUtf8(view)) return undefined;
  return view.toString('utf8');
}
