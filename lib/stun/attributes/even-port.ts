import type { StunAttribute, StunMessage } from '../message.js';

/**
 * EVEN-PORT (RFC 8656 §18.6): one byte whose top bit R asks the server to also reserve the
 * next-higher port; the other 7 bits are RFFU and ignored.
 */

/** The value byte of EVEN-PORT with the R bit set to `reserveNext`. */
export function encodeEvenPort(reserveNext: boolean): Buffer {
  return Buffer.from([reserveNext ? 0x80 : 0x00]);
}

/** Decodes EVEN-PORT to its R bit; undefined unless the length is exactly 1. */
export function decodeEvenPort(m: StunMessage, a: StunAttribute): boolean | undefined {
  return a.length === 1 ? (m.buffer[a.offset]! & 0x80) !== 0 : undefined;
}
