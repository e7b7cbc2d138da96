/**
 * Anti-replay window for one epoch (RFC 6347 §4.1.2.6, the RFC 4303 §3.4.3 algorithm with a
 * bitmap laid out as in RFC 6479 so advancing never shifts bits). Use `check` before the
 * record is authenticated and `commit` only after, so a forged record cannot move the window.
 */
export class RecordReplayWindow {
  /** Highest sequence number committed; -1 before the first. */
  private top = -1;
  private readonly bits: Uint32Array;
  private readonly blocks: number;

  /** @param size window width in records (default 64, the RFC minimum). */
  constructor(readonly size = 64) {
    if (!Number.isInteger(size) || size < 1 || size > 4096) {
      throw new TypeError('replay window size must be an integer in 1..4096');
    }
    // One spare block so the block being cleared when the window advances is never in use.
    this.blocks = Math.ceil(size / 32) + 1;
    this.bits = new Uint32Array(this.blocks);
  }

  /** Highest committed sequence number, -1 before the first. */
  get highest(): number {
    return this.top;
  }

  /** False for a sequence number already seen or older than the window. */
  check(seq: number): boolean {
    if (seq > this.top) return true;
    if (this.top - seq >= this.size) return false;
    const block = Math.floor(seq / 32) % this.blocks;
    return (this.bits[block]! & (1 << (seq % 32))) === 0;
  }

  /** Marks `seq` as received, advancing the window if it is the highest so far. */
  commit(seq: number): void {
    if (seq > this.top) {
      const from = this.top < 0 ? -1 : Math.floor(this.top / 32);
      const to = Math.floor(seq / 32);
      const n = Math.min(to - from, this.blocks);
      for (let i = 1; i <= n; i++) this.bits[(from + i) % this.blocks] = 0;
      this.top = seq;
    } else if (this.top - seq >= this.size) {
      return;
    }
    const block = Math.floor(seq / 32) % this.blocks;
    this.bits[block]! |= 1 << (seq % 32);
  }

  /** Forgets everything (a new epoch). */
  reset(): void {
    this.top = -1;
    this.bits.fill(0);
  }
}
