import {
  FEEDBACK_HEADER_LENGTH,
  type FeedbackHeader,
  readFeedbackHeader,
  writeFeedbackHeader,
} from './feedback-header.js';
import {
  PacketType,
  type RawRtcpPacket,
  RTCP_HEADER_LENGTH,
  RtpfbFormat,
  writeHeader,
} from './header.js';

/** One FCI entry: a lost packet ID and a bitmask of the 16 that follow (RFC 4585 §6.2.1). */
export interface NackPair {
  pid: number;
  /** Bit i set: packet pid + i + 1 is lost too. */
  blp: number;
}

/** Generic NACK (RTPFB FMT 1, RFC 4585 §6.2.1). */
export interface GenericNack extends FeedbackHeader {
  kind: 'nack';
  pairs: NackPair[];
}

export function parseGenericNack(p: RawRtcpPacket): GenericNack | undefined {
  if (p.type !== PacketType.RTPFB || p.count !== RtpfbFormat.NACK) return undefined;
  const h = readFeedbackHeader(p.view);
  const v = p.view;
  if (!h || (v.length - FEEDBACK_HEADER_LENGTH) % 4 !== 0) return undefined;
  const pairs: NackPair[] = [];
  for (let at = FEEDBACK_HEADER_LENGTH; at < v.length; at += 4) {
    pairs.push({ pid: v.readUInt16BE(at), blp: v.readUInt16BE(at + 2) });
  }
  return { kind: 'nack', ...h, pairs };
}

export const genericNackEncoder = {
  size(n: GenericNack): number {
    return RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH + n.pairs.length * 4;
  },
  write(n: GenericNack, out: Buffer, offset: number): number {
    const size = genericNackEncoder.size(n);
    writeHeader(out, offset, PacketType.RTPFB, RtpfbFormat.NACK, size);
    writeFeedbackHeader(n, out, offset + RTCP_HEADER_LENGTH);
    let at = offset + RTCP_HEADER_LENGTH + FEEDBACK_HEADER_LENGTH;
    for (const pair of n.pairs) {
      out.writeUInt16BE(pair.pid & 0xffff, at);
      out.writeUInt16BE(pair.blp & 0xffff, at + 2);
      at += 4;
    }
    return size;
  },
};

/**
 * Packs lost sequence numbers into PID+BLP pairs. Numbers are ordered by their signed distance
 * from the first one modulo 2^16, so a list that crosses 65535 → 0 packs as one run; the list
 * should span less than 32768. Duplicates are ignored.
 */
export function nackPairsFromSequences(sequences: readonly number[]): NackPair[] {
  if (sequences.length === 0) return [];
  const first = sequences[0]! & 0xffff;
  const distance = (s: number) => ((s - first + 0x8000) & 0xffff) - 0x8000;
  const ordered = sequences.map((s) => s & 0xffff);
  ordered.sort((a, b) => distance(a) - distance(b));
  const pairs: NackPair[] = [];
  let current: NackPair | undefined;
  for (const seq of ordered) {
    const diff = current ? (seq - current.pid) & 0xffff : -1;
    if (current && diff === 0) continue;
    if (current && diff <= 16) {
      current.blp |= 1 << (diff - 1);
    } else {
      current = { pid: seq, blp: 0 };
      pairs.push(current);
    }
  }
  return pairs;
}

/** Expands PID+BLP pairs into the sequence numbers they name, in order, wrapping at 2^16. */
export function sequencesFromNackPairs(pairs: readonly NackPair[]): number[] {
  const out: number[] = [];
  for (const { pid, blp } of pairs) {
    out.push(pid & 0xffff);
    for (let i = 0; i < 16; i++) if (blp & (1 << i)) out.push((pid + i + 1) & 0xffff);
  }
  return out;
}
