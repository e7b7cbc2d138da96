import { randomBytes } from 'node:crypto';
import {
  AttributeType,
  decodeErrorCode,
  ErrorCode,
  StunClass,
  type StunMessage,
  type TransportAddress,
} from '../stun/index.js';
import { candidatePriority, type IceCandidate } from './candidate.js';
import { type CheckTransaction, CheckTransactions } from './check-transactions.js';
import { ConsentFreshness } from './consent.js';
import {
  type CandidatePair,
  type IceCredentials,
  type LocalCandidate,
  priorityOf,
  type Role,
  readMapped,
  sameAddress,
  toAddress,
} from './pair.js';
import { PairTable } from './pair-table.js';
import {
  buildCheckError,
  buildCheckRequest,
  buildCheckSuccess,
  verifyCheckRequest,
  verifyCheckResponse,
} from './stun-check.js';

export type { CandidatePair, IceCredentials, LocalCandidate, PairState, Role } from './pair.js';

/**
 * The check list of one ICE agent (RFC 8445 §6.1.2–§8, RFC 8838 for trickle) as a sans-IO
 * state machine: candidates and STUN bytes go in with the current time, datagrams to send and
 * events come out through a `CheckListSink`. It opens no socket and reads no clock; the
 * adapter (agent.ts) calls `tick(now)` when `nextTimeout()` is due.
 *
 * One data stream, one component (WebRTC with rtcp-mux and BUNDLE).
 */

export interface CheckListSink {
  send(base: string, to: TransportAddress, data: Buffer): void;
  /** A pair was nominated and is now the selected pair (may change to a better one). */
  selected(pair: CandidatePair): void;
  /** Every pair failed after end-of-candidates, or consent was lost. */
  failed(reason: string): void;
  /** Consent state of the selected pair: responses stopped/resumed (RFC 7675). */
  consent(fresh: boolean): void;
  /** A remote peer-reflexive candidate was learned from a check (§7.3.1.3). */
  remotePrflx?(c: IceCandidate): void;
  roleChanged?(role: Role): void;
}

export interface CheckListTiming {
  taMs: number;
  checkRtoMs: number;
  checkRc: number;
  nominationDelayMs: number;
  consentIntervalMs: number;
  consentTimeoutMs: number;
  disconnectedTimeoutMs: number;
  maxPairs: number;
}

/** Drop counters (bad input is dropped with a reason, never thrown). */
export interface CheckListCounters {
  badRequests: number;
  badResponses: number;
  roleConflicts: number;
}

export class CheckList {
  role: Role;
  readonly tieBreaker: bigint;
  readonly counters: CheckListCounters = {
    badRequests: 0,
    badResponses: 0,
    roleConflicts: 0,
  };
  private readonly table: PairTable;
  private readonly triggered: CandidatePair[] = [];
  private readonly transactions: CheckTransactions;
  private remote: IceCredentials | undefined;
  private nextCheckAt = 0;
  private firstValidAt: number | undefined;
  private nominating: CandidatePair | undefined;
  private selectedPair: CandidatePair | undefined;
  private readonly consent: ConsentFreshness;
  private remoteEnded = false;
  private localEnded = false;
  private running = false;
  private done = false;

  constructor(
    private readonly local: IceCredentials,
    controlling: boolean,
    private readonly timing: CheckListTiming,
    private readonly sink: CheckListSink,
    tieBreaker: bigint = randomBytes(8).readBigUInt64BE(0),
    random: () => number = Math.random,
  ) {
    this.role = controlling ? 'controlling' : 'controlled';
    this.tieBreaker = tieBreaker;
    this.table = new PairTable(
      () => this.role,
      timing.maxPairs,
      (p) => this.triggered.includes(p),
    );
    this.transactions = new CheckTransactions({
      rtoMs: timing.checkRtoMs,
      rc: timing.checkRc,
      consentWaitMs: timing.consentIntervalMs,
    });
    this.consent = new ConsentFreshness(
      {
        intervalMs: timing.consentIntervalMs,
        staleMs: timing.disconnectedTimeoutMs,
        timeoutMs: timing.consentTimeoutMs,
      },
      random,
    );
  }

  get localCredentials(): IceCredentials {
    return this.local;
  }

  get remoteCredentials(): IceCredentials | undefined {
    return this.remote;
  }

  get selected(): CandidatePair | undefined {
    return this.selectedPair;
  }

  get checklist(): readonly CandidatePair[] {
    return this.table.pairs;
  }

  get remoteCandidates(): readonly IceCandidate[] {
    return this.table.remotes;
  }

  addLocal(c: LocalCandidate): void {
    this.table.addLocal(c);
  }

  /** Adds a remote candidate (trickled or from the SDP); `.local` names are not paired. */
  addRemote(c: IceCandidate): void {
    this.table.addRemote(c);
  }

  get endOfCandidates(): boolean {
    return this.remoteEnded && this.localEnded;
  }

  setRemoteCredentials(c: IceCredentials): void {
    this.remote = c;
  }

  /** Starts checking (the adapter calls this on `connect()`). */
  start(now: number): void {
    this.running = true;
    this.nextCheckAt = Math.min(this.nextCheckAt || now, now);
  }

  /** Stops everything (close, failure): no more sends. */
  stop(): void {
    this.running = false;
    this.done = true;
    this.transactions.clear();
    this.consent.stop();
  }

  setLocalEnded(): void {
    this.localEnded = true;
  }

  setRemoteEnded(now: number): void {
    this.remoteEnded = true;
    this.checkFailure(now);
  }

  /** Earliest time `tick` has something to do, or undefined. */
  nextTimeout(): number | undefined {
    if (this.done) return undefined;
    let t: number | undefined;
    const at = (x: number): void => {
      t = t === undefined ? x : Math.min(t, x);
    };
    const tx = this.transactions.nextTimeout();
    if (tx !== undefined) at(tx);
    if (this.running && this.remote !== undefined && this.hasCheckToSend()) at(this.nextCheckAt);
    const consent = this.consent.nextTimeout();
    if (consent !== undefined) at(consent);
    if (this.shouldNominateLater()) at((this.firstValidAt ?? 0) + this.timing.nominationDelayMs);
    return t;
  }

  private hasCheckToSend(): boolean {
    if (this.triggered.length > 0) return true;
    if (this.selectedPair !== undefined || this.nominating !== undefined) return false;
    return this.table.pairs.some((p) => p.state === 'waiting' || p.state === 'frozen');
  }

  tick(now: number): void {
    if (this.done) return;
    this.retransmit(now);
    if (this.done) return;
    this.maybeNominate(now);
    if (this.running && this.remote !== undefined && now >= this.nextCheckAt) {
      const pair = this.nextPairToCheck();
      if (pair !== undefined) {
        this.sendCheck(pair, now, this.nominating === pair);
        this.nextCheckAt = now + this.timing.taMs;
      }
    }
    this.consentTick(now);
  }

  /** RFC 8445 §6.1.4.2: triggered queue first, then the best waiting pair, then unfreeze. */
  private nextPairToCheck(): CandidatePair | undefined {
    const t = this.triggered.shift();
    if (t !== undefined) return t;
    if (this.selectedPair !== undefined || this.nominating !== undefined) return undefined;
    const waiting = this.table.pairs.find((p) => p.state === 'waiting');
    if (waiting !== undefined) return waiting;
    const frozen = this.table.pairs.find(
      (p) =>
        p.state === 'frozen' &&
        !this.table.pairs.some(
          (q) =>
            q.foundation === p.foundation && (q.state === 'waiting' || q.state === 'in-progress'),
        ),
    );
    return frozen ?? this.table.pairs.find((p) => p.state === 'frozen');
  }

  private sendCheck(
    pair: CandidatePair,
    now: number,
    useCandidate: boolean,
    consent = false,
  ): void {
    const remote = this.remote;
    if (remote === undefined) return;
    // PRIORITY: what a peer-reflexive candidate from this base would have (§7.1.1).
    const priority = candidatePriority('prflx', (pair.local.priority >>> 8) & 0xffff, 1);
    const request = buildCheckRequest({
      localUfrag: this.local.ufrag,
      remoteUfrag: remote.ufrag,
      remotePwd: remote.pwd,
      priority,
      role: this.role,
      tieBreaker: this.tieBreaker,
      useCandidate,
    });
    // A new ordinary check of a pair replaces its outstanding one (§7.2.5.4).
    if (!consent && pair.state !== 'succeeded') pair.state = 'in-progress';
    this.transactions.add({ pair, request, useCandidate, role: this.role, consent }, now);
    this.sink.send(pair.local.base, toAddress(pair.remote), request);
  }

  private retransmit(now: number): void {
    this.transactions.due(
      now,
      (tx) => this.sink.send(tx.pair.local.base, toAddress(tx.pair.remote), tx.request),
      (tx) => {
        if (tx.pair.state === 'in-progress') tx.pair.state = 'failed';
        if (this.nominating === tx.pair) this.nominating = undefined;
        this.checkFailure(now);
      },
    );
  }

  private checkFailure(now: number): void {
    if (this.done || this.selectedPair !== undefined) return;
    if (!this.remoteEnded || !this.localEnded || !this.running) return;
    const pending =
      this.triggered.length > 0 ||
      this.table.pairs.some((p) => p.state !== 'failed' && p.state !== 'succeeded') ||
      this.table.pairs.some((p) => p.valid);
    if (pending) return;
    void now;
    this.stop();
    this.sink.failed('every candidate pair failed');
  }

  // ---- incoming -------------------------------------------------------------------------

  /**
   * A STUN message that arrived on `base` from `from` (already known to be STUN). Returns
   * false if it was not ours (unknown transaction, not a Binding): the adapter may route it
   * elsewhere (e.g. srflx gathering).
   */
  handleStun(base: string, from: TransportAddress, buf: Buffer, cls: number, now: number): boolean {
    if (this.done) return false;
    if (cls === StunClass.request) {
      this.handleRequest(base, from, buf, now);
      return true;
    }
    if (cls === StunClass.success || cls === StunClass.error) {
      const tx = this.transactions.get(buf.subarray(8, 20));
      if (tx === undefined) return false;
      this.handleResponse(tx, base, from, buf, now);
      return true;
    }
    return cls === StunClass.indication; // keepalive indications: nothing to do
  }

  private handleRequest(base: string, from: TransportAddress, buf: Buffer, now: number): void {
    const v = verifyCheckRequest(buf, (u) => (u === this.local.ufrag ? this.local.pwd : undefined));
    if (!v.ok) {
      this.counters.badRequests++;
      const m = v.message;
      if (m === undefined) return;
      if (v.reason === 'no-username' || v.reason === 'malformed') {
        this.sink.send(base, from, buildCheckError(m, ErrorCode.BAD_REQUEST));
      } else if (v.reason === 'unknown-ufrag' || v.reason === 'bad-integrity') {
        this.sink.send(base, from, buildCheckError(m, ErrorCode.UNAUTHENTICATED));
      } else if (v.reason === 'unknown-attribute') {
        this.sink.send(
          base,
          from,
          buildCheckError(m, ErrorCode.UNKNOWN_ATTRIBUTE, this.local.pwd, v.unknownAttributes),
        );
      }
      return;
    }
    if (this.remote !== undefined && v.usernameRemote !== this.remote.ufrag) {
      // A check for an older or newer generation of the remote credentials: not ours.
      this.counters.badRequests++;
      return;
    }
    // Role conflict (§7.3.1.1).
    if (v.role === this.role) {
      this.counters.roleConflicts++;
      const weWin = this.tieBreaker >= v.tieBreaker;
      if ((this.role === 'controlling') === weWin) {
        this.sink.send(
          base,
          from,
          buildCheckError(v.message, ErrorCode.ROLE_CONFLICT, this.local.pwd),
        );
        return;
      }
      this.switchRole();
    }
    this.sink.send(base, from, buildCheckSuccess(v.message, from, this.local.pwd));
    const local = this.table.baseCandidate(base);
    if (local === undefined) return;
    let remote = this.table.findRemote(from);
    if (remote === undefined) {
      remote = this.table.learnRemote(from, v.priority);
      this.sink.remotePrflx?.(remote);
    }
    const pair = this.table.addPair(local, remote);
    if (pair === undefined) return;
    const nominate = v.useCandidate && this.role === 'controlled';
    if (pair.state === 'succeeded') {
      if (nominate) this.nominate(pair, now);
      return;
    }
    if (nominate) pair.nominateOnSuccess = true;
    if (!this.running) this.running = true;
    // Triggered check (§7.3.1.4), unless one is already queued or in flight.
    if (pair.state !== 'in-progress' && !this.triggered.includes(pair)) {
      pair.state = 'waiting';
      this.triggered.push(pair);
      if (this.nextCheckAt > now + this.timing.taMs) this.nextCheckAt = now;
    }
  }

  private switchRole(): void {
    this.role = this.role === 'controlling' ? 'controlled' : 'controlling';
    this.table.reprioritize();
    this.sink.roleChanged?.(this.role);
  }

  private handleResponse(
    tx: CheckTransaction,
    base: string,
    from: TransportAddress,
    buf: Buffer,
    now: number,
  ): void {
    const remote = this.remote;
    const m = remote === undefined ? undefined : verifyCheckResponse(buf, remote.pwd);
    if (m === undefined) {
      this.counters.badResponses++;
      return;
    }
    this.transactions.delete(buf.subarray(8, 20));
    const pair = tx.pair;
    if (tx.consent) {
      if (m.messageClass === StunClass.success && this.consent.onResponse(now)) {
        this.sink.consent(true);
      }
      return;
    }
    // Non-symmetric: the response must come back on the same 5-tuple (§7.2.5.2.1).
    if (base !== pair.local.base || !sameAddress(pair.remote, from)) {
      pair.state = 'failed';
      this.checkFailure(now);
      return;
    }
    if (m.messageClass === StunClass.error) {
      this.onErrorResponse(m, tx, now);
      return;
    }
    const mapped = readMapped(m);
    if (mapped === undefined) {
      this.counters.badResponses++;
      pair.state = 'failed';
      this.checkFailure(now);
      return;
    }
    const valid = this.table.validPairFor(pair, mapped, priorityOf(tx.request));
    pair.state = 'succeeded';
    pair.validPair = valid;
    valid.state = 'succeeded';
    valid.valid = true;
    if (valid === this.selectedPair && this.consent.onResponse(now)) this.sink.consent(true);
    this.firstValidAt ??= now;
    // Unfreeze pairs with the same foundation (§7.2.5.3.3).
    for (const p of this.table.pairs) {
      if (p.state === 'frozen' && p.foundation === pair.foundation) p.state = 'waiting';
    }
    if ((tx.useCandidate && tx.role === 'controlling') || pair.nominateOnSuccess) {
      this.nominate(pair, now);
    } else {
      this.maybeNominate(now);
    }
  }

  private onErrorResponse(m: StunMessage, tx: CheckTransaction, now: number): void {
    const pair = tx.pair;
    const a = m.get(AttributeType.ERROR_CODE);
    const code = a === undefined ? undefined : decodeErrorCode(m, a)?.code;
    if (code === ErrorCode.ROLE_CONFLICT) {
      // §7.2.5.1: switch role if we still have the one the check was sent with, then retry.
      this.counters.roleConflicts++;
      if (tx.role === this.role) this.switchRole();
      pair.state = 'waiting';
      this.triggered.push(pair);
      if (this.nominating === pair) this.nominating = undefined;
      return;
    }
    pair.state = 'failed';
    if (this.nominating === pair) this.nominating = undefined;
    this.checkFailure(now);
  }

  private shouldNominateLater(): boolean {
    return (
      this.role === 'controlling' &&
      this.selectedPair === undefined &&
      this.nominating === undefined &&
      this.firstValidAt !== undefined
    );
  }

  /** Regular nomination (§8.1.1): the best valid pair, once better ones are settled. */
  private maybeNominate(now: number): void {
    if (!this.shouldNominateLater()) return;
    const best = this.bestSucceeded();
    if (best === undefined) return;
    const better = this.table.pairs.some(
      (p) =>
        p.priority > best.priority &&
        (p.state === 'waiting' || p.state === 'in-progress' || p.state === 'frozen'),
    );
    if (better && now < (this.firstValidAt ?? now) + this.timing.nominationDelayMs) return;
    this.nominating = best;
    this.triggered.unshift(best);
    if (this.nextCheckAt > now) this.nextCheckAt = now;
  }

  private bestSucceeded(): CandidatePair | undefined {
    let best: CandidatePair | undefined;
    for (const p of this.table.pairs) {
      if (p.state !== 'succeeded' || p.validPair === undefined) continue;
      if (best === undefined || p.validPair.priority > (best.validPair?.priority ?? 0n)) best = p;
    }
    return best;
  }

  private nominate(checked: CandidatePair, now: number): void {
    const valid = checked.validPair ?? checked;
    checked.nominated = true;
    valid.nominated = true;
    if (this.nominating === checked) this.nominating = undefined;
    const current = this.selectedPair;
    if (current !== undefined && current.priority >= valid.priority) return;
    this.selectedPair = valid;
    this.consent.start(now);
    // Checks still queued for other pairs are abandoned (§8.1.2), triggered ones kept.
    this.sink.selected(valid);
  }

  private consentTick(now: number): void {
    const pair = this.selectedPair;
    if (pair === undefined || this.done) return;
    const due = this.consent.poll(now);
    if (due.expired) {
      this.stop();
      this.sink.failed('consent expired (RFC 7675)');
      return;
    }
    if (due.stale) this.sink.consent(false);
    if (due.send) {
      const checked = this.table.pairs.find((p) => p.validPair === pair) ?? pair;
      this.sendCheck(checked, now, false, true);
    }
  }

  /** True if `from` on `base` authenticated itself (a check or a response) at least once. */
  isKnownRemote(base: string, from: TransportAddress): boolean {
    const s = this.selectedPair;
    if (s !== undefined && s.local.base === base && sameAddress(s.remote, from)) return true;
    return this.table.isKnownRemote(base, from);
  }
}
