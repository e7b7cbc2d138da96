/**
 * Replay protection over packet indices (RFC 3711 §3.3.2): remembers the highest accepted
 * index and, as a circular bitmap of 32-bit words, which of the `size` indices at and below
 * it were accepted. Indices are the 48-bit SRTP index or the 31-bit SRTCP index; both fit a
 * double exactly.
 *
 * `check` only reads; `accept` is the commit, called after the packet authenticated.
 */
export class ReplayWindow {
  /** Highest accepted index, -1 before the first. */
  highest = -1;
  readonly size: number;
  private readonly bits: Uint32Array;

  /** `size` is rounded up to a multiple of 32. */
  constructor(size: number) {
    this.size = Math.ceil(size / 32) * 32;
    this.bits = new Uint32Array(this.size / 32);
  }

  /** Whether `index` is new: above the highest, or inside the window and not yet seen. */
  check(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= this.size) return false;
    const bit = index % this.size;
    return ((this.bits[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0;
  }

  /** Records `index` as received, sliding the window forward when it is the new highest. */
  accept(index: number): void {
    if (index > this.highest) {
      const delta = this.highest < 0 ? this.size : index - this.highest;
      if (delta >= this.size) {
        this.bits.fill(0);
      } else {
        for (let i = this.highest + 1; i < index; i++) this.clear(i % this.size);
      }
      this.highest = index;
    }
    const bit = index % this.size;
    this.bits[bit >>> 5] = (this.bits[bit >>> 5] ?? 0) | (1 << (bit & 31));
  }

  private clear(bit: number): void {
    this.bits[bit >>> 5] = (this.bits[bit >>> 5] ?? 0) & ~(1 << (bit & 31));
  }
}

/**
 * The packet index of a received sequence number (RFC 3711 §3.3.1 and Appendix A): with s_l
 * and ROC taken from the highest index accepted so far, guess v in {ROC-1, ROC, ROC+1} so that
 * the index is the one closest to s_l. At ROC 0 there is no ROC-1, so a SEQ more than 2^15
 * above s_l is taken as a forward jump, as libsrtp does. Returns -1 only when the guess would
 * leave the 48-bit index space.
 */
export function estimateIndex(highest: number, seq: number): number {
  if (highest < 0) return seq;
  const roc = Math.floor(highest / 65536);
  const sl = highest % 65536;
  let v = roc;
  if (sl < 32768) {
    // ROC - 1 does not exist while ROC is 0 (no index is negative), so a jump of more than
    // 2^15 early in a stream can only be forward: libsrtp, and so Chrome, read it that way.
    if (seq - sl > 32768 && roc > 0) v = roc - 1;
  } else if (sl - 32768 > seq) {
    v = roc + 1;
  }
  if (v < 0 || v > 0xffffffff) return -1;
  return v * 65536 + seq;
}
