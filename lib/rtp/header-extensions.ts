/**
 * RTP header extensions, RFC 8285: the one-byte form (profile 0xBEDE) and the two-byte form
 * (profile 0x100X, X being four "appbits"). Elements are read by offset into the packet's
 * buffer and rewritten in place; nothing here copies a value.
 *
 * Offsets are absolute indices into `block.buffer`; a view stays valid while the caller keeps
 * that buffer unchanged.
 */

/** Profile of the one-byte form (RFC 8285 §4.2). */
export const ONE_BYTE_PROFILE = 0xbede;
/** Profile of the two-byte form with appbits 0 (RFC 8285 §4.3); 0x1000–0x100F all qualify. */
export const TWO_BYTE_PROFILE = 0x1000;

/** The header-extension block of a packet: the `RtpPacket` view satisfies this. */
export interface ExtensionBlock {
  readonly buffer: Uint8Array;
  /** The 16-bit "defined by profile" field, or -1 when the packet has no extension. */
  readonly extensionProfile: number;
  /** Offset of the first byte after the 4-byte extension header. */
  readonly extensionOffset: number;
  /** Bytes of extension data (the header's length field × 4). */
  readonly extensionLength: number;
}

/** A reusable cursor for one element: iterate and look up without allocating. */
export class ExtensionElement {
  id = 0;
  /** Offset of the element's value in the buffer. */
  offset = 0;
  /** Value length in bytes. */
  length = 0;
}

/** One element to write. */
export interface HeaderExtension {
  readonly id: number;
  readonly value: Uint8Array;
}

export function isOneByteProfile(profile: number): boolean {
  return profile === ONE_BYTE_PROFILE;
}

export function isTwoByteProfile(profile: number): boolean {
  return (profile & 0xfff0) === TWO_BYTE_PROFILE;
}

/**
 * Reads the element at or after `pos` (an offset inside the block, 0 to start) into `into`, and
 * returns the position of the next one, or -1 when there is none: end of block, ID 15 in the
 * one-byte form (RFC 8285 §4.2: stop processing), an unknown profile, or an element running past
 * the block (malformed; what came before stays usable). Padding bytes (ID 0) are skipped.
 */
export function nextExtension(block: ExtensionBlock, pos: number, into: ExtensionElement): number {
  const buf = block.buffer;
  const start = block.extensionOffset;
  const end = start + block.extensionLength;
  const profile = block.extensionProfile;
  let i = start + pos;
  if (profile === ONE_BYTE_PROFILE) {
    // ID 0 is padding (RFC 8285 §4.2): skip the byte whatever its length nibble, as libwebrtc does.
    while (i < end && buf[i]! < 0x10) i++;
    if (i >= end) return -1;
    const b = buf[i]!;
    const id = b >> 4;
    if (id === 15) return -1;
    const len = (b & 0x0f) + 1;
    if (i + 1 + len > end) return -1;
    into.id = id;
    into.offset = i + 1;
    into.length = len;
    return i + 1 + len - start;
  }
  if (isTwoByteProfile(profile)) {
    while (i < end && buf[i] === 0) i++;
    if (i + 2 > end) return -1;
    const len = buf[i + 1]!;
    if (i + 2 + len > end) return -1;
    into.id = buf[i]!;
    into.offset = i + 2;
    into.length = len;
    return i + 2 + len - start;
  }
  return -1;
}

/** Finds the first element with `id`; fills `into` and returns true if found. */
export function findExtension(block: ExtensionBlock, id: number, into: ExtensionElement): boolean {
  let pos = 0;
  while (pos >= 0) {
    pos = nextExtension(block, pos, into);
    if (pos >= 0 && into.id === id) return true;
  }
  return false;
}

/** Calls `fn(id, offset, length)` for each element, in order. */
export function forEachExtension(
  block: ExtensionBlock,
  fn: (id: number, offset: number, length: number) => void,
): void {
  const el = new ExtensionElement();
  let pos = nextExtension(block, 0, el);
  while (pos >= 0) {
    fn(el.id, el.offset, el.length);
    pos = nextExtension(block, pos, el);
  }
}

/**
 * Rewrites element IDs in place, for forwarding from a publisher's negotiated IDs to a
 * subscriber's: `map[oldId]` is the new ID; 0 or absent blanks the element into padding bytes
 * (ID 0, RFC 8285 §4.2/§4.3), which receivers skip, so an extension the subscriber did not
 * negotiate disappears without moving any byte. Throws `RangeError` for a new ID the form
 * cannot carry (one-byte: 1–14; two-byte: 1–255).
 */
export function rewriteExtensionIds(block: ExtensionBlock, map: ArrayLike<number>): void {
  const buf = block.buffer;
  const oneByte = block.extensionProfile === ONE_BYTE_PROFILE;
  const el = new ExtensionElement();
  let pos = nextExtension(block, 0, el);
  while (pos >= 0) {
    const to = map[el.id] ?? 0;
    const header = oneByte ? el.offset - 1 : el.offset - 2;
    if (to === 0) {
      buf.fill(0, header, el.offset + el.length);
    } else if (oneByte) {
      if (!(to >= 1 && to <= 14)) throw new RangeError(`one-byte extension ID ${to} not 1-14`);
      buf[header] = (to << 4) | (buf[header]! & 0x0f);
    } else {
      if (!(to >= 1 && to <= 255)) throw new RangeError(`two-byte extension ID ${to} not 1-255`);
      buf[header] = to;
    }
    pos = nextExtension(block, pos, el);
  }
}

/** True when every element fits the one-byte form (ID 1–14, value 1–16 bytes). */
export function fitsOneByte(extensions: readonly HeaderExtension[]): boolean {
  for (const e of extensions) {
    if (e.id < 1 || e.id > 14 || e.value.length < 1 || e.value.length > 16) return false;
  }
  return true;
}

/**
 * Bytes `writeExtensions` will take for these elements, 4-byte header and padding included,
 * or 0 for an empty list (no extension block at all).
 */
export function extensionsSize(
  extensions: readonly HeaderExtension[],
  form: 'one-byte' | 'two-byte' = fitsOneByte(extensions) ? 'one-byte' : 'two-byte',
): number {
  if (extensions.length === 0) return 0;
  const per = form === 'one-byte' ? 1 : 2;
  let n = 0;
  for (const e of extensions) n += per + e.value.length;
  return 4 + ((n + 3) & ~3);
}

/**
 * Writes a whole extension block (profile, length in words, elements, zero padding to a word)
 * at `out[offset]` and returns its size. The form defaults to one-byte when every element fits
 * it. Throws `RangeError` for an ID or length the form cannot carry, or when `out` is too small.
 */
export function writeExtensions(
  out: Uint8Array,
  offset: number,
  extensions: readonly HeaderExtension[],
  form: 'one-byte' | 'two-byte' = fitsOneByte(extensions) ? 'one-byte' : 'two-byte',
): number {
  const size = extensionsSize(extensions, form);
  if (size === 0) return 0;
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError('writeExtensions: output buffer too small');
  }
  const oneByte = form === 'one-byte';
  const profile = oneByte ? ONE_BYTE_PROFILE : TWO_BYTE_PROFILE;
  const words = (size - 4) / 4;
  out[offset] = profile >> 8;
  out[offset + 1] = profile & 0xff;
  out[offset + 2] = words >> 8;
  out[offset + 3] = words & 0xff;
  let i = offset + 4;
  for (const e of extensions) {
    const len = e.value.length;
    if (oneByte) {
      if (e.id < 1 || e.id > 14 || len < 1 || len > 16) {
        throw new RangeError(`extension ${e.id} (${len} bytes) does not fit the one-byte form`);
      }
      out[i++] = (e.id << 4) | (len - 1);
    } else {
      if (e.id < 1 || e.id > 255 || len > 255) {
        throw new RangeError(`extension ${e.id} (${len} bytes) does not fit the two-byte form`);
      }
      out[i++] = e.id;
      out[i++] = len;
    }
    out.set(e.value, i);
    i += len;
  }
  out.fill(0, i, offset + size);
  return size;
}
