/**
 * ChannelData messages (RFC 8656 §12.4): channel number (2 bytes), length (2 bytes), data.
 * Over UDP the data need not be padded; over TCP/TLS the message is padded to a multiple of
 * 4 bytes (§12.5), which `streamFrameLength` accounts for. Everything here reads by offset
 * and allocates nothing: it runs once per relayed packet.
 */

/** Lowest valid channel number (RFC 8656 §12). */
export const MIN_CHANNEL = 0x4000;
/** Highest valid channel number (RFC 8656 §12). */
export const MAX_CHANNEL = 0x4fff;
/**
 * Highest channel number of RFC 5766 §11 (0x4000-0x7FFF), which RFC 8656 narrowed to 0x4FFF
 * so that clients can demultiplex TURN from DTLS-SRTP (RFC 7983). Old clients, coturn's
 * `turnutils_uclient` among them, still pick numbers up to here; a server accepts them only
 * when told to (`legacyChannelNumbers`).
 */
export const LEGACY_MAX_CHANNEL = 0x7fff;
/** Bytes of the ChannelData header. */
export const CHANNEL_DATA_HEADER_LENGTH = 4;

/**
 * True if at least a 4-byte header is present at `offset` and its first byte is 0x40..0x4F,
 * i.e. the channel number is in the valid range (RFC 7983 demultiplexing for TURN). A TURN
 * server, which receives nothing but STUN and ChannelData from clients, takes the wider range
 * 0x40..0x7F (`isChannelDataFrame`) so that legacy channel numbers reach the channel lookup.
 */
export function isChannelData(buf: Uint8Array, offset = 0): boolean {
  return buf.length - offset >= CHANNEL_DATA_HEADER_LENGTH && (buf[offset]! & 0xf0) === 0x40;
}

/** True if at least 4 bytes are present and the first is 0x40..0x7F (RFC 5766 channels). */
export function isChannelDataFrame(buf: Uint8Array, offset = 0): boolean {
  return buf.length - offset >= CHANNEL_DATA_HEADER_LENGTH && (buf[offset]! & 0xc0) === 0x40;
}

/** The Length field (data bytes, unpadded) at `offset`, or undefined if fewer than 4 bytes. */
export function channelDataLength(buf: Uint8Array, offset = 0): number | undefined {
  if (offset < 0 || buf.length - offset < CHANNEL_DATA_HEADER_LENGTH) return undefined;
  return (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

/**
 * True if the byte at `offset` can start a frame on a TURN stream: a STUN message (top two
 * bits 00) or ChannelData (0x40..0x7F, the RFC 5766 range, so legacy clients frame too).
 * Anything else means the stream is out of sync or not TURN, and the connection should be
 * closed: `streamFrameLength` cannot tell that apart from "need more bytes" without this
 * check.
 */
export function isStreamFrameStart(buf: Uint8Array, offset = 0): boolean {
  if (offset < 0 || offset >= buf.length) return false;
  const b = buf[offset]!;
  return (b & 0xc0) === 0 || (b & 0xc0) === 0x40;
}

/**
 * Bytes one framed message occupies on a stream (TCP/TLS): ChannelData padded to 4
 * (4 + length rounded up), STUN 20 + length. Undefined if more bytes are needed to tell, and
 * also when the bytes at `offset` start neither kind of frame (see `isStreamFrameStart`) or
 * a STUN length is not a multiple of 4.
 */
export function streamFrameLength(buf: Uint8Array, offset: number): number | undefined {
  if (offset < 0 || buf.length - offset < 4) return undefined;
  const first = buf[offset]!;
  const length = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if ((first & 0xc0) === 0x40) return CHANNEL_DATA_HEADER_LENGTH + ((length + 3) & ~3);
  if ((first & 0xc0) === 0 && (length & 3) === 0) return 20 + length;
  return undefined;
}

/**
 * Writes a ChannelData header at `out[offset]`. Throws TypeError if `channel` is outside
 * 0x4000..0x4FFF, `length` outside 0..65535, or the header does not fit.
 */
export function writeChannelDataHeader(
  out: Uint8Array,
  offset: number,
  channel: number,
  length: number,
): void {
  if (!Number.isInteger(channel) || channel < MIN_CHANNEL || channel > MAX_CHANNEL) {
    throw new TypeError(`invalid channel number ${channel}`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new TypeError(`invalid ChannelData length ${length}`);
  }
  if (!Number.isInteger(offset) || offset < 0 || out.length - offset < CHANNEL_DATA_HEADER_LENGTH) {
    throw new TypeError('ChannelData header does not fit in the output buffer');
  }
  out[offset] = channel >> 8;
  out[offset + 1] = channel & 0xff;
  out[offset + 2] = length >> 8;
  out[offset + 3] = length & 0xff;
}
