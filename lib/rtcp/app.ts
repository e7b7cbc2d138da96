import { PacketType, pad4, type RawRtcpPacket, RTCP_HEADER_LENGTH, writeHeader } from './header.js';

/** APP: application-defined (RFC 3550 §6.7). */
export interface ApplicationDefined {
  kind: 'app';
  subtype: number;
  ssrc: number;
  /** Four ASCII characters. */
  name: string;
  /** Application data (a copy); its length is a multiple of 4 on the wire. */
  data: Buffer;
}

export function parseApplicationDefined(p: RawRtcpPacket): ApplicationDefined | undefined {
  const v = p.view;
  if (p.type !== PacketType.APP || v.length < 8) return undefined;
  return {
    kind: 'app',
    subtype: p.count,
    ssrc: v.readUInt32BE(0),
    name: v.toString('latin1', 4, 8),
    data: Buffer.from(v.subarray(8)),
  };
}

export const applicationDefinedEncoder = {
  size(app: ApplicationDefined): number {
    return RTCP_HEADER_LENGTH + 8 + pad4(app.data.length);
  },
  write(app: ApplicationDefined, out: Buffer, offset: number): number {
    if (Buffer.byteLength(app.name, 'latin1') !== 4 || !/^[\x20-\x7e]{4}$/.test(app.name)) {
      throw new TypeError('an APP name is four ASCII characters');
    }
    const size = applicationDefinedEncoder.size(app);
    writeHeader(out, offset, PacketType.APP, app.subtype, size);
    out.writeUInt32BE(app.ssrc >>> 0, offset + 4);
    out.write(app.name, offset + 8, 'latin1');
    app.data.copy(out, offset + 12);
    out.fill(0, offset + 12 + app.data.length, offset + size);
    return size;
  },
};
