import {
  FEEDBACK_HEADER_LENGTH,
  type FeedbackHeader,
  readFeedbackHeader,
  writeFeedbackHeader,
} from './feedback-header.js';
import {
  PacketType,
  PsfbFormat,
  type RawRtcpPacket,
  RTCP_HEADER_LENGTH,
  writeHeader,
} from './header.js';

/** The unique identifier 'REMB' that marks an AFB message as REMB. */
const REMB_IDENTIFIER = 0x52454d42;

/**
 * Receiver Estimated Maximum Bitrate (PSFB FMT 15 "AFB", draft-alvestrand-rmcat-remb-03 §2.2).
 * Media SSRC is 0 by the draft; the sources the estimate applies to are in `ssrcs`.
 */
export interface ReceiverEstimatedMaximumBitrate extends FeedbackHeader {
  kind: 'remb';
  /** Bits per second, as exactly representable by an 18-bit mantissa and 6-bit exponent. */
  bitrate: number;
  ssrcs: number[];
}

/** True when an AFB packet body carries the 'REMB' identifier. */
export function isRemb(p: RawRtcpPacket): boolean {
  return (
    p.type === PacketType.PSFB &&
    p.count === PsfbFormat.AFB &&
    p.view.length >= 12 &&
    p.view.readUInt32BE(8) === REMB_IDENTIFIER
  );
}

export function parseRemb(p: RawRtcpPacket): ReceiverEstimatedMaximumBitrate | undefined {
  if (!isRemb(p)) return undefined;
  const v = p.view;
  const h = readFeedbackHeader(v);
  if (!h || v.length < 16) return undefined;
  const n = v[12]!;
  if (v.length < 16 + n * 4) return undefined;
  const exp = v[13]! >> 2;
  const mantissa = ((v[13]! & 0x03) << 16) | v.readUInt16BE(14);
  const ssrcs: number[] = [];
  for (let i = 0; i < n; i++) ssrcs.push(v.readUInt32BE(16 + i * 4));
  return { kind: 'remb', ...h, bitrate: mantissa * 2 ** exp, ssrcs };
}

/** Splits a bitrate into the draft's exponent and 18-bit mantissa, rounding down. */
export function rembExponentMantissa(bitrate: number): { exp: number; mantissa: number } {
  if (!(bitrate >= 0) || !Number.isFinite(bitrate)) {
    throw new TypeError(`REMB bitrate ${bitrate} is not a finite non-negative number`);
  }
  let exp = 0;
  let mantissa = Math.floor(bitrate);
  while (mantissa > 0x3ffff) {
    exp++;
    mantissa = Math.floor(bitrate / 2 ** exp);
  }
  if (exp > 63) throw new TypeError(`REMB bitrate ${bitrate} is too large`);
  return { exp, mantissa };
}

export const rembEncoder = {
  size(r: ReceiverEstimatedMaximumBitrate): number {
    return RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH + 8 + r.ssrcs.length * 4;
  },
  write(r: ReceiverEstimatedMaximumBitrate, out: Buffer, offset: number): number {
    if (r.ssrcs.length > 255) throw new TypeError('a REMB names at most 255 sources');
    const { exp, mantissa } = rembExponentMantissa(r.bitrate);
    const size = rembEncoder.size(r);
    writeHeader(out, offset, PacketType.PSFB, PsfbFormat.AFB, size);
    writeFeedbackHeader(r, out, offset + RTCP_HEADER_LENGTH);
    let at = offset + RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH;
    out.writeUInt32BE(REMB_IDENTIFIER, at);
    out[at + 4] = r.ssrcs.length;
    out[at + 5] = (exp << 2) | (mantissa >> 16);
    out.writeUInt16BE(mantissa & 0xffff, at + 6);
    at += 8;
    for (const ssrc of r.ssrcs) {
      out.writeUInt32BE(ssrc >>> 0, at);
      at += 4;
    }
    return size;
  },
};
