import type { StunAttribute, StunMessage } from '../message.js';
import type { TransportAddress } from '../transport-address.js';
import { decodeAddress, encodeAddress } from './address.js';
import { decodeString, StringLimit } from './string.js';

/**
 * ALTERNATE-SERVER (RFC 8489 §14.15: a MAPPED-ADDRESS-style address, not XORed) and
 * ALTERNATE-DOMAIN (§14.16: the DNS name to validate the alternate server's TLS certificate
 * against), both sent with 300 Try Alternate.
 */

export function encodeAlternateServer(a: TransportAddress): Buffer {
  return encodeAddress(a);
}

export function decodeAlternateServer(
  m: StunMessage,
  a: StunAttribute,
): TransportAddress | undefined {
  return decodeAddress(m, a);
}

/** The value bytes of ALTERNATE-DOMAIN. Throws TypeError if empty or over 255 bytes. */
export function encodeAlternateDomain(domain: string): Buffer {
  const out = Buffer.from(domain, 'utf8');
  if (out.length === 0 || out.length > StringLimit.ALTERNATE_DOMAIN) {
    throw new TypeError('ALTERNATE-DOMAIN must be 1..255 bytes');
  }
  return out;
}

/** Decodes ALTERNATE-DOMAIN; undefined if empty, over 255 bytes or not UTF-8. */
export function decodeAlternateDomain(m: StunMessage, a: StunAttribute): string | undefined {
  if (a.length === 0) return undefined;
  return decodeString(m, a, StringLimit.ALTERNATE_DOMAIN);
}
