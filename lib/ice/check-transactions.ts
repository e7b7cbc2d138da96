import type { CandidatePair, Role } from './pair.js';

/** One outstanding connectivity check (or consent check) of the check list. */
export interface CheckTransaction {
  readonly pair: CandidatePair;
  readonly request: Buffer;
  readonly useCandidate: boolean;
  /** The role the check was sent with (a 487 only switches a role we still have). */
  readonly role: Role;
  /** Consent checks are not retransmitted (RFC 7675: the next one is the retry). */
  readonly consent: boolean;
  sends: number;
  rto: number;
  nextAt: number;
}

export interface CheckTiming {
  /** Initial RTO, ms. */
  rtoMs: number;
  /** Sends per check (Rc). */
  rc: number;
  /** How long a consent check is awaited, ms. */
  consentWaitMs: number;
}

/** RFC 8489 §6.2.1: after the last send, wait Rm × the initial RTO. */
const RM = 16;

/** A map key for a transaction id; a short (truncated) id simply matches nothing. */
function keyOf(transactionId: Uint8Array): string {
  return Buffer.from(
    transactionId.buffer,
    transactionId.byteOffset,
    transactionId.byteLength,
  ).toString('latin1');
}

/**
 * Outstanding checks keyed by transaction id, with the RFC 8489 retransmission schedule
 * (0, RTO, 3·RTO, 7·RTO … for Rc sends, then Rm·RTO more) driven by the caller's clock.
 */
export class CheckTransactions {
  private readonly map = new Map<string, CheckTransaction>();

  constructor(private readonly timing: CheckTiming) {}

  /** Records a check just sent at `now`; a new ordinary check replaces the pair's previous one. */
  add(
    f: Pick<CheckTransaction, 'pair' | 'request' | 'useCandidate' | 'role' | 'consent'>,
    now: number,
  ): void {
    if (!f.consent) {
      for (const [k, tx] of this.map) if (tx.pair === f.pair && !tx.consent) this.map.delete(k);
    }
    const wait = f.consent ? this.timing.consentWaitMs : this.timing.rtoMs;
    this.map.set(keyOf(f.request.subarray(8, 20)), {
      ...f,
      sends: 1,
      rto: this.timing.rtoMs,
      nextAt: now + wait,
    });
  }

  /** The outstanding check with this transaction id (a response's), if any. */
  get(transactionId: Uint8Array): CheckTransaction | undefined {
    return this.map.get(keyOf(transactionId));
  }

  delete(transactionId: Uint8Array): void {
    this.map.delete(keyOf(transactionId));
  }

  /**
   * Runs what is due at `now`: `resend` for each retransmission, `expired` for each check
   * that got no answer in time (consent checks expire silently: consent.ts keeps score).
   */
  due(
    now: number,
    resend: (tx: CheckTransaction) => void,
    expired: (tx: CheckTransaction) => void,
  ): void {
    for (const [k, tx] of this.map) {
      if (tx.nextAt > now) continue;
      if (tx.consent) {
        this.map.delete(k);
        continue;
      }
      if (tx.sends >= this.timing.rc) {
        this.map.delete(k);
        expired(tx);
        continue;
      }
      tx.sends += 1;
      tx.rto *= 2;
      tx.nextAt = now + (tx.sends >= this.timing.rc ? RM * this.timing.rtoMs : tx.rto);
      resend(tx);
    }
  }

  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const tx of this.map.values()) if (t === undefined || tx.nextAt < t) t = tx.nextAt;
    return t;
  }

  clear(): void {
    this.map.clear();
  }
}
