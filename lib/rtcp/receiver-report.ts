import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';
import {
  REPORT_BLOCK_LENGTH,
  type ReportBlock,
  readReportBlock,
  writeReportBlock,
} from './report-block.js';

/** RR: receiver report (RFC 3550 §6.4.2). */
export interface ReceiverReport {
  kind: 'rr';
  ssrc: number;
  reports: ReportBlock[];
  /** Profile-specific extension after the report blocks, if any (a copy). */
  extension?: Buffer;
}

export function parseReceiverReport(p: RawRtcpPacket): ReceiverReport | undefined {
  const v = p.view;
  const blocksEnd = 4 + p.count * REPORT_BLOCK_LENGTH;
  if (p.type !== PacketType.RR || v.length < blocksEnd) return undefined;
  const reports: ReportBlock[] = [];
  for (let i = 0; i < p.count; i++) reports.push(readReportBlock(v, 4 + i * REPORT_BLOCK_LENGTH));
  const rr: ReceiverReport = { kind: 'rr', ssrc: v.readUInt32BE(0), reports };
  if (v.length > blocksEnd) rr.extension = Buffer.from(v.subarray(blocksEnd));
  return rr;
}

export const receiverReportEncoder = {
  size(rr: ReceiverReport): number {
    return (
      RTCP_HEADER_LENGTH +
      4 +
      rr.reports.length * REPORT_BLOCK_LENGTH +
      pad4(rr.extension?.length ?? 0)
    );
  },
  write(rr: ReceiverReport, out: Buffer, offset: number): number {
    if (rr.reports.length > 31) throw new TypeError('an RR carries at most 31 report blocks');
    const size = receiverReportEncoder.size(rr);
    writeHeader(out, offset, PacketType.RR, rr.reports.length, size);
    out.writeUInt32BE(rr.ssrc >>> 0, offset + RTCP_HEADER_LENGTH);
    let at = offset + RTCP_HEADER_LENGTH + 4;
    for (const block of rr.reports) {
      writeReportBlock(block, out, at);
      at += REPORT_BLOCK_LENGTH;
    }
    if (rr.extension) {
      rr.extension.copy(out, at);
      out.fill(0, at + rr.extension.length, offset + size);
    }
    return size;
  },
};
