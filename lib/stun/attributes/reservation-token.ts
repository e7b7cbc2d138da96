import type { StunAttribute, StunMessage } from '../message.js';

/** RESERVATION-TOKEN (RFC 8656 §18.9): 8 opaque bytes naming a reserved relay port. */

export const RESERVATION_TOKEN_LENGTH = 8;

/** Checks the token is 8 bytes and returns it (the value is the token itself). */
export function encodeReservationToken(token: Uint8Array): Uint8Array {
  if (token.length !== RESERVATION_TOKEN_LENGTH) {
    throw new TypeError('a RESERVATION-TOKEN is 8 bytes');
  }
  return token;
}

/** A view of the token (valid as long as the message buffer); undefined unless 8 bytes. */
export function decodeReservationToken(m: StunMessage, a: StunAttribute): Buffer | undefined {
  if (a.length !== RESERVATION_TOKEN_LENGTH) return undefined;
  return m.buffer.subarray(a.offset, a.offset + a.length);
}
