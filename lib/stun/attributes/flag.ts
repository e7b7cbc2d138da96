import type { StunAttribute, StunMessage } from '../message.js';

/**
 * Attributes whose presence is the whole message: USE-CANDIDATE (RFC 8445 §16.1) and
 * DONT-FRAGMENT (RFC 8656 §18.8). Their value is empty.
 */

/** The (empty) value of a flag attribute. */
export const EMPTY_VALUE: Uint8Array = new Uint8Array(0);

/** True for a well-formed (zero-length) flag attribute, undefined otherwise. */
export function decodeFlag(_m: StunMessage, a: StunAttribute): true | undefined {
  return a.length === 0 ? true : undefined;
}
