import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';

/** XR block types this library decodes (RFC 3611 §4.4, §4.5). */
export const XrBlockType = { RRTR: 4, DLRR: 5 } as const;

/** Receiver Reference Time Report block (RFC 3611 §4.4). */
export interface RrtrBlock {
  type: 4;
  /** 64-bit NTP timestamp of the report. */
  ntpTime: bigint;
}

/** One DLRR sub-block (RFC 3611 §4.5). */
export interface DlrrItem {
  ssrc: number;
  /** Middle 32 bits of the NTP time of the last RRTR received from `ssrc` (LRR). */
  lastReceiverReport: number;
  /** Delay since that RRTR (DLRR), in units of 1/65536 s. */
  delaySinceLastReceiverReport: number;
}

export interface DlrrBlock {
  type: 5;
  items: DlrrItem[];
}

/** A block of another type, kept as is: `body` is the bytes after its 4-byte header (a copy). */
export interface RawXrBlock {
  type: number;
  typeSpecific: number;
  body: Buffer;
}

export type XrBlock = RrtrBlock | DlrrBlock | RawXrBlock;

/** XR: extended reports (RFC 3611 §2). */
export interface ExtendedReport {
  kind: 'xr';
  ssrc: number;
  blocks: XrBlock[];
}

function readBlock(type: number, typeSpecific: number, body: Buffer): XrBlock | undefined {
  if (type === XrBlockType.RRTR) {
    return body.length === 8 ? { type, ntpTime: body.readBigUInt64BE(0) } : undefined;
  }
  if (type === XrBlockType.DLRR) {
    if (body.length % 12 !== 0) return undefined;
    const items: DlrrItem[] = [];
    for (let at = 0; at < body.length; at += 12) {
      items.push({
        ssrc: body.readUInt32BE(at),
        lastReceiverReport: body.readUInt32BE(at + 4),
        delaySinceLastReceiverReport: body.readUInt32BE(at + 8),
      });
    }
    return { type, items };
  }
  return { type, typeSpecific, body: Buffer.from(body) };
}

export function parseExtendedReport(p: RawRtcpPacket): ExtendedReport | undefined {
  const v = p.view;
  if (p.type !== PacketType.XR || v.length < 4) return undefined;
  const blocks: XrBlock[] = [];
  let at = 4;
  while (at < v.length) {
    if (at + 4 > v.length) return undefined;
    const end = at + 4 + v.readUInt16BE(at + 2) * 4;
    if (end > v.length) return undefined;
    const block = readBlock(v[at]!, v[at + 1]!, v.subarray(at + 4, end));
    if (!block) return undefined;
    blocks.push(block);
    at = end;
  }
  return { kind: 'xr', ssrc: v.readUInt32BE(0), blocks };
}

function blockBodySize(block: XrBlock): number {
  if ('ntpTime' in block) return 8;
  if ('items' in block) return block.items.length * 12;
  return pad4(block.body.length);
}

export const extendedReportEncoder = {
  size(xr: ExtendedReport): number {
    let n = RTCP_HEADER_LENGTH + 4;
    for (const block of xr.blocks) n += 4 + blockBodySize(block);
    return n;
  },
  write(xr: ExtendedReport, out: Buffer, offset: number): number {
    const size = extendedReportEncoder.size(xr);
    writeHeader(out, offset, PacketType.XR, 0, size);
    out.writeUInt32BE(xr.ssrc >>> 0, offset + RTCP_HEADER_LENGTH);
    let at = offset + RTCP_HEADER_LENGTH + 4;
    for (const block of xr.blocks) {
      const body = blockBodySize(block);
      if (body / 4 > 0xffff) throw new TypeError('an XR block is at most 65535 words');
      out[at] = block.type;
      out[at + 1] = 'typeSpecific' in block ? block.typeSpecific : 0;
      out.writeUInt16BE(body / 4, at + 2);
      at += 4;
      if ('ntpTime' in block) {
        out.writeBigUInt64BE(BigInt.asUintN(64, block.ntpTime), at);
      } else if ('items' in block) {
        for (let i = 0; i < block.items.length; i++) {
          const item = block.items[i]!;
          out.writeUInt32BE(item.ssrc >>> 0, at + i * 12);
          out.writeUInt32BE(item.lastReceiverReport >>> 0, at + i * 12 + 4);
          out.writeUInt32BE(item.delaySinceLastReceiverReport >>> 0, at + i * 12 + 8);
        }
      } else {
        block.body.copy(out, at);
        out.fill(0, at + block.body.length, at + body);
      }
      at += body;
    }
    return size;
  },
};
