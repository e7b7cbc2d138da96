import { MAX_RECORD_FRAGMENT, RECORD_HEADER_LENGTH } from './constants.js';

/**
 * One DTLS record (RFC 6347 §4.1). `fragment` is a view into the datagram: valid while the
 * caller leaves the received buffer unchanged.
 */
export interface DtlsRecord {
  type: number;
  version: number;
  epoch: number;
  /** 48-bit record sequence number, exact as a JS number (< 2^53). */
  sequenceNumber: number;
  fragment: Buffer;
}

export type DtlsRecordHeader = Omit<DtlsRecord, 'fragment'>;

/**
 * Reads the record at `offset`. Undefined when the header is truncated, the length runs past
 * the datagram or exceeds 2^14 + 2048 (RFC 5246 §6.2.3), the type is not a DTLS 1.2 content
 * type (20..31: 32..63 is the DTLS 1.3 unified header, RFC 9147 §4), or the version's major
 * byte is not 0xfe (every DTLS version: 0xfeff, 0xfefd, 0xfefc).
 */
export function readRecord(
  datagram: Buffer,
  offset: number,
): { record: DtlsRecord; next: number } | undefined {
  if (datagram.length - offset < RECORD_HEADER_LENGTH) return undefined;
  const type = datagram[offset]!;
  if (type < 20 || type > 31) return undefined;
  const version = datagram.readUInt16BE(offset + 1);
  if (version >>> 8 !== 0xfe) return undefined;
  const length = datagram.readUInt16BE(offset + 11);
  const start = offset + RECORD_HEADER_LENGTH;
  if (length > MAX_RECORD_FRAGMENT || start + length > datagram.length) return undefined;
  return {
    record: {
      type,
      version,
      epoch: datagram.readUInt16BE(offset + 3),
      sequenceNumber: datagram.readUIntBE(offset + 5, 6),
      fragment: datagram.subarray(start, start + length),
    },
    next: start + length,
  };
}

/**
 * The records of one datagram, in order (RFC 6347 §4.1.1: a datagram may carry several).
 * Stops at the first malformed record: RFC 6347 §4.1.2.7 lets a receiver discard the rest of
 * a datagram it cannot parse, and a length that lies leaves no safe place to resume.
 */
export function* readRecords(datagram: Buffer): Generator<DtlsRecord> {
  let offset = 0;
  while (offset < datagram.length) {
    const r = readRecord(datagram, offset);
    if (!r) return;
    yield r.record;
    offset = r.next;
  }
}

/** Writes the 13-byte header at `offset`; `length` is the fragment length that follows. */
export function writeRecordHeader(
  out: Buffer,
  offset: number,
  r: DtlsRecordHeader,
  length: number,
): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_RECORD_FRAGMENT) {
    throw new TypeError(`record length out of range: ${length}`);
  }
  if (!Number.isInteger(r.sequenceNumber) || r.sequenceNumber < 0 || r.sequenceNumber >= 2 ** 48) {
    throw new TypeError(`record sequence number out of range: ${r.sequenceNumber}`);
  }
  out[offset] = r.type;
  out.writeUInt16BE(r.version, offset + 1);
  out.writeUInt16BE(r.epoch, offset + 3);
  out.writeUIntBE(r.sequenceNumber, offset + 5, 6);
  out.writeUInt16BE(length, offset + 11);
}

/** Header and fragment in one new buffer. */
export function encodeRecord(r: DtlsRecord): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_LENGTH + r.fragment.length);
  writeRecordHeader(out, 0, r, r.fragment.length);
  r.fragment.copy(out, RECORD_HEADER_LENGTH);
  return out;
}

/**
 * RFC 7983 §7 demultiplexing on the first byte of a datagram: 20..63 is DTLS (0..3 STUN,
 * 64..79 TURN ChannelData, 128..191 RTP/RTCP).
 */
export function isDtlsDatagram(first: number): boolean {
  return first >= 20 && first <= 63;
}
