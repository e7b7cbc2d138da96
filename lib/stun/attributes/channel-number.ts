import type { StunAttribute, StunMessage } from '../message.js';

/**
 * CHANNEL-NUMBER (RFC 8656 §18.1): 16-bit channel number, 16 bits RFFU. Range checks
 * (0x4000..0x4FFF) are TURN's business: the codec returns what was sent.
 */

/** The value bytes of CHANNEL-NUMBER. Throws TypeError outside 0..65535. */
export function encodeChannelNumber(channel: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
    throw new TypeError(`invalid channel number ${channel}`);
  }
  const out = Buffer.alloc(4);
  out.writeUInt16BE(channel, 0);
  return out;
}

/** Decodes CHANNEL-NUMBER; undefined unless the length is exactly 4. */
export function decodeChannelNumber(m: StunMessage, a: StunAttribute): number | undefined {
  return a.length === 4 ? m.buffer.readUInt16BE(a.offset) : undefined;
}
