/**
 * RTP packets (RFC 3550 §5.1): a view that parses a received buffer by offset without copying,
 * setters that rewrite header fields in place (an SFU's payload type, sequence number,
 * timestamp, SSRC and marker rewriting), and a writer into a caller-supplied buffer.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |           synchronization source (SSRC) identifier            |
 *  |            contributing source (CSRC) identifiers  ...        |
 */
import {
  type ExtensionBlock,
  ExtensionElement,
  findExtension,
  type HeaderExtension,
  writeExtensions,
} from './header-extensions.js';

export const RTP_VERSION = 2;
/** Fixed header size, without CSRCs or extension. */
export const RTP_HEADER_LENGTH = 12;

/** Why a buffer is not an RTP packet; stable codes for counting and logging. */
export type RtpParseError =
  | 'too-short'
  | 'bad-version'
  | 'csrc-overflow'
  | 'extension-truncated'
  | 'extension-overflow'
  | 'bad-padding'
  | 'padding-overflow';

export type RtpParseResult = { ok: true; packet: RtpPacket } | { ok: false; reason: RtpParseError };

/**
 * A parsed RTP packet: header fields are read from (and written to) `buffer` on each access.
 * The view is valid while the caller keeps the received buffer unchanged; reuse one view for
 * many packets with `parse` to avoid allocating per packet.
 */
export class RtpPacket implements ExtensionBlock {
  buffer: Uint8Array = EMPTY;
  /** Offset of the packet's first byte in `buffer`. */
  offset = 0;
  /** Packet length, padding included. */
  length = 0;
  /** Offset of the payload in `buffer` (after CSRCs and the extension block). */
  payloadOffset = 0;
  /** Payload length, padding excluded. */
  payloadLength = 0;
  /** Padding bytes at the end (the last byte's count), 0 when P is clear. */
  paddingLength = 0;
  /** The extension header's 16-bit profile, or -1 when X is clear. */
  extensionProfile = -1;
  /** Offset of the extension data (after its 4-byte header); 0 when there is none. */
  extensionOffset = 0;
  /** Bytes of extension data. */
  extensionLength = 0;

  /**
   * Parses `buf[offset, offset + length)` into this view and returns undefined, or the reason
   * it is not RTP (the view is then unusable). Never throws on packet contents; throws
   * `RangeError` if `offset`/`length` fall outside `buf`.
   */
  parse(buf: Uint8Array, offset = 0, length = buf.length - offset): RtpParseError | undefined {
    if (offset < 0 || length < 0 || offset + length > buf.length) {
      throw new RangeError('parseRtp: offset/length outside the buffer');
    }
    this.buffer = buf;
    this.offset = offset;
    this.length = length;
    if (length < RTP_HEADER_LENGTH) return 'too-short';
    const b0 = buf[offset]!;
    if (b0 >> 6 !== RTP_VERSION) return 'bad-version';
    const end = offset + length;
    let p = offset + RTP_HEADER_LENGTH + (b0 & 0x0f) * 4;
    if (p > end) return 'csrc-overflow';
    if (b0 & 0x10) {
      if (p + 4 > end) return 'extension-truncated';
      this.extensionProfile = (buf[p]! << 8) | buf[p + 1]!;
      this.extensionLength = ((buf[p + 2]! << 8) | buf[p + 3]!) * 4;
      this.extensionOffset = p + 4;
      p += 4 + this.extensionLength;
      if (p > end) return 'extension-overflow';
    } else {
      this.extensionProfile = -1;
      this.extensionOffset = 0;
      this.extensionLength = 0;
    }
    let padding = 0;
    if (b0 & 0x20) {
      // RFC 3550 §5.1: the last octet counts the padding, itself included, so it is never 0.
      padding = buf[end - 1]!;
      if (padding === 0) return 'bad-padding';
      if (p + padding > end) return 'padding-overflow';
    }
    this.paddingLength = padding;
    this.payloadOffset = p;
    this.payloadLength = end - p - padding;
    return undefined;
  }

  get version(): number {
    return this.buffer[this.offset]! >> 6;
  }

  get padding(): boolean {
    return (this.buffer[this.offset]! & 0x20) !== 0;
  }

  get extension(): boolean {
    return (this.buffer[this.offset]! & 0x10) !== 0;
  }

  get csrcCount(): number {
    return this.buffer[this.offset]! & 0x0f;
  }

  /** The i-th CSRC (0-based); undefined past `csrcCount`. */
  csrc(i: number): number | undefined {
    if (!(i >= 0 && i < this.csrcCount)) return undefined;
    return readU32(this.buffer, this.offset + RTP_HEADER_LENGTH + 4 * i);
  }

  get marker(): boolean {
    return (this.buffer[this.offset + 1]! & 0x80) !== 0;
  }

  set marker(v: boolean) {
    const i = this.offset + 1;
    this.buffer[i] = (this.buffer[i]! & 0x7f) | (v ? 0x80 : 0);
  }

  get payloadType(): number {
    return this.buffer[this.offset + 1]! & 0x7f;
  }

  set payloadType(v: number) {
    if (!(Number.isInteger(v) && v >= 0 && v <= 127)) throw new RangeError('payload type 0-127');
    const i = this.offset + 1;
    this.buffer[i] = (this.buffer[i]! & 0x80) | v;
  }

  get sequenceNumber(): number {
    const b = this.buffer;
    const i = this.offset + 2;
    return (b[i]! << 8) | b[i + 1]!;
  }

  set sequenceNumber(v: number) {
    const i = this.offset + 2;
    this.buffer[i] = (v >> 8) & 0xff;
    this.buffer[i + 1] = v & 0xff;
  }

  get timestamp(): number {
    return readU32(this.buffer, this.offset + 4);
  }

  set timestamp(v: number) {
    writeU32(this.buffer, this.offset + 4, v);
  }

  get ssrc(): number {
    return readU32(this.buffer, this.offset + 8);
  }

  set ssrc(v: number) {
    writeU32(this.buffer, this.offset + 8, v);
  }

  /** Bytes before the payload: fixed header, CSRCs and the extension block. */
  get headerLength(): number {
    return this.payloadOffset - this.offset;
  }

  /** A view of the payload (padding excluded); allocates the view object only. */
  payload(): Uint8Array {
    return this.buffer.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** A view of extension `id`'s value, or undefined. Allocates; see `findExtension` for none. */
  getExtension(id: number): Uint8Array | undefined {
    const el = new ExtensionElement();
    if (!findExtension(this, id, el)) return undefined;
    return this.buffer.subarray(el.offset, el.offset + el.length);
  }
}

const EMPTY = new Uint8Array(0);

/** Parses an RTP packet into a new view. Never throws on packet contents. */
export function parseRtp(
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset,
): RtpParseResult {
  const packet = new RtpPacket();
  const reason = packet.parse(buf, offset, length);
  return reason === undefined ? { ok: true, packet } : { ok: false, reason };
}

/** Fields of a packet to write. */
export interface RtpHeaderFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Defaults to false. */
  marker?: boolean;
  /** Up to 15 contributing sources. Defaults to none. */
  csrcs?: readonly number[];
  /** Header-extension elements (RFC 8285). Defaults to none (X clear). */
  extensions?: readonly HeaderExtension[];
  /** Form of the extension block; defaults to one-byte when every element fits it. */
  extensionForm?: 'one-byte' | 'two-byte';
  /** Padding bytes to append (1–255, count in the last byte, P set). Defaults to 0. */
  padding?: number;
}

/**
 * Serializes a packet into `out` at `offset` and returns its length. Throws `RangeError` when
 * a field is out of range or `out` is too small (caller errors, not network input).
 */
export function writeRtp(
  out: Uint8Array,
  offset: number,
  fields: RtpHeaderFields,
  payload: Uint8Array = EMPTY,
): number {
  const csrcs = fields.csrcs ?? [];
  const extensions = fields.extensions ?? [];
  const padding = fields.padding ?? 0;
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  if (!(Number.isInteger(padding) && padding >= 0 && padding <= 255)) {
    throw new RangeError('padding 0-255');
  }
  if (!(fields.payloadType >= 0 && fields.payloadType <= 127)) {
    throw new RangeError('payload type 0-127');
  }
  let p = offset + RTP_HEADER_LENGTH + csrcs.length * 4;
  if (offset < 0 || p > out.length) throw new RangeError('writeRtp: output buffer too small');
  out[offset] =
    (RTP_VERSION << 6) |
    (padding > 0 ? 0x20 : 0) |
    (extensions.length > 0 ? 0x10 : 0) |
    csrcs.length;
  out[offset + 1] = (fields.marker ? 0x80 : 0) | fields.payloadType;
  out[offset + 2] = (fields.sequenceNumber >> 8) & 0xff;
  out[offset + 3] = fields.sequenceNumber & 0xff;
  writeU32(out, offset + 4, fields.timestamp);
  writeU32(out, offset + 8, fields.ssrc);
  for (let i = 0; i < csrcs.length; i++) writeU32(out, offset + 12 + 4 * i, csrcs[i]!);
  p += writeExtensions(out, p, extensions, fields.extensionForm);
  const end = p + payload.length + padding;
  if (end > out.length) throw new RangeError('writeRtp: output buffer too small');
  out.set(payload, p);
  if (padding > 0) {
    out.fill(0, p + payload.length, end - 1);
    out[end - 1] = padding;
  }
  return end - offset;
}

export function readU32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function writeU32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}
