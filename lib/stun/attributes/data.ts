import type { StunAttribute, StunMessage } from '../message.js';

/**
 * DATA (RFC 8656 §18.4): the application data of Send and Data indications, any length.
 * Decoding returns a view, not a copy: valid as long as the message buffer is unchanged, so
 * a relay can hand it straight to `socket.send`.
 */
export function decodeData(m: StunMessage, a: StunAttribute): Buffer {
  return m.buffer.subarray(a.offset, a.offset + a.length);
}
