import { ErrorCode, StunClass, StunMethod } from '../stun/constants.js';
import type { TransportAddress } from '../stun/transport-address.js';
import type { CheckKey } from './check-hmac.js';
import {
  authenticateCheck,
  buildCheckError,
  buildCheckSuccess,
  type CheckAuthentication,
  type CheckRejection,
  checkKeyOf,
} from './stun-check.js';

/**
 * The sans-IO ICE-lite responder (RFC 8445 §2.5, §7.3): a table of sessions keyed by local
 * ufrag that answers connectivity checks, learns each session's remote address from the check
 * that nominates it (USE-CANDIDATE), and ends consent (RFC 7675) when the selected address has
 * sent no valid check for `consentTimeoutMs`. It opens no socket and reads no clock: the
 * adapter (`IceLiteMux`, or a test) passes packets with `now` and performs the effects.
 *
 * A lite agent is always controlled and sends no checks of its own (§2.5). A request carrying
 * ICE-CONTROLLED (the peer thinks it is controlled too) is answered 487 Role Conflict: the
 * lite agent acts as if its tie-breaker were 2^64 − 1, so it never takes the controlling role
 * and the full peer switches (§7.3.1.1, §7.2.5.1).
 */

/** Where a packet came from. `transport` and `connection` tell ICE-TCP paths apart. */
export interface LiteRemote extends TransportAddress {
  readonly transport: 'udp' | 'tcp';
  /** The TCP connection (ICE-TCP); absent for UDP. */
  readonly connection?: object;
}

/**
 * Why the core dropped (and counted) a packet: the `CheckRejection`s of `authenticateCheck`,
 * plus `role-conflict` (answered 487), `remote-ufrag-mismatch` (a USERNAME naming another
 * remote ufrag than the session's), `not-a-request` (a STUN response or non-Binding method)
 * and `indication` (a Binding indication: an RFC 8445 §11 keepalive, ignored).
 */
export type LiteDropReason =
  | CheckRejection
  | 'role-conflict'
  | 'remote-ufrag-mismatch'
  | 'not-a-request'
  | 'indication';

/** Where a session stands: `disconnected` after consent expiry, until a new nomination. */
export type LiteSessionState = 'new' | 'connected' | 'disconnected' | 'closed';

/** What the core asks its adapter to do; calls happen synchronously inside `handleStun`/`sweep`. */
export interface LiteEffects<S, R extends LiteRemote = LiteRemote> {
  /** Send `data` (a response) to `to`; the buffer is not reused by the core. */
  send(to: R, data: Buffer): void;
  /**
   * `session` now sends to `remote`: its first nomination, a new one (`previous` is the
   * address it replaces), or the selected address coming back after consent loss.
   * `wasConnected` tells a move while connected from a (re)connection.
   */
  selected(session: S, remote: R, previous: R | undefined, wasConnected: boolean): void;
  /** Consent expired: `session` must stop sending to `remote`. */
  consentExpired(session: S, remote: R): void;
  /** A packet was dropped (possibly after an error response); count it. */
  drop(reason: LiteDropReason, from: R): void;
  /** A valid check for `session` arrived from `from` (answered with success). */
  authenticated?(session: S, from: R): void;
}

/** The core's record of one session. `owner` is the adapter's object, returned in effects. */
export class LiteEntry<S, R extends LiteRemote = LiteRemote> {
  state: LiteSessionState = 'new';
  remoteUfrag: string | undefined;
  selected: R | undefined;
  /** When the selected address last sent a valid check. */
  consentAt = 0;

  constructor(
    readonly owner: S,
    readonly ufrag: string,
    /** The short-term key (RFC 8489 §9.1.1) of the local password, prepared once. */
    readonly key: CheckKey,
    remoteUfrag: string | undefined,
  ) {
    this.remoteUfrag = remoteUfrag;
  }
}

export interface LiteCoreOptions {
  /** See `IceLiteOptions.consentTimeoutMs`. */
  consentTimeoutMs: number;
}

export function sameRemote(a: LiteRemote, b: LiteRemote): boolean {
  return (
    a.port === b.port &&
    a.address === b.address &&
    a.transport === b.transport &&
    a.connection === b.connection
  );
}

export class IceLiteCore<S, R extends LiteRemote = LiteRemote> {
  readonly #entries = new Map<string, LiteEntry<S, R>>();
  /** Sessions with a selected address, for the consent sweep. */
  readonly #selected = new Set<LiteEntry<S, R>>();
  readonly #lookup = (ufrag: string): LiteEntry<S, R> | undefined => this.#entries.get(ufrag);

  constructor(
    private readonly options: LiteCoreOptions,
    private readonly effects: LiteEffects<S, R>,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  has(ufrag: string): boolean {
    return this.#entries.has(ufrag);
  }

  entryOf(ufrag: string): LiteEntry<S, R> | undefined {
    return this.#entries.get(ufrag);
  }

  /** Registers a session; throws TypeError if its ufrag is taken. */
  add(owner: S, ufrag: string, password: string, remoteUfrag?: string): LiteEntry<S, R> {
    if (this.#entries.has(ufrag)) throw new TypeError(`ufrag ${ufrag} is already registered`);
    const entry = new LiteEntry<S, R>(owner, ufrag, checkKeyOf(password), remoteUfrag);
    this.#entries.set(ufrag, entry);
    return entry;
  }

  /** Forgets a session: its checks go unanswered from now on. Idempotent. */
  remove(entry: LiteEntry<S, R>): void {
    if (this.#entries.get(entry.ufrag) === entry) this.#entries.delete(entry.ufrag);
    this.#selected.delete(entry);
    entry.state = 'closed';
    entry.selected = undefined;
  }

  /**
   * One STUN packet (first byte 0–3, RFC 7983) from `from`. Answers a valid check with a
   * success response; answers 400/401/420/487 where RFC 8489 §6.3 and RFC 8445 §7.3 say so;
   * drops everything else. A check for an unknown ufrag is answered with nothing and leaves
   * nothing behind (no state per sender: a flood of them costs only CPU).
   */
  handleStun(buf: Buffer, from: R, now: number): void {
    const r = authenticateCheck(buf, this.#lookup, keyOfEntry);
    if (!r.ok) {
      this.#reject(r, from);
      return;
    }
    const entry = r.entry;
    if (entry.remoteUfrag !== undefined && entry.remoteUfrag !== r.usernameRemote) {
      this.effects.drop('remote-ufrag-mismatch', from);
      return;
    }
    if (r.role === 'controlled') {
      this.effects.send(from, buildCheckError(r.message, ErrorCode.ROLE_CONFLICT, entry.key));
      this.effects.drop('role-conflict', from);
      return;
    }
    this.effects.send(from, buildCheckSuccess(r.message, from, entry.key));
    this.effects.authenticated?.(entry.owner, from);
    const selected = entry.selected;
    if (selected !== undefined && sameRemote(selected, from)) {
      entry.consentAt = now;
      if (entry.state !== 'connected') this.#select(entry, from, now);
      return;
    }
    // §7.3.1.5 / §8.2: a lite agent uses the nominated pair; a later nomination (the peer
    // moved, or an ICE-TCP fallback) replaces the earlier one.
    if (r.useCandidate) this.#select(entry, from, now);
  }

  /** Ends consent of sessions whose selected address has been silent too long. */
  sweep(now: number): void {
    const deadline = now - this.options.consentTimeoutMs;
    for (const entry of this.#selected) {
      if (entry.consentAt > deadline || entry.state !== 'connected') continue;
      entry.state = 'disconnected';
      const remote = entry.selected;
      if (remote !== undefined) this.effects.consentExpired(entry.owner, remote);
    }
  }

  /**
   * Forgets `remote` as the selected address of whichever session holds it (its TCP
   * connection closed, say); that session is `disconnected` until nominated again.
   */
  unselect(entry: LiteEntry<S, R>): void {
    if (entry.selected === undefined) return;
    const remote = entry.selected;
    entry.selected = undefined;
    this.#selected.delete(entry);
    if (entry.state === 'connected') {
      entry.state = 'disconnected';
      this.effects.consentExpired(entry.owner, remote);
    }
  }

  #select(entry: LiteEntry<S, R>, remote: R, now: number): void {
    const previous = entry.selected;
    const wasConnected = entry.state === 'connected';
    entry.selected = remote;
    entry.consentAt = now;
    entry.state = 'connected';
    this.#selected.add(entry);
    this.effects.selected(entry.owner, remote, previous, wasConnected);
  }

  #reject(r: Extract<CheckAuthentication<LiteEntry<S, R>>, { ok: false }>, from: R): void {
    const { reason, message } = r;
    if (message === undefined) {
      this.effects.drop(reason, from);
      return;
    }
    if (message.method !== StunMethod.binding || message.messageClass !== StunClass.request) {
      const indication =
        message.method === StunMethod.binding && message.messageClass === StunClass.indication;
      this.effects.drop(indication ? 'indication' : 'not-a-request', from);
      return;
    }
    // Answer only well-framed Binding requests, and never for an unknown ufrag: no oracle of
    // which ufrags exist, no reflection for spoofed floods, no state per sender.
    if (reason === 'no-username' || reason === 'malformed') {
      this.effects.send(from, buildCheckError(message, ErrorCode.BAD_REQUEST));
    } else if (reason === 'bad-integrity') {
      this.effects.send(from, buildCheckError(message, ErrorCode.UNAUTHENTICATED));
    } else if (reason === 'unknown-attribute') {
      const error = buildCheckError(
        message,
        ErrorCode.UNKNOWN_ATTRIBUTE,
        r.entry?.key,
        r.unknownAttributes,
      );
      this.effects.send(from, error);
    }
    this.effects.drop(reason, from);
  }
}

function keyOfEntry<S, R extends LiteRemote>(entry: LiteEntry<S, R>): CheckKey {
  return entry.key;
}
