import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AttributeType, HEADER_LENGTH } from './constants.js';
import type { StunAttribute, StunMessage } from './message.js';
import { preparePassword } from './password.js';

/** Bytes of a MESSAGE-INTEGRITY value (HMAC-SHA1, RFC 8489 §14.5). */
export const MESSAGE_INTEGRITY_LENGTH = 20;
/** Shortest MESSAGE-INTEGRITY-SHA256 value allowed (RFC 8489 §14.6); longest is 32. */
export const MESSAGE_INTEGRITY_SHA256_MIN_LENGTH = 16;

/** A password algorithm by name (RFC 8489 §18.5.1): MD5 or SHA-256 of the long-term key. */
export type PasswordAlgorithmName = 'md5' | 'sha256';

/**
 * Long-term credential key (RFC 8489 §9.2.2, §18.5.1):
 * `MD5|SHA-256(username ":" realm ":" password)` over UTF-8, with the password prepared by
 * `preparePassword`. Username and realm are used as given: pass them exactly as they appear
 * in USERNAME and REALM. `md5` (the default) is what every deployed TURN client uses.
 */
export function longTermKey(
  username: string,
  realm: string,
  password: string,
  algorithm: PasswordAlgorithmName = 'md5',
): Buffer {
  if (algorithm !== 'md5' && algorithm !== 'sha256') {
    throw new TypeError(`unsupported password algorithm ${String(algorithm)}`);
  }
  return createHash(algorithm)
    .update(`${username}:${realm}:${preparePassword(password)}`, 'utf8')
    .digest();
}

/** Short-term credential key (RFC 8489 §9.1.1): the prepared password's UTF-8 bytes. */
export function shortTermKey(password: string): Buffer {
  return Buffer.from(preparePassword(password), 'utf8');
}

/**
 * HMAC over the message bytes before attribute `a`, with the header length field replaced by
 * the length up to and including `a` (RFC 8489 §14.5/§14.6): what the sender hashed. Does
 * not modify the buffer.
 */
function integrityHmac(
  m: StunMessage,
  a: StunAttribute,
  algorithm: 'sha1' | 'sha256',
  key: Buffer,
): Buffer {
  const buf = m.buffer;
  const attributeStart = a.offset - 4;
  const lengthField = Buffer.allocUnsafe(2);
  lengthField.writeUInt16BE(a.offset + a.length - HEADER_LENGTH, 0);
  return createHmac(algorithm, key)
    .update(buf.subarray(0, 2))
    .update(lengthField)
    .update(buf.subarray(4, attributeStart))
    .digest();
}

/** True if `m` has a MESSAGE-INTEGRITY that is the HMAC-SHA1 of the message under `key`. */
export function verifyMessageIntegrity(m: StunMessage, key: Buffer): boolean {
  const a = m.get(AttributeType.MESSAGE_INTEGRITY);
  if (a === undefined || a.length !== MESSAGE_INTEGRITY_LENGTH) return false;
  const mac = integrityHmac(m, a, 'sha1', key);
  return timingSafeEqual(mac, m.buffer.subarray(a.offset, a.offset + a.length));
}

/**
 * True if `m` has a MESSAGE-INTEGRITY-SHA256 that matches under `key`. The value may be
 * truncated to 16..32 bytes in steps of 4 (RFC 8489 §14.6); other lengths fail.
 */
export function verifyMessageIntegritySha256(m: StunMessage, key: Buffer): boolean {
  const a = m.get(AttributeType.MESSAGE_INTEGRITY_SHA256);
  if (
    a === undefined ||
    a.length < MESSAGE_INTEGRITY_SHA256_MIN_LENGTH ||
    a.length > 32 ||
    a.length % 4 !== 0
  ) {
    return false;
  }
  const mac = integrityHmac(m, a, 'sha256', key).subarray(0, a.length);
  return timingSafeEqual(mac, m.buffer.subarray(a.offset, a.offset + a.length));
}
