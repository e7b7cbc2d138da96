/**
 * Flights and their retransmission (RFC 6347 §4.2.4). A flight is the list of messages one
 * side sends before it waits for the other; it is kept as messages (not datagrams) because a
 * retransmission takes fresh record sequence numbers and is sealed again.
 */

/** One message of a flight: a handshake message, or ChangeCipherSpec. */
export type FlightMessage =
  | { kind: 'handshake'; epoch: number; msgType: number; messageSeq: number; body: Buffer }
  | { kind: 'change-cipher-spec'; epoch: number };

export interface Flight {
  readonly messages: readonly FlightMessage[];
  /** True when the peer answers this flight (so a timer runs); false for the last flight. */
  readonly expectsReply: boolean;
}

/**
 * The doubling retransmission timer of RFC 6347 §4.2.4.1: starts at `initialMs` for each new
 * flight, doubles on every expiry up to `maxMs`, and gives up after `maxRetransmits`
 * retransmissions. Times are the caller's clock (ms); nothing here reads a clock.
 */
export class RetransmitTimer {
  private deadline: number | undefined;
  private interval: number;
  private count = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly maxRetransmits: number,
  ) {
    this.interval = initialMs;
  }

  /** A new flight was sent at `now`: back to the initial interval. */
  start(now: number): void {
    this.interval = this.initialMs;
    this.count = 0;
    this.deadline = now + this.interval;
  }

  /** The flight was answered (or the handshake is over): no deadline. */
  stop(): void {
    this.deadline = undefined;
  }

  /** When the timer expires next, or undefined when it is stopped. */
  get nextTimeout(): number | undefined {
    return this.deadline;
  }

  /** Retransmissions of the current flight so far. */
  get retransmits(): number {
    return this.count;
  }

  /**
   * Called at `now`: 'idle' before the deadline (or stopped), 'retransmit' (and the doubled
   * interval is armed) or 'give-up' after the last allowed retransmission.
   */
  poll(now: number): 'idle' | 'retransmit' | 'give-up' {
    if (this.deadline === undefined || now < this.deadline) return 'idle';
    if (this.count >= this.maxRetransmits) {
      this.deadline = undefined;
      return 'give-up';
    }
    this.count++;
    this.interval = Math.min(this.interval * 2, this.maxMs);
    this.deadline = now + this.interval;
    return 'retransmit';
  }
}
