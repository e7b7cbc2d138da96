import { createHmac } from 'node:crypto';
import { AttributeType } from '../../lib/stun/constants.js';
import { fingerprintValue } from '../../lib/stun/fingerprint.js';
import type { Random } from './prng.js';

/**
 * Mutations of STUN messages and ChannelData for the TURN fuzz specs. All of them are cheap
 * (a copy of a ~100-byte buffer and a few writes) so that a million inputs stay fast.
 *
 * Two kinds of STUN mutation:
 * - `mutateMessage` works on finished bytes (after MESSAGE-INTEGRITY and FINGERPRINT), so
 *   the result mostly fails decoding, the fingerprint or the integrity check;
 * - `mutateBody` works on a message before its integrity attributes; `seal` then adds
 *   MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT computed over the mutated bytes, so the
 *   result authenticates and reaches the method handlers with odd attribute values.
 */

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x40, 0x01, 0x20, 0x11] as const;
const LENGTHS = [0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 32, 0x7fff, 0xfffc, 0xffff] as const;

/** Known types, so that type mutations also swap one known attribute for another. */
const KNOWN_TYPES = Object.values(AttributeType);

/** A few hundred KiB of random bytes to copy from instead of drawing per byte. */
export class BytePool {
  readonly bytes: Buffer;
  constructor(rng: Random, size = 1 << 17) {
    this.bytes = rng.bytes(size);
  }
  /** A view of `n` (≤ pool size) random bytes; copy it if it is to be written to. */
  take(rng: Random, n: number): Buffer {
    const at = rng.int(this.bytes.length - n + 1);
    return this.bytes.subarray(at, at + n);
  }
}

/** Offsets of attribute headers, walking lengths as a decoder would, within `end`. */
export function attributeOffsets(b: Buffer, end = b.length): number[] {
  const out: number[] = [];
  for (let o = 20; o + 4 <= end; o += 4 + ((b.readUInt16BE(o + 2) + 3) & ~3)) out.push(o);
  return out;
}

/** Writes the header length field to cover the whole buffer. */
export function fixLength(b: Buffer): Buffer {
  if (b.length >= 4) b.writeUInt16BE((b.length - 20) & 0xffff, 2);
  return b;
}

export interface SealOptions {
  /** Long-term key for MESSAGE-INTEGRITY; none: no integrity attribute. */
  key?: Buffer;
  /** MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY. */
  sha256?: boolean;
  fingerprint?: boolean;
}

/**
 * `body` (a STUN header and attributes, length a multiple of 4) plus MESSAGE-INTEGRITY (or
 * -SHA256) over it and FINGERPRINT over everything: what a client would send.
 */
export function seal(body: Buffer, o: SealOptions): Buffer {
  const mac = o.key === undefined ? 0 : o.sha256 ? 36 : 24;
  const out = Buffer.allocUnsafe(body.length + mac + (o.fingerprint ? 8 : 0));
  body.copy(out, 0);
  let end = body.length;
  if (o.key !== undefined) {
    out.writeUInt16BE(end + mac - 20, 2);
    const hmac = createHmac(o.sha256 ? 'sha256' : 'sha1', o.key);
    hmac
      .update(out.subarray(0, end))
      .digest()
      .copy(out, end + 4);
    out.writeUInt16BE(
      o.sha256 ? AttributeType.MESSAGE_INTEGRITY_SHA256 : AttributeType.MESSAGE_INTEGRITY,
      end,
    );
    out.writeUInt16BE(mac - 4, end + 2);
    end += mac;
  }
  if (o.fingerprint) {
    out.writeUInt16BE(end + 8 - 20, 2);
    out.writeUInt16BE(AttributeType.FINGERPRINT, end);
    out.writeUInt16BE(4, end + 2);
    out.writeUInt32BE(fingerprintValue(out, end), end + 4);
  }
  return out;
}

function flipBits(rng: Random, b: Buffer, n: number, from = 0): void {
  if (b.length <= from) return;
  for (let i = 0; i < n; i++) b[from + rng.int(b.length - from)]! ^= 1 << rng.int(8);
}

function setBytes(rng: Random, b: Buffer, n: number, from = 0): void {
  if (b.length <= from) return;
  for (let i = 0; i < n; i++) b[from + rng.int(b.length - from)] = rng.pick(INTERESTING);
}

/** A comprehension-required type nobody knows (0x0031 and friends), or any type at all. */
function strangeType(rng: Random): number {
  switch (rng.int(4)) {
    case 0:
      return 0x0031;
    case 1:
      return rng.int(0x8000);
    case 2:
      return 0x8000 + rng.int(0x8000);
    default:
      return rng.pick(KNOWN_TYPES);
  }
}

/** One attribute with a random type and value, padded. */
function randomAttribute(rng: Random, pool: BytePool): Buffer {
  const n = rng.int(28);
  const a = Buffer.alloc(4 + ((n + 3) & ~3));
  a.writeUInt16BE(strangeType(rng), 0);
  a.writeUInt16BE(n, 2);
  pool.take(rng, n).copy(a, 4);
  return a;
}

const MESSAGE_MUTATIONS = 13;

/**
 * A mutated copy of a finished message: bit flips, byte sets, truncation, junk appended,
 * bogus header or attribute lengths, random splices, another class or method.
 */
export function mutateMessage(rng: Random, src: Buffer, pool: BytePool): Buffer {
  const op = rng.int(MESSAGE_MUTATIONS);
  if (op === 3) return Buffer.from(src.subarray(0, rng.int(src.length))); // truncated
  if (op === 4) return fixLength(Buffer.from(src.subarray(0, src.length - 4 * (1 + rng.int(4)))));
  if (op === 5 || op === 6) {
    const junk = pool.take(rng, 1 + rng.int(op === 5 ? 15 : 8) * (op === 6 ? 4 : 1));
    const out = Buffer.concat([src, junk]);
    return op === 6 ? fixLength(out) : out;
  }
  const b = Buffer.from(src);
  switch (op) {
    case 0:
      flipBits(rng, b, 1);
      break;
    case 1:
      flipBits(rng, b, 2 + rng.int(7));
      break;
    case 2:
      setBytes(rng, b, 1 + rng.int(4));
      break;
    case 7:
      b.writeUInt16BE(rng.chance(0.5) ? rng.int(0x10000) : rng.pick(LENGTHS), 2);
      break;
    case 8:
      b.writeUInt16BE(Math.max(0, b.length - 20 + (rng.int(9) - 4) * 4), 2);
      break;
    case 9:
      bogusAttributeLength(rng, b);
      break;
    case 10: {
      const n = Math.min(b.length, 1 + rng.int(16));
      pool.take(rng, n).copy(b, rng.int(b.length - n + 1));
      break;
    }
    case 11:
      // Another class: C1 is bit 0 of byte 0, C0 bit 4 of byte 1 (RFC 8489 §5).
      b[0] = (b[0]! & ~0x01) | rng.int(2);
      b[1] = (b[1]! & ~0x10) | (rng.int(2) << 4);
      break;
    default:
      b.writeUInt16BE(rng.int(0x4000), 0); // any class and method
      break;
  }
  return b;
}

function bogusAttributeLength(rng: Random, b: Buffer): void {
  const offsets = attributeOffsets(b);
  if (offsets.length === 0) return;
  const o = rng.pick(offsets);
  const now = b.readUInt16BE(o + 2);
  const choices = [now + 1, now - 1, now + 4, now - 4, rng.int(0x10000), ...LENGTHS];
  b.writeUInt16BE(rng.pick(choices) & 0xffff, o + 2);
}

const BODY_MUTATIONS = 9;

/**
 * A mutated copy of `body` (header and attributes, before integrity). Mutations stay mostly
 * within the method attributes `[20, methodEnd)` so USERNAME/REALM/NONCE still authenticate;
 * the header length is rewritten to cover the result and the transaction ID is fresh.
 */
export function mutateBody(rng: Random, body: Buffer, methodEnd: number, pool: BytePool): Buffer {
  let b = Buffer.from(body);
  const all = attributeOffsets(b);
  const method = all.filter((o) => o < methodEnd);
  const targets = method.length > 0 && rng.chance(0.85) ? method : all;
  const op = rng.int(BODY_MUTATIONS);
  const o = targets.length > 0 ? rng.pick(targets) : -1;
  if (op === 0 || o === -1) {
    flipBits(rng, b, 1 + rng.int(3), 20);
  } else if (op === 1) {
    const n = b.readUInt16BE(o + 2);
    if (n > 0) {
      if (rng.chance(0.5)) setBytes(rng, b.subarray(o + 4, o + 4 + n), 1 + rng.int(3));
      else pool.take(rng, n).copy(b, o + 4);
    }
  } else if (op === 2) {
    b.writeUInt16BE(strangeType(rng), o);
  } else if (op === 3) {
    bogusAttributeLength(rng, b);
  } else if (op === 4 || op === 5) {
    const extra = op === 4 ? randomAttribute(rng, pool) : attributeAt(b, o);
    const at = rng.chance(0.5) ? 20 : o;
    b = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
  } else if (op === 6) {
    const whole = attributeAt(b, o);
    b = Buffer.concat([b.subarray(0, o), b.subarray(o + whole.length)]);
  } else if (op === 7) {
    // Shorten one value, keeping the layout consistent: a well-formed but short attribute.
    const n = b.readUInt16BE(o + 2);
    const m = rng.int(n + 1);
    b.writeUInt16BE(m, o + 2);
    b = Buffer.concat([b.subarray(0, o + 4 + ((m + 3) & ~3)), b.subarray(o + 4 + ((n + 3) & ~3))]);
  } else {
    b.writeUInt16BE(rng.int(0x4000), 0);
  }
  rng.fill(b, 8, 20);
  return fixLength(b);
}

/** The whole attribute (header, value, padding) at header offset `o`, clipped to `b`. */
function attributeAt(b: Buffer, o: number): Buffer {
  const n = b.readUInt16BE(o + 2);
  return b.subarray(o, Math.min(b.length, o + 4 + ((n + 3) & ~3)));
}

/**
 * A ChannelData message for `channel` carrying `payload`, with its Length field right or
 * wrong: exact, padded (as on TCP), shorter than the data, longer than the data, 0, 0xffff.
 */
export function channelDataVariant(
  rng: Random,
  channel: number,
  payload: Buffer,
  padded: boolean,
): Buffer {
  const pad = padded ? (4 - (payload.length & 3)) & 3 : 0;
  const out = Buffer.alloc(4 + payload.length + pad);
  out.writeUInt16BE(channel & 0xffff, 0);
  payload.copy(out, 4);
  let length = payload.length;
  switch (rng.int(10)) {
    case 0:
      length = rng.int(payload.length + 1); // shorter: the rest is ignored
      break;
    case 1:
      length = payload.length + 1 + rng.int(8); // longer than what arrived
      break;
    case 2:
      length = 0xffff;
      break;
    case 3:
      length = 0;
      break;
    default:
      break;
  }
  out.writeUInt16BE(length, 2);
  return out;
}
