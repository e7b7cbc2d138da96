/**
 * Consent freshness (RFC 7675) of the selected pair, sans-IO: a check about every
 * `intervalMs` (randomized 0.8–1.2× so that many flows do not synchronize, §5.1), consent lost
 * `timeoutMs` after the last authenticated response, and a softer "stale" mark after
 * `staleMs` that the agent reports as `disconnected`. The check list sends the checks.
 */
export interface ConsentTiming {
  intervalMs: number;
  staleMs: number;
  timeoutMs: number;
}

/** What `poll` asks of the caller. */
export interface ConsentDue {
  /** Send a consent check now. */
  send: boolean;
  /** Responses stopped (true once per silence). */
  stale: boolean;
  /** Consent expired: stop sending on this pair (RFC 7675 §5.1). */
  expired: boolean;
}

export class ConsentFreshness {
  private lastResponseAt = 0;
  private nextCheckAt = 0;
  private fresh = true;
  private active = false;

  constructor(
    private readonly timing: ConsentTiming,
    private readonly random: () => number,
  ) {}

  get isFresh(): boolean {
    return this.fresh;
  }

  /** A pair was selected at `now`: its checks just succeeded, so consent starts fresh. */
  start(now: number): void {
    this.active = true;
    this.lastResponseAt = now;
    this.fresh = true;
    this.schedule(now);
  }

  stop(): void {
    this.active = false;
  }

  /** An authenticated success response on the selected pair; true if it ends a silence. */
  onResponse(now: number): boolean {
    this.lastResponseAt = now;
    if (this.fresh) return false;
    this.fresh = true;
    return true;
  }

  poll(now: number): ConsentDue {
    const due: ConsentDue = { send: false, stale: false, expired: false };
    if (!this.active) return due;
    const silent = now - this.lastResponseAt;
    if (silent >= this.timing.timeoutMs) {
      this.active = false;
      due.expired = true;
      return due;
    }
    if (silent >= this.timing.staleMs && this.fresh) {
      this.fresh = false;
      due.stale = true;
    }
    if (now >= this.nextCheckAt) {
      this.schedule(now);
      due.send = true;
    }
    return due;
  }

  /** When `poll` next has something to do; undefined when inactive. */
  nextTimeout(): number | undefined {
    if (!this.active) return undefined;
    const stale = this.fresh ? this.lastResponseAt + this.timing.staleMs : Number.POSITIVE_INFINITY;
    return Math.min(this.nextCheckAt, stale, this.lastResponseAt + this.timing.timeoutMs);
  }

  private schedule(now: number): void {
    this.nextCheckAt = now + this.timing.intervalMs * (0.8 + 0.4 * this.random());
  }
}
