import { createHash } from 'node:crypto';
import type { StunAttribute, StunMessage } from '../message.js';

/**
 * USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm), sent instead of USERNAME for
 * anonymity. RFC 8489 applies OpaqueString to both; like `longTermKey`, this hashes the
 * strings as given (in practice ASCII), so pass them as the client would send them.
 */

export const USERHASH_LENGTH = 32;

/** SHA-256 of `username:realm` in UTF-8. */
export function userhash(username: string, realm: string): Buffer {
  return createHash('sha256').update(`${username}:${realm}`, 'utf8').digest();
}

/** A view of the 32-byte hash; undefined for any other length. */
export function decodeUserhash(m: StunMessage, a: StunAttribute): Buffer | undefined {
  if (a.length !== USERHASH_LENGTH) return undefined;
  return m.buffer.subarray(a.offset, a.offset + a.length);
}
