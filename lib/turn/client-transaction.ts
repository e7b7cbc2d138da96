import { TurnClientError, TurnClientErrorCode } from './client-error.js';

/** Retransmission and timeout settings of client transactions (RFC 8489 §6.2). */
export interface TransactionTiming {
  /** Reliable transports (TCP, TLS) send once and wait `timeoutMs`; UDP retransmits. */
  reliable: boolean;
  /** Initial retransmission timeout on UDP, ms, doubled after each send. RFC 8489: 500. */
  rtoMs: number;
  /** Sends in total on UDP (Rc). RFC 8489: 7. */
  rc: number;
  /** After the last UDP send, wait `rm × rtoMs` before giving up (Rm). RFC 8489: 16. */
  rm: number;
  /** Time to wait for the response on TCP/TLS, ms. RFC 8489: 39500. */
  timeoutMs: number;
}

export const DEFAULT_TRANSACTION_TIMING: Readonly<Omit<TransactionTiming, 'reliable'>> = {
  rtoMs: 500,
  rc: 7,
  rm: 16,
  timeoutMs: 39_500,
};

interface Pending<T, C> {
  readonly request: Uint8Array;
  readonly context: C;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  sends: number;
  rto: number;
}

/** A map key for a 96-bit transaction id without allocating a hex string. */
function keyOf(transactionId: Uint8Array): string {
  return String.fromCharCode(...transactionId);
}

/**
 * Outstanding client transactions keyed by transaction id. `start` sends the request and
 * retransmits it on the RFC 8489 §6.2.1 schedule (UDP: at 0, RTO, 3·RTO, 7·RTO … for Rc sends,
 * then fails Rm·RTO after the last) or waits `timeoutMs` after a single send (TCP/TLS).
 * The owner matches responses with `settle`, which stops the timers.
 */
export class TransactionTable<T, C = undefined> {
  private readonly pending = new Map<string, Pending<T, C>>();

  constructor(
    private readonly send: (request: Uint8Array) => void,
    private readonly timing: TransactionTiming,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  has(transactionId: Uint8Array): boolean {
    return this.pending.has(keyOf(transactionId));
  }

  /** What the owner attached to an outstanding transaction (e.g. the key it was signed with). */
  context(transactionId: Uint8Array): C | undefined {
    return this.pending.get(keyOf(transactionId))?.context;
  }

  /**
   * Sends `request` and resolves with the value given to `settle` for its transaction id.
   * `context` stays with the transaction for the owner to read back when a response arrives.
   */
  start(transactionId: Uint8Array, request: Uint8Array, context: C): Promise<T> {
    const key = keyOf(transactionId);
    if (this.pending.has(key)) throw new TypeError('duplicate transaction id');
    return new Promise<T>((resolve, reject) => {
      const { reliable, rtoMs, timeoutMs } = this.timing;
      const entry: Pending<T, C> = {
        request,
        context,
        resolve,
        reject,
        sends: 1,
        rto: rtoMs,
        timer: setTimeout(() => this.onTimer(key), reliable ? timeoutMs : rtoMs),
      };
      this.pending.set(key, entry);
      try {
        this.send(request);
      } catch (err) {
        this.fail(key, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Completes the transaction with `value`; false if no such transaction is outstanding. */
  settle(transactionId: Uint8Array, value: T): boolean {
    const key = keyOf(transactionId);
    const entry = this.pending.get(key);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    entry.resolve(value);
    return true;
  }

  /** Fails the transaction with `err`; false if no such transaction is outstanding. */
  reject(transactionId: Uint8Array, err: Error): boolean {
    return this.fail(keyOf(transactionId), err);
  }

  /** Fails every outstanding transaction (client closed, connection lost). */
  rejectAll(err: Error): void {
    for (const key of [...this.pending.keys()]) this.fail(key, err);
  }

  private fail(key: string, err: Error): boolean {
    const entry = this.pending.get(key);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    entry.reject(err);
    return true;
  }

  private onTimer(key: string): void {
    const entry = this.pending.get(key);
    if (entry === undefined) return;
    const { reliable, rc, rm, rtoMs, timeoutMs } = this.timing;
    if (reliable || entry.sends >= rc) {
      const waited = reliable ? timeoutMs : undefined;
      const detail = waited === undefined ? `${rc} sends` : `${waited} ms`;
      this.fail(
        key,
        new TurnClientError(TurnClientErrorCode.timeout, `no response after ${detail}`),
      );
      return;
    }
    entry.rto *= 2;
    entry.sends += 1;
    // RFC 8489 §6.2.1: after the Rc-th send, wait Rm times the initial RTO.
    const next = entry.sends >= rc ? rm * rtoMs : entry.rto;
    entry.timer = setTimeout(() => this.onTimer(key), next);
    try {
      this.send(entry.request);
    } catch (err) {
      this.fail(key, err instanceof Error ? err : new Error(String(err)));
    }
  }
}
