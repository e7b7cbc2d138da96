import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';

/** BYE: goodbye (RFC 3550 §6.6). */
export interface Goodbye {
  kind: 'bye';
  ssrcs: number[];
  /** Reason for leaving, at most 255 bytes of UTF-8. */
  reason?: string;
}

export function parseGoodbye(p: RawRtcpPacket): Goodbye | undefined {
  const v = p.view;
  if (p.type !== PacketType.BYE || v.length < p.count * 4) return undefined;
  const ssrcs: number[] = [];
  for (let i = 0; i < p.count; i++) ssrcs.push(v.readUInt32BE(i * 4));
  const bye: Goodbye = { kind: 'bye', ssrcs };
  const at = p.count * 4;
  if (at < v.length) {
    const len = v[at]!;
    if (at + 1 + len > v.length) return undefined;
    bye.reason = v.toString('utf8', at + 1, at + 1 + len);
  }
  return bye;
}

export const goodbyeEncoder = {
  size(bye: Goodbye): number {
    const reason = bye.reason === undefined ? 0 : pad4(1 + Buffer.byteLength(bye.reason));
    return RTCP_HEADER_LENGTH + bye.ssrcs.length * 4 + reason;
  },
  write(bye: Goodbye, out: Buffer, offset: number): number {
    if (bye.ssrcs.length > 31) throw new TypeError('a BYE names at most 31 sources');
    const size = goodbyeEncoder.size(bye);
    writeHeader(out, offset, PacketType.BYE, bye.ssrcs.length, size);
    let at = offset + RTCP_HEADER_LENGTH;
    for (const ssrc of bye.ssrcs) {
      out.writeUInt32BE(ssrc >>> 0, at);
      at += 4;
    }
    if (bye.reason !== undefined) {
      const len = Buffer.byteLength(bye.reason);
      if (len > 255) throw new TypeError('a BYE reason is at most 255 bytes of UTF-8');
      out[at] = len;
      out.write(bye.reason, at + 1, 'utf8');
      out.fill(0, at + 1 + len, offset + size);
    }
    return size;
  },
};
