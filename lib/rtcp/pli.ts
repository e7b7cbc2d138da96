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

/** Picture Loss Indication (PSFB FMT 1, RFC 4585 §6.3.1): no FCI. */
export interface PictureLossIndication extends FeedbackHeader {
  kind: 'pli';
}

export function parsePictureLossIndication(p: RawRtcpPacket): PictureLossIndication | undefined {
  if (p.type !== PacketType.PSFB || p.count !== PsfbFormat.PLI) return undefined;
  const h = readFeedbackHeader(p.view);
  return h ? { kind: 'pli', ...h } : undefined;
}

export const pictureLossIndicationEncoder = {
  size(_: PictureLossIndication): number {
    return RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH;
  },
  write(pli: PictureLossIndication, out: Buffer, offset: number): number {
    const size = RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH;
    writeHeader(out, offset, PacketType.PSFB, PsfbFormat.PLI, size);
    writeFeedbackHeader(pli, out, offset + RTCP_HEADER_LENGTH);
    return size;
  },
};
