import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';

/** SDES item types (RFC 3550 §6.5). */
export const SdesItemType = {
  END: 0,
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;

export interface SdesItem {
  type: number;
  /** UTF-8 text, at most 255 bytes encoded. */
  text: string;
}

export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

/** SDES: source description (RFC 3550 §6.5). */
export interface SourceDescription {
  kind: 'sdes';
  chunks: SdesChunk[];
}

/** Reads one chunk at `at`; returns it and the offset of the next, or undefined if malformed. */
function readChunk(v: Buffer, at: number): { chunk: SdesChunk; next: number } | undefined {
  if (at + 4 > v.length) return undefined;
  const chunk: SdesChunk = { ssrc: v.readUInt32BE(at), items: [] };
  at += 4;
  for (;;) {
    if (at >= v.length) return undefined; // items must end with a null octet (§6.5)
    const type = v[at]!;
    if (type === SdesItemType.END) return { chunk, next: pad4(at + 1) };
    if (at + 2 > v.length) return undefined;
    const len = v[at + 1]!;
    if (at + 2 + len > v.length) return undefined;
    chunk.items.push({ type, text: v.toString('utf8', at + 2, at + 2 + len) });
    at += 2 + len;
  }
}

export function parseSourceDescription(p: RawRtcpPacket): SourceDescription | undefined {
  if (p.type !== PacketType.SDES) return undefined;
  const chunks: SdesChunk[] = [];
  let at = 0;
  for (let i = 0; i < p.count; i++) {
    const r = readChunk(p.view, at);
    if (!r) return undefined;
    chunks.push(r.chunk);
    at = r.next;
  }
  return { kind: 'sdes', chunks };
}

function chunkSize(chunk: SdesChunk): number {
  let n = 4;
  for (const item of chunk.items) n += 2 + Buffer.byteLength(item.text);
  return pad4(n + 1);
}

export const sourceDescriptionEncoder = {
  size(s: SourceDescription): number {
    let n = RTCP_HEADER_LENGTH;
    for (const chunk of s.chunks) n += chunkSize(chunk);
    return n;
  },
  write(s: SourceDescription, out: Buffer, offset: number): number {
    const size = sourceDescriptionEncoder.size(s);
    writeHeader(out, offset, PacketType.SDES, s.chunks.length, size);
    let at = offset + RTCP_HEADER_LENGTH;
    for (const chunk of s.chunks) {
      const end = at + chunkSize(chunk);
      out.writeUInt32BE(chunk.ssrc >>> 0, at);
      at += 4;
      for (const item of chunk.items) {
        if (item.type === SdesItemType.END || item.type > 255) {
          throw new TypeError(`SDES item type ${item.type} is not 1..255`);
        }
        const len = out.write(item.text, at + 2, 'utf8');
        if (len !== Buffer.byteLength(item.text) || len > 255) {
          throw new TypeError('an SDES item is at most 255 bytes of UTF-8');
        }
        out[at] = item.type;
        out[at + 1] = len;
        at += 2 + len;
      }
      out.fill(0, at, end);
      at = end;
    }
    return size;
  },
};
