/**
 * The per-participant budgets of the router, by one-second windows on the router's clock:
 * packets in (RTP and RTCP), bad packets, and retransmissions asked for by NACK. Plain
 * counters, no allocation: they run once per packet.
 */
export interface IngressLimitOptions {
  maxRtpPacketsPerSecond: number;
  maxBadPacketsPerSecond: number;
  maxRateLimitedSeconds: number;
}

/** What one packet's arrival means for the rate limit. */
export type RateVerdict = 'ok' | 'drop' | 'flood';

export class IngressLimits {
  private packets = 0;
  private packetsWindow = Number.NEGATIVE_INFINITY;
  /** One-second windows running in which the packet limit was exceeded. */
  private floodWindows = 0;
  private bad = 0;
  private badWindow = Number.NEGATIVE_INFINITY;
  private retransmits = 0;
  private retransmitsWindow = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: IngressLimitOptions) {}

  /**
   * One packet in: `drop` beyond `maxRtpPacketsPerSecond` in this window, `flood` (once) when
   * this window is the `maxRateLimitedSeconds`-th running to go over.
   */
  packet(now: number): RateVerdict {
    const limit = this.o.maxRtpPacketsPerSecond;
    if (now - this.packetsWindow >= 1000) {
      // A window under the limit, or a silent one in between, ends the run.
      if (this.packets <= limit || now - this.packetsWindow >= 2000) this.floodWindows = 0;
      this.packetsWindow = now;
      this.packets = 0;
    }
    if (++this.packets <= limit) return 'ok';
    if (this.packets === limit + 1 && ++this.floodWindows >= this.o.maxRateLimitedSeconds) {
      return 'flood';
    }
    return 'drop';
  }

  /** One malformed or unroutable packet; true once over `maxBadPacketsPerSecond`. */
  badPacket(now: number): boolean {
    if (now - this.badWindow >= 1000) {
      this.badWindow = now;
      this.bad = 0;
    }
    return ++this.bad > this.o.maxBadPacketsPerSecond;
  }

  /**
   * One retransmission a NACK asks for; false beyond `maxRtpPacketsPerSecond` a second. One
   * NACK packet names up to 64 × 17 packets: without a budget a trickle of feedback would
   * make the SFU send far more than it receives.
   */
  retransmit(now: number): boolean {
    if (now - this.retransmitsWindow >= 1000) {
      this.retransmitsWindow = now;
      this.retransmits = 0;
    }
    return ++this.retransmits <= this.o.maxRtpPacketsPerSecond;
  }
}
