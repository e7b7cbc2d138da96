/**
 * RTX retransmission (RFC 4588 §4): the retransmitted packet carries the RTX stream's SSRC,
 * payload type and sequence number, the original's timestamp, marker, CSRCs and header
 * extensions, and the original sequence number (OSN) in the first two payload bytes.
 */
import type { RtpPacket } from './rtp-packet.js';

/** The identity of the stream a packet is rewritten to. */
export interface RtxStream {
  ssrc: number;
  payloadType: number;
}

/**
 * Writes `original` as an RTX packet into `out` at `offset` (not overlapping the original) and
 * returns its length. Padding is dropped (P cleared). Throws `RangeError` if `out` is too small.
 */
export function encapsulateRtx(
  original: RtpPacket,
  out: Uint8Array,
  offset: number,
  rtx: RtxStream & { sequenceNumber: number },
): number {
  const header = original.headerLength;
  const length = header + 2 + original.payloadLength;
  if (offset < 0 || offset + length > out.length) throw new RangeError('RTX: output too small');
  const src = original.buffer;
  out.set(src.subarray(original.offset, original.payloadOffset), offset);
  out[offset] = out[offset]! & ~0x20;
  out[offset + header] = src[original.offset + 2]!;
  out[offset + header + 1] = src[original.offset + 3]!;
  out.set(
    src.subarray(original.payloadOffset, original.payloadOffset + original.payloadLength),
    offset + header + 2,
  );
  writeIdentity(out, offset, rtx.payloadType, rtx.sequenceNumber, rtx.ssrc);
  return length;
}

/**
 * The original sequence number carried by an RTX packet, or -1 when its payload is shorter than
 * the OSN: libwebrtc sends padding-only RTX packets to probe bandwidth, with nothing to restore.
 */
export function rtxOriginalSequenceNumber(rtx: RtpPacket): number {
  if (rtx.payloadLength < 2) return -1;
  const b = rtx.buffer;
  return (b[rtx.payloadOffset]! << 8) | b[rtx.payloadOffset + 1]!;
}

/**
 * Restores the original packet from `rtx` into `out` at `offset` (may be the RTX packet's own
 * buffer at an offset not after the packet's: bytes only move down) with the original stream's SSRC and payload type, and returns
 * its length, or 0 when the RTX packet carries no OSN (see `rtxOriginalSequenceNumber`).
 */
export function decapsulateRtx(
  rtx: RtpPacket,
  out: Uint8Array,
  offset: number,
  original: RtxStream,
): number {
  const osn = rtxOriginalSequenceNumber(rtx);
  if (osn < 0) return 0;
  const header = rtx.headerLength;
  const length = header + rtx.payloadLength - 2;
  if (offset < 0 || offset + length > out.length) throw new RangeError('RTX: output too small');
  const src = rtx.buffer;
  // copyWithin (memmove) keeps this correct in the RTX packet's own buffer at offset ≤ its own.
  if (out === src) {
    out.copyWithin(offset, rtx.offset, rtx.payloadOffset);
    out.copyWithin(offset + header, rtx.payloadOffset + 2, rtx.payloadOffset + rtx.payloadLength);
  } else {
    out.set(src.subarray(rtx.offset, rtx.payloadOffset), offset);
    out.set(
      src.subarray(rtx.payloadOffset + 2, rtx.payloadOffset + rtx.payloadLength),
      offset + header,
    );
  }
  out[offset] = out[offset]! & ~0x20;
  writeIdentity(out, offset, original.payloadType, osn, original.ssrc);
  return length;
}

function writeIdentity(out: Uint8Array, at: number, pt: number, seq: number, ssrc: number): void {
  if (!(pt >= 0 && pt <= 127)) throw new RangeError('payload type 0-127');
  out[at + 1] = (out[at + 1]! & 0x80) | pt;
  out[at + 2] = (seq >> 8) & 0xff;
  out[at + 3] = seq & 0xff;
  out[at + 8] = (ssrc >>> 24) & 0xff;
  out[at + 9] = (ssrc >>> 16) & 0xff;
  out[at + 10] = (ssrc >>> 8) & 0xff;
  out[at + 11] = ssrc & 0xff;
}
