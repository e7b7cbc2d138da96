/**
 * The RTCP common header (RFC 3550 §6.4.1) and the packet-type numbers this library knows.
 * Every codec here parses a packet's body from a `RawRtcpPacket` (the header already checked
 * by `parseCompound`) and writes a whole packet, header included.
 */

export const RTCP_VERSION = 2;
export const RTCP_HEADER_LENGTH = 4;

/** RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2). */
export const PacketType = {
  SR: 200,
  RR: 201,
  SDES: 202,
  BYE: 203,
  APP: 204,
  RTPFB: 205,
  PSFB: 206,
  XR: 207,
} as const;

/** Feedback message types: RTPFB FMT values (RFC 4585 §6.2, transport-cc draft §3.1). */
export const RtpfbFormat = { NACK: 1, TRANSPORT_CC: 15 } as const;

/** Feedback message types: PSFB FMT values (RFC 4585 §6.3, RFC 5104 §4.3). */
export const PsfbFormat = { PLI: 1, FIR: 4, AFB: 15 } as const;

/**
 * One RTCP packet of a compound datagram, undecoded. `view` is the packet's body: the bytes
 * after the 4-byte common header, padding excluded. It is a view of the received buffer and
 * stays valid while the caller keeps that buffer unchanged.
 */
export interface RawRtcpPacket {
  readonly type: number;
  /** The 5-bit field after V and P: report count, source count, subtype or FMT. */
  readonly count: number;
  readonly view: Buffer;
}

/**
 * Writes the common header for a packet of `totalBytes` (a multiple of 4) at `offset`, after
 * checking that the whole packet fits in `out` (every encoder calls this before its body).
 */
export function writeHeader(
  out: Buffer,
  offset: number,
  type: number,
  count: number,
  totalBytes: number,
  padding = false,
): void {
  if (totalBytes % 4 !== 0 || totalBytes < RTCP_HEADER_LENGTH) {
    throw new TypeError(`RTCP packet length ${totalBytes} is not a positive multiple of 4`);
  }
  if (count < 0 || count > 31) throw new TypeError(`RTCP count ${count} is out of 0..31`);
  if (totalBytes / 4 - 1 > 0xffff) throw new TypeError('an RTCP packet is at most 65536 words');
  if (offset < 0 || offset + totalBytes > out.length) {
    throw new RangeError(`${totalBytes} bytes at offset ${offset} do not fit in ${out.length}`);
  }
  out[offset] = (RTCP_VERSION << 6) | (padding ? 0x20 : 0) | count;
  out[offset + 1] = type;
  out.writeUInt16BE(totalBytes / 4 - 1, offset + 2);
}

/** Rounds `n` up to a multiple of 4. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** An encoder: how many bytes a packet takes, and writing it at an offset (returns bytes). */
export interface RtcpEncoder<T> {
  size(packet: T): number;
  write(packet: T, out: Buffer, offset: number): number;
}

/** Builds a fresh Buffer holding one packet. */
export function toBuffer<T>(encoder: RtcpEncoder<T>, packet: T): Buffer {
  const out = Buffer.alloc(encoder.size(packet));
  encoder.write(packet, out, 0);
  return out;
}
