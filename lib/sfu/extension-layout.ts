import {
  type ExtensionBlock,
  ExtensionElement,
  findExtension,
  isOneByteProfile,
  nextExtension,
} from '../rtp/index.js';

/** Elements remembered per packet; a packet with more takes the consumer's slow path. */
export const MAX_LAYOUT_ELEMENTS = 32;

/**
 * Where the header-extension elements (RFC 8285) of one RTP packet are, found once per
 * incoming packet so that each subscriber's copy only has its ids rewritten: a few byte
 * writes per subscriber instead of a parse. Offsets count from the packet's first byte, so
 * they hold in any copy of it. Elements are those `nextExtension` yields: the scan stops
 * where it stops (ID 15 in the one-byte form, an element overrunning the block), and what
 * lies beyond is left as it is, as `rewriteExtensionIds` leaves it.
 */
export class ExtensionLayout {
  /** Elements found; 0 also when the packet has no extension block. */
  count = 0;
  /** More than `MAX_LAYOUT_ELEMENTS` elements: `apply` cannot be used. */
  overflow = false;
  oneByte = false;
  private readonly headerAt = new Int32Array(MAX_LAYOUT_ELEMENTS);
  private readonly valueAt = new Int32Array(MAX_LAYOUT_ELEMENTS);
  private readonly valueEnd = new Int32Array(MAX_LAYOUT_ELEMENTS);
  private readonly ids = new Uint8Array(MAX_LAYOUT_ELEMENTS);
  private readonly el = new ExtensionElement();
  private origin = 0;

  /** Records the elements of `block`, a packet starting at `origin` in its buffer. */
  scan(block: ExtensionBlock, origin: number): void {
    this.count = 0;
    this.overflow = false;
    this.origin = origin;
    if (block.extensionProfile < 0) return;
    const oneByte = isOneByteProfile(block.extensionProfile);
    this.oneByte = oneByte;
    const el = this.el;
    let pos = nextExtension(block, 0, el);
    while (pos >= 0) {
      if (this.count === MAX_LAYOUT_ELEMENTS) {
        this.overflow = true;
        this.count = 0;
        return;
      }
      const i = this.count++;
      this.ids[i] = el.id;
      this.headerAt[i] = el.offset - (oneByte ? 1 : 2) - origin;
      this.valueAt[i] = el.offset - origin;
      this.valueEnd[i] = el.offset + el.length - origin;
      pos = nextExtension(block, pos, el);
    }
  }

  /**
   * `findExtension(block, id, into)` for the scanned `block`, from the recorded elements
   * (offsets in `block`'s buffer) instead of a walk; on overflow it walks.
   */
  find(block: ExtensionBlock, id: number, into: ExtensionElement): boolean {
    if (this.overflow) return findExtension(block, id, into);
    for (let i = 0; i < this.count; i++) {
      if (this.ids[i] !== id) continue;
      into.id = id;
      into.offset = this.valueAt[i]! + this.origin;
      into.length = this.valueEnd[i]! - this.valueAt[i]!;
      return true;
    }
    return false;
  }

  /**
   * Rewrites the ids in `out`, a copy of the scanned packet at offset 0: `map[id]` is the new
   * id (it must fit the packet's form: 1–14 one-byte, 1–255 two-byte), 0 blanks the element
   * into padding. Returns the offset of the value of the first element now carrying id `find`
   * when that value has at least `minLength` bytes, else -1.
   */
  apply(out: Uint8Array, map: Uint8Array, find: number, minLength: number): number {
    let found = -1;
    let seen = false;
    for (let i = 0; i < this.count; i++) {
      const to = map[this.ids[i]!]!;
      const h = this.headerAt[i]!;
      if (to === 0) {
        // A byte loop: Buffer#fill's argument checks cost more than these few bytes.
        for (let j = h, end = this.valueEnd[i]!; j < end; j++) out[j] = 0;
        continue;
      }
      out[h] = this.oneByte ? (to << 4) | (out[h]! & 0x0f) : to;
      if (to === find && !seen) {
        seen = true;
        if (this.valueEnd[i]! - this.valueAt[i]! >= minLength) found = this.valueAt[i]!;
      }
    }
    return found;
  }
}
