/**
 * Smallest default burst, in bits: 128 KiB, so that any single message fits even at a low
 * rate — the largest UDP datagram (64 KiB) and the largest ChannelData frame on TCP
 * (4 + 65535 bytes). A message larger than the burst could never pass.
 */
export const MIN_DEFAULT_BURST_BITS = 128 * 1024 * 8;
/** Default burst as time at full rate, in seconds. */
export const DEFAULT_BURST_SECONDS = 0.5;

/**
 * Bandwidth quota: a token bucket holding up to `burstBits` bits that refills at
 * `bitsPerSecond`. A message passes whole or not at all (it is dropped, never queued: a late
 * media packet is worth nothing). The clock is passed in; `take` allocates nothing and is
 * meant for the per-packet relay path.
 */
export class TokenBucket {
  readonly bitsPerSecond: number;
  readonly burstBits: number;
  private tokens: number;
  private last = Number.NEGATIVE_INFINITY;

  /**
   * @param bitsPerSecond refill rate; `Infinity` for no limit.
   * @param burstBits capacity, and the initial fill. Default: `DEFAULT_BURST_SECONDS` (0.5 s)
   *   at full rate, at least `MIN_DEFAULT_BURST_BITS` (128 KiB).
   * @throws TypeError unless both are positive numbers.
   */
  constructor(bitsPerSecond: number, burstBits?: number) {
    if (!(bitsPerSecond > 0)) {
      throw new TypeError(`TokenBucket: bitsPerSecond must be positive, got ${bitsPerSecond}`);
    }
    const burst =
      burstBits ?? Math.max(bitsPerSecond * DEFAULT_BURST_SECONDS, MIN_DEFAULT_BURST_BITS);
    if (!(burst > 0)) {
      throw new TypeError(`TokenBucket: burstBits must be positive, got ${burstBits}`);
    }
    this.bitsPerSecond = bitsPerSecond;
    this.burstBits = burst;
    this.tokens = burst;
  }

  /**
   * Takes `bytes` worth of tokens at `nowMs` if that many are there, and says whether it did.
   * A clock that goes backwards adds nothing and restarts the refill from the new time; a
   * `NaN` time adds nothing.
   */
  take(bytes: number, nowMs: number): boolean {
    this.refill(nowMs);
    const bits = bytes * 8;
    if (bits > this.tokens) return false;
    this.tokens -= bits;
    return true;
  }

  /** Bits available at `nowMs` (refilling first), e.g. for metrics. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      const elapsed = nowMs - this.last;
      this.tokens = Math.min(this.burstBits, this.tokens + (elapsed * this.bitsPerSecond) / 1000);
      this.last = nowMs;
    } else if (nowMs < this.last) {
      this.last = nowMs;
    }
  }
}
