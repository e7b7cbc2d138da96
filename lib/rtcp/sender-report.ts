import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';
import {
  REPORT_BLOCK_LENGTH,
  type ReportBlock,
  readReportBlock,
  writeReportBlock,
} from './report-block.js';

/** SR: sender report (RFC 3550 §6.4.1). */
export interface SenderReport {
  kind: 'sr';
  ssrc: number;
  /** 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low. */
  ntpTime: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
  /** Profile-specific extension after the report blocks, if any (a copy). */
  extension?: Buffer;
}

const SENDER_INFO_LENGTH = 24;

export function parseSenderReport(p: RawRtcpPacket): SenderReport | undefined {
  const v = p.view;
  const blocksEnd = SENDER_INFO_LENGTH + p.count * REPORT_BLOCK_LENGTH;
  if (p.type !== PacketType.SR || v.length < blocksEnd) return undefined;
  const reports: ReportBlock[] = [];
  for (let i = 0; i < p.count; i++) {
    reports.push(readReportBlock(v, SENDER_INFO_LENGTH + i * REPORT_BLOCK_LENGTH));
  }
  const sr: SenderReport = {
    kind: 'sr',
    ssrc: v.readUInt32BE(0),
    ntpTime: v.readBigUInt64BE(4),
    rtpTimestamp: v.readUInt32BE(12),
    packetCount: v.readUInt32BE(16),
    octetCount: v.readUInt32BE(20),
    reports,
  };
  if (v.length > blocksEnd) sr.extension = Buffer.from(v.subarray(blocksEnd));
  return sr;
}

function checkReports(reports: readonly ReportBlock[]): void {
  if (reports.length > 31) throw new TypeError('an SR or RR carries at most 31 report blocks');
}

export const senderReportEncoder = {
  size(sr: SenderReport): number {
    const ext = sr.extension?.length ?? 0;
    return (
      RTCP_HEADER_LENGTH + SENDER_INFO_LENGTH + sr.reports.length * REPORT_BLOCK_LENGTH + pad4(ext)
    );
  },
  write(sr: SenderReport, out: Buffer, offset: number): number {
    checkReports(sr.reports);
    const size = senderReportEncoder.size(sr);
    writeHeader(out, offset, PacketType.SR, sr.reports.length, size);
    let at = offset + RTCP_HEADER_LENGTH;
    out.writeUInt32BE(sr.ssrc >>> 0, at);
    out.writeBigUInt64BE(BigInt.asUintN(64, sr.ntpTime), at + 4);
    out.writeUInt32BE(sr.rtpTimestamp >>> 0, at + 12);
    out.writeUInt32BE(sr.packetCount >>> 0, at + 16);
    out.writeUInt32BE(sr.octetCount >>> 0, at + 20);
    at += SENDER_INFO_LENGTH;
    for (const block of sr.reports) {
      writeReportBlock(block, out, at);
      at += REPORT_BLOCK_LENGTH;
    }
    if (sr.extension) {
      sr.extension.copy(out, at);
      out.fill(0, at + sr.extension.length, offset + size);
    }
    return size;
  },
};
