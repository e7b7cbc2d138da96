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

/** One FIR FCI entry (RFC 5104 §4.3.1.1): the target SSRC and its command sequence number. */
export interface FirEntry {
  ssrc: number;
  sequenceNumber: number;
}

/** Full Intra Request (PSFB FMT 4, RFC 5104 §4.3.1); media SSRC is 0 by the RFC. */
export interface FullIntraRequest extends FeedbackHeader {
  kind: 'fir';
  entries: FirEntry[];
}

export function parseFullIntraRequest(p: RawRtcpPacket): FullIntraRequest | undefined {
  if (p.type !== PacketType.PSFB || p.count !== PsfbFormat.FIR) return undefined;
  const h = readFeedbackHeader(p.view);
  const v = p.view;
  if (!h || (v.length - FEEDBACK_HEADER_LENGTH) % 8 !== 0) return undefined;
  const entries: FirEntry[] = [];
  for (let at = FEEDBACK_HEADER_LENGTH; at < v.length; at += 8) {
    entries.push({ ssrc: v.readUInt32BE(at), sequenceNumber: v[at + 4]! });
  }
  return { kind: 'fir', ...h, entries };
}

export const fullIntraRequestEncoder = {
  size(fir: FullIntraRequest): number {
    return RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH + fir.entries.length * 8;
  },
  write(fir: FullIntraRequest, out: Buffer, offset: number): number {
    const size = fullIntraRequestEncoder.size(fir);
    writeHeader(out, offset, PacketType.PSFB, PsfbFormat.FIR, size);
    writeFeedbackHeader(fir, out, offset + RTCP_HEADER_LENGTH);
    let at = offset + RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH;
    for (const entry of fir.entries) {
      out.writeUInt32BE(entry.ssrc >>> 0, at);
      out.writeUInt32BE(((entry.sequenceNumber & 0xff) << 24) >>> 0, at + 4); // + reserved
      at += 8;
    }
    return size;
  },
};
