import { AttributeType, HEADER_LENGTH, MAGIC_COOKIE, type StunClass } from './constants.js';

/**
 * One attribute of a decoded message: a view by offset, nothing copied. `offset` is the
 * offset of the VALUE in `StunMessage.buffer` (the attribute header is the 4 bytes before);
 * `length` is the value length without padding.
 */
export interface StunAttribute {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Why `decodeStunMessage` rejected a buffer. Stable codes, meant for counters and debug logs:
 * - `too-short`: fewer than 20 bytes;
 * - `not-stun`: one of the two top bits of the first byte is set (RFC 8489 §5);
 * - `bad-magic-cookie`: bytes 4..7 are not 0x2112A442 (e.g. an RFC 3489 client);
 * - `bad-length`: the length field is not a multiple of 4 or is not the buffer length - 20
 *   (a datagram carries exactly one message; stream framing is done elsewhere);
 * - `attribute-overflow`: an attribute's value plus padding runs past the message end;
 * - `bad-fingerprint-position`: an attribute follows FINGERPRINT (RFC 8489 §14.7).
 */
export type StunDecodeError =
  | 'too-short'
  | 'not-stun'
  | 'bad-magic-cookie'
  | 'bad-length'
  | 'attribute-overflow'
  | 'bad-fingerprint-position';

export type StunDecodeResult =
  | { ok: true; message: StunMessage }
  | { ok: false; reason: StunDecodeError };

/**
 * A decoded STUN message. Everything in it (`buffer`, `transactionId`, values returned by
 * `value()`, attribute offsets) is a view of the buffer given to `decodeStunMessage`: it
 * stays valid while the caller keeps that buffer unchanged. Copy what must outlive it
 * (`Buffer.from(m.transactionId)`) before the buffer is reused.
 *
 * Attributes that RFC 8489 §14.5/§14.6 says to ignore (anything after MESSAGE-INTEGRITY
 * other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT; anything after
 * MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT) are not listed in `attributes`; their
 * number is in `ignoredAttributes`.
 */
export class StunMessage {
  readonly buffer: Buffer;
  readonly messageClass: StunClass;
  readonly method: number;
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
  readonly ignoredAttributes: number;

  /** Use `decodeStunMessage`; this constructor trusts its arguments. */
  constructor(
    buffer: Buffer,
    messageClass: StunClass,
    method: number,
    attributes: readonly StunAttribute[],
    ignoredAttributes = 0,
  ) {
    this.buffer = buffer;
    this.messageClass = messageClass;
    this.method = method;
    this.transactionId = buffer.subarray(8, HEADER_LENGTH);
    this.attributes = attributes;
    this.ignoredAttributes = ignoredAttributes;
  }

  /** The first attribute of `type`, if any. */
  get(type: number): StunAttribute | undefined {
    for (const a of this.attributes) if (a.type === type) return a;
    return undefined;
  }

  /** A view of the value of the first attribute of `type` (valid as long as `buffer`). */
  value(type: number): Buffer | undefined {
    const a = this.get(type);
    return a === undefined ? undefined : this.buffer.subarray(a.offset, a.offset + a.length);
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }
}

/** Message type bits M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 §5) → class and method. */
export function splitMessageType(type: number): { messageClass: StunClass; method: number } {
  const messageClass = (((type >> 7) & 0x2) | ((type >> 4) & 0x1)) as StunClass;
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  return { messageClass, method };
}

/** Class and 12-bit method → the 14-bit message type field. */
export function messageType(messageClass: StunClass, method: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((messageClass & 0x1) << 4) |
    ((messageClass & 0x2) << 7)
  );
}

/**
 * Cheap demultiplexing test (RFC 7983 / RFC 8489 §5): at least 20 bytes, top two bits zero,
 * magic cookie present, length a multiple of 4. Does not look at attributes.
 */
export function isStunMessage(buf: Buffer): boolean {
  return (
    buf.length >= HEADER_LENGTH &&
    (buf[0]! & 0xc0) === 0 &&
    buf.readUInt32BE(4) === MAGIC_COOKIE &&
    (buf.readUInt16BE(2) & 0x3) === 0
  );
}

/**
 * Decodes one STUN message that occupies all of `buf` (a datagram, or a frame cut from a
 * stream by `streamFrameLength`). Never throws: a malformed buffer yields `{ ok: false }`
 * with a `StunDecodeError` code. The message keeps views into `buf` (see `StunMessage`).
 */
export function decodeStunMessage(buf: Buffer): StunDecodeResult {
  if (buf.length < HEADER_LENGTH) return { ok: false, reason: 'too-short' };
  if ((buf[0]! & 0xc0) !== 0) return { ok: false, reason: 'not-stun' };
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return { ok: false, reason: 'bad-magic-cookie' };
  const length = buf.readUInt16BE(2);
  if ((length & 0x3) !== 0 || length !== buf.length - HEADER_LENGTH) {
    return { ok: false, reason: 'bad-length' };
  }
  const attributes: StunAttribute[] = [];
  let ignored = 0;
  let afterIntegrity = false; // seen MESSAGE-INTEGRITY
  let afterIntegritySha256 = false; // seen MESSAGE-INTEGRITY-SHA256
  let afterFingerprint = false;
  const end = buf.length;
  let offset = HEADER_LENGTH;
  // offset and end are multiples of 4, so whenever offset < end a 4-byte header fits.
  while (offset < end) {
    const type = buf.readUInt16BE(offset);
    const valueLength = buf.readUInt16BE(offset + 2);
    const next = offset + 4 + ((valueLength + 3) & ~3);
    if (next > end) return { ok: false, reason: 'attribute-overflow' };
    if (afterFingerprint) return { ok: false, reason: 'bad-fingerprint-position' };
    const attribute = { type, offset: offset + 4, length: valueLength };
    if (type === AttributeType.FINGERPRINT) {
      afterFingerprint = true;
      attributes.push(attribute);
    } else if (afterIntegritySha256) {
      ignored++;
    } else if (afterIntegrity) {
      if (type === AttributeType.MESSAGE_INTEGRITY_SHA256) {
        afterIntegritySha256 = true;
        attributes.push(attribute);
      } else {
        ignored++;
      }
    } else {
      if (type === AttributeType.MESSAGE_INTEGRITY) afterIntegrity = true;
      else if (type === AttributeType.MESSAGE_INTEGRITY_SHA256) afterIntegritySha256 = true;
      attributes.push(attribute);
    }
    offset = next;
  }
  const { messageClass, method } = splitMessageType(buf.readUInt16BE(0));
  return { ok: true, message: new StunMessage(buf, messageClass, method, attributes, ignored) };
}

/**
 * Comprehension-required attribute types (0x0000-0x7FFF, RFC 8489 §14) present in `m` but
 * not in `known`, each once, in message order: the list for a 420 UNKNOWN-ATTRIBUTES reply.
 * Linear in the attribute count: a 64 KiB message holds ~16 000 attributes, and checking
 * each against the list so far would cost ~100 ms per such packet.
 */
export function unknownComprehensionRequired(m: StunMessage, known: ReadonlySet<number>): number[] {
  const unknown: number[] = [];
  let seen: Set<number> | undefined;
  for (const a of m.attributes) {
    if (a.type >= 0x8000 || known.has(a.type)) continue;
    seen ??= new Set();
    if (seen.has(a.type)) continue;
    seen.add(a.type);
    unknown.push(a.type);
  }
  return unknown;
}
