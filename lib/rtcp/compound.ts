import { PacketType, type RawRtcpPacket, RTCP_HEADER_LENGTH, RTCP_VERSION } from './header.js';

/**
 * Why `parseCompound` rejected a datagram. Stable codes, for counters and debug logs:
 * - `too-short`: fewer than 4 bytes, or a header with no room for its own length;
 * - `bad-version`: a packet whose version field is not 2 (RFC 3550 §6.4.1);
 * - `length-overflow`: a packet's length field runs past the datagram;
 * - `padding-not-last`: the P bit is set on a packet that is not the last (RFC 3550 §6.4.1);
 * - `bad-padding`: the padding count is 0 or larger than the packet body;
 * - `not-compound`: the first packet is not SR/RR and reduced-size RTCP is not allowed
 *   (RFC 3550 §6.1; RFC 5506 §3.1 lifts this only when rtcp-rsize was negotiated).
 */
export type CompoundError =
  | 'too-short'
  | 'bad-version'
  | 'length-overflow'
  | 'padding-not-last'
  | 'bad-padding'
  | 'not-compound';

export type CompoundResult =
  | { ok: true; packets: RawRtcpPacket[]; reducedSize: boolean }
  | { ok: false; reason: CompoundError };

export interface CompoundOptions {
  /**
   * Accept a datagram whose first packet is not SR or RR (RFC 5506 reduced-size RTCP, which
   * browsers send once `a=rtcp-rsize` is negotiated). Defaults to true.
   */
  allowReducedSize?: boolean;
}

/**
 * Splits a datagram into its RTCP packets without copying (RFC 3550 §6.1 and Appendix A.2).
 * The views stay valid while the caller keeps `buf` unchanged. Never throws.
 */
export function parseCompound(
  buf: Buffer,
  offset = 0,
  end = buf.length,
  options: CompoundOptions = {},
): CompoundResult {
  if (end > buf.length) end = buf.length;
  if (offset < 0 || end - offset < RTCP_HEADER_LENGTH) return { ok: false, reason: 'too-short' };
  const packets: RawRtcpPacket[] = [];
  let at = offset;
  while (at < end) {
    if (end - at < RTCP_HEADER_LENGTH) return { ok: false, reason: 'too-short' };
    const first = buf[at]!;
    if (first >> 6 !== RTCP_VERSION) return { ok: false, reason: 'bad-version' };
    const bytes = (buf.readUInt16BE(at + 2) + 1) * 4;
    if (at + bytes > end) return { ok: false, reason: 'length-overflow' };
    let bodyEnd = at + bytes;
    if (first & 0x20) {
      if (at + bytes !== end) return { ok: false, reason: 'padding-not-last' };
      const padding = buf[bodyEnd - 1]!;
      if (padding === 0 || padding > bytes - RTCP_HEADER_LENGTH) {
        return { ok: false, reason: 'bad-padding' };
      }
      bodyEnd -= padding;
    }
    packets.push({
      type: buf[at + 1]!,
      count: first & 0x1f,
      view: buf.subarray(at + RTCP_HEADER_LENGTH, bodyEnd),
    });
    at += bytes;
  }
  const leadType = packets[0]!.type;
  const reducedSize = leadType !== PacketType.SR && leadType !== PacketType.RR;
  if (reducedSize && options.allowReducedSize === false) {
    return { ok: false, reason: 'not-compound' };
  }
  return { ok: true, packets, reducedSize };
}

/**
 * Cheap demultiplexing test (RFC 5761 §4): version 2 and a second byte in 192..223, the
 * range RTCP packet types occupy when RTP and RTCP share a port.
 */
export function isRtcp(buf: Uint8Array, offset = 0): boolean {
  if (buf.length - offset < RTCP_HEADER_LENGTH) return false;
  return buf[offset]! >> 6 === RTCP_VERSION && buf[offset + 1]! >= 192 && buf[offset + 1]! <= 223;
}
