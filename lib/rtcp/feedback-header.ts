/**
 * The two SSRCs every RTPFB/PSFB message starts with (RFC 4585 §6.1), after the common header.
 */
export interface FeedbackHeader {
  /** SSRC of packet sender. */
  senderSsrc: number;
  /** SSRC of media source (0 when the message names its sources elsewhere, as FIR and REMB). */
  mediaSsrc: number;
}

export const FEEDBACK_HEADER_LENGTH = 8;

export function readFeedbackHeader(v: Buffer): FeedbackHeader | undefined {
  if (v.length < FEEDBACK_HEADER_LENGTH) return undefined;
  return { senderSsrc: v.readUInt32BE(0), mediaSsrc: v.readUInt32BE(4) };
}

export function writeFeedbackHeader(h: FeedbackHeader, out: Buffer, offset: number): void {
  out.writeUInt32BE(h.senderSsrc >>> 0, offset);
  out.writeUInt32BE(h.mediaSsrc >>> 0, offset + 4);
}
