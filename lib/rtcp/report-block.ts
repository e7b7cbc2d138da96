/**
 * A reception report block (RFC 3550 §6.4.1), shared by SR and RR: 24 bytes.
 */
export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the last report, as a fixed-point number over 256. */
  fractionLost: number;
  /** Cumulative packets lost: signed 24-bit, negative when duplicates outnumber losses. */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | highest seq). */
  highestSequence: number;
  /** Interarrival jitter, in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR), 0 if none. */
  lastSenderReport: number;
  /** Delay since that SR (DLSR), in units of 1/65536 s. */
  delaySinceLastSenderReport: number;
}

export const REPORT_BLOCK_LENGTH = 24;

/** Reads a block at `offset`; the caller has checked that 24 bytes are there. */
export function readReportBlock(buf: Buffer, offset: number): ReportBlock {
  return {
    ssrc: buf.readUInt32BE(offset),
    fractionLost: buf[offset + 4]!,
    cumulativeLost: buf.readIntBE(offset + 5, 3),
    highestSequence: buf.readUInt32BE(offset + 8),
    jitter: buf.readUInt32BE(offset + 12),
    lastSenderReport: buf.readUInt32BE(offset + 16),
    delaySinceLastSenderReport: buf.readUInt32BE(offset + 20),
  };
}

/** Clamps the cumulative loss to the signed 24-bit range, as RFC 3550 §A.3 intends. */
function clampLost(n: number): number {
  return Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(n)));
}

export function writeReportBlock(block: ReportBlock, out: Buffer, offset: number): void {
  out.writeUInt32BE(block.ssrc >>> 0, offset);
  out[offset + 4] = block.fractionLost & 0xff;
  out.writeIntBE(clampLost(block.cumulativeLost), offset + 5, 3);
  out.writeUInt32BE(block.highestSequence >>> 0, offset + 8);
  out.writeUInt32BE(block.jitter >>> 0, offset + 12);
  out.writeUInt32BE(block.lastSenderReport >>> 0, offset + 16);
  out.writeUInt32BE(block.delaySinceLastSenderReport >>> 0, offset + 20);
}
