import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import {
  decodeStunMessage,
  isStunMessage,
  StunClass,
  type TransportAddress,
} from '../stun/index.js';
import { silentLogger } from '../util/logger.js';
import {
  type IceAgentOptions,
  parseIceUrl,
  type ResolvedAgentOptions,
  resolveAgentOptions,
} from './agent-options.js';
import { type IceCandidate, isMdnsName } from './candidate.js';
import {
  type CandidatePair,
  CheckList,
  type CheckListSink,
  type IceCredentials,
  type LocalCandidate,
  type Role,
} from './checklist.js';
import { Gatherer } from './gather.js';

export type IceState =
  | 'new'
  | 'checking'
  | 'connected'
  | 'completed'
  | 'disconnected'
  | 'failed'
  | 'closed';
export type GatheringState = 'new' | 'gathering' | 'complete';

export interface IceAgentEvents {
  /** A local candidate (trickle ICE, RFC 8838): signal it to the peer. */
  candidate: [IceCandidate];
  /** Gathering finished: signal end-of-candidates. */
  'gathering-complete': [];
  state: [IceState];
  /** The selected pair (first one, or a better one nominated later). */
  'selected-pair': [CandidatePair];
  /** A non-STUN packet from an authenticated remote address (DTLS, SRTP…). */
  data: [Buffer];
  /** The role changed after a 487 or a detected conflict (RFC 8445 §7.3.1.1). */
  role: [Role];
  error: [Error];
}

/**
 * A full ICE agent (RFC 8445) with trickle (RFC 8838) and consent freshness (RFC 7675), for
 * one component over UDP. Gathers host, server-reflexive and relayed candidates, runs the
 * check list (checklist.ts) on the gathered sockets and delivers non-STUN packets as 'data'.
 */
export class IceAgent extends EventEmitter<IceAgentEvents> {
  private readonly opts: ResolvedAgentOptions;
  private readonly log;
  private list: CheckList;
  private oldList: CheckList | undefined;
  private readonly gatherer: Gatherer;
  private readonly locals: LocalCandidate[] = [];
  private timer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private gathering: Promise<void> | undefined;
  private iceState: IceState = 'new';
  private gatherState: GatheringState = 'new';
  private connectWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private connectRequested = false;

  constructor(private readonly options: IceAgentOptions = {}) {
    super();
    this.opts = resolveAgentOptions(options);
    this.log = options.logger ?? silentLogger;
    for (const s of options.turnServers ?? []) {
      for (const u of typeof s.urls === 'string' ? [s.urls] : s.urls) parseIceUrl(u);
    }
    for (const s of options.stunServers ?? []) if (typeof s === 'string') parseIceUrl(s);
    this.list = this.newList(
      { ufrag: options.ufrag ?? randomIceString(8), pwd: options.pwd ?? randomIceString(24) },
      this.opts.controlling,
      options.tieBreaker,
    );
    this.gatherer = new Gatherer(options, this.opts.gatherTimeoutMs, this.log, {
      candidate: (c) => this.addLocal(c),
      packet: (base, buf, from) => this.onPacket(base, buf, from),
      closed: () => this.isClosed(),
    });
  }

  get localParameters(): IceCredentials {
    return { ...this.list.localCredentials };
  }

  get state(): IceState {
    return this.iceState;
  }

  get gatheringState(): GatheringState {
    return this.gatherState;
  }

  get role(): Role {
    return this.list.role;
  }

  /** The pair data flows on; undefined until a pair is nominated. */
  get selectedPair(): CandidatePair | undefined {
    return this.list.selected ?? this.oldList?.selected;
  }

  get localCandidates(): readonly IceCandidate[] {
    return this.locals.map(publicCandidate);
  }

  get counters(): CheckList['counters'] {
    return this.list.counters;
  }

  /** Sets the peer's ufrag/pwd (from its SDP); needed before checks are sent. */
  setRemoteParameters(p: IceCredentials): void {
    if (typeof p?.ufrag !== 'string' || typeof p.pwd !== 'string' || p.ufrag === '') {
      throw new TypeError('remote parameters need ufrag and pwd');
    }
    this.list.setRemoteCredentials({ ufrag: p.ufrag, pwd: p.pwd });
    this.kick();
  }

  /**
   * A remote candidate, any time (trickle); `null` is end-of-candidates. Candidates for a
   * different ufrag (an older generation) are ignored. `.local` names are resolved if the
   * system can; either way their checks reach us as peer-reflexive candidates.
   */
  addRemoteCandidate(c: IceCandidate | null): void {
    if (this.iceState === 'closed') return;
    if (c === null) {
      this.list.setRemoteEnded(Date.now());
      this.updateCompleted();
      this.kick();
      return;
    }
    const remoteUfrag = this.list.remoteCredentials?.ufrag;
    if (c.ufrag !== undefined && remoteUfrag !== undefined && c.ufrag !== remoteUfrag) return;
    if (isMdnsName(c.address)) {
      this.resolveMdns(c);
      return;
    }
    this.list.addRemote(c);
    this.kick();
  }

  private resolveMdns(c: IceCandidate): void {
    if (this.options.resolveMdns === false) return;
    const list = this.list;
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref());
    Promise.race([lookup(c.address).catch(() => undefined), timeout]).then((r) => {
      if (r === undefined || list !== this.list || this.iceState === 'closed') return;
      list.addRemote({ ...c, address: r.address });
      this.kick();
    });
  }

  /**
   * Gathers local candidates, emitting each as 'candidate' and then 'gathering-complete'.
   * Resolves when gathering is complete. Idempotent.
   */
  gather(): Promise<void> {
    this.gathering ??= this.doGather();
    return this.gathering;
  }

  private async doGather(): Promise<void> {
    this.gatherState = 'gathering';
    await this.gatherer.run();
    if (this.isClosed()) return;
    this.gatherState = 'complete';
    this.list.setLocalEnded();
    this.emitSafe('gathering-complete');
    this.updateCompleted();
  }

  private addLocal(c: LocalCandidate): void {
    this.locals.push(c);
    this.list.addLocal(c);
    this.emitSafe('candidate', publicCandidate(c));
    this.kick();
  }

  /**
   * Starts connectivity checks; resolves once a pair is selected ('connected'), rejects on
   * 'failed' or 'closed'. Gathers first if `gather()` was not called.
   */
  connect(): Promise<void> {
    if (this.iceState === 'closed') return Promise.reject(new Error('agent closed'));
    if (this.iceState === 'failed') return Promise.reject(new Error('ICE failed'));
    const done = new Promise<void>((resolve, reject) => {
      if (this.list.selected !== undefined) resolve();
      else this.connectWaiters.push({ resolve, reject });
    });
    if (!this.connectRequested) {
      this.connectRequested = true;
      void this.gather();
      this.list.start(Date.now());
      if (this.iceState === 'new') this.setState('checking');
      this.armConnectTimer();
      this.kick();
    }
    return done;
  }

  private armConnectTimer(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (this.list.selected === undefined) this.fail('no pair selected in time');
    }, this.opts.connectTimeoutMs);
    this.connectTimer.unref();
  }

  /** Sends `data` on the selected pair; false if there is none yet (or the agent closed). */
  send(data: Uint8Array): boolean {
    const pair = this.selectedPair;
    if (pair === undefined || this.iceState === 'closed') return false;
    this.sendOn(
      pair.local.base,
      toTransport(pair.remote),
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
    return true;
  }

  /**
   * ICE restart (RFC 8445 §9): new local ufrag/pwd and a fresh check list over the same
   * candidates. Signal the returned parameters and candidates again; the previous selected
   * pair carries data until a new one is selected.
   */
  restart(): IceCredentials {
    if (this.iceState === 'closed') throw new Error('agent closed');
    this.oldList?.stop();
    this.oldList = this.list.selected !== undefined ? this.list : undefined;
    if (this.oldList === undefined) this.list.stop();
    const role = this.list.role;
    this.list = this.newList(
      { ufrag: randomIceString(8), pwd: randomIceString(24) },
      role === 'controlling',
      this.list.tieBreaker,
    );
    for (const c of this.locals) this.list.addLocal(c);
    if (this.gatherState === 'complete') this.list.setLocalEnded();
    this.connectRequested = false;
    if (this.iceState !== 'new') this.setState('checking');
    return this.localParameters;
  }

  /** Closes sockets and allocations; state 'closed'. Idempotent. */
  async close(): Promise<void> {
    if (this.iceState === 'closed') return;
    this.list.stop();
    this.oldList?.stop();
    clearTimeout(this.timer);
    clearTimeout(this.connectTimer);
    this.setState('closed');
    await this.gatherer.close();
  }

  /** Read through a method: TypeScript narrows the field across awaits otherwise. */
  private isClosed(): boolean {
    return this.iceState === 'closed';
  }

  private newList(local: IceCredentials, controlling: boolean, tieBreaker?: bigint): CheckList {
    const sink: CheckListSink = {
      send: (base, to, data) => this.sendOn(base, to, data),
      selected: (pair) => this.onSelected(list, pair),
      failed: (reason) => {
        if (list === this.list) this.fail(reason);
      },
      consent: (fresh) => {
        if (list !== this.list) return;
        if (!fresh) this.setState('disconnected');
        else this.setState(list.endOfCandidates ? 'completed' : 'connected');
      },
      roleChanged: (role) => this.emitSafe('role', role),
    };
    const list = new CheckList(local, controlling, this.opts, sink, tieBreaker);
    return list;
  }

  private onSelected(list: CheckList, pair: CandidatePair): void {
    if (list !== this.list) return;
    if (this.oldList !== undefined) {
      this.oldList.stop();
      this.oldList = undefined;
    }
    clearTimeout(this.connectTimer);
    const relay = this.gatherer.relays.get(pair.local.base);
    relay?.bindChannel(toTransport(pair.remote));
    this.emitSafe('selected-pair', pair);
    if (this.iceState !== 'connected' && this.iceState !== 'completed') this.setState('connected');
    this.updateCompleted();
    for (const w of this.connectWaiters.splice(0)) w.resolve();
  }

  private updateCompleted(): void {
    if (this.iceState === 'connected' && this.list.selected && this.list.endOfCandidates) {
      this.setState('completed');
    }
  }

  private fail(reason: string): void {
    if (this.iceState === 'failed' || this.iceState === 'closed') return;
    this.log.debug({ reason }, 'ice: failed');
    this.list.stop();
    this.setState('failed');
    const err = new Error(`ICE failed: ${reason}`);
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
  }

  private setState(s: IceState): void {
    if (this.iceState === s) return;
    this.iceState = s;
    if (s === 'closed') {
      const err = new Error('agent closed');
      for (const w of this.connectWaiters.splice(0)) w.reject(err);
    }
    this.emitSafe('state', s);
  }

  private emitSafe<K extends keyof IceAgentEvents>(name: K, ...args: IceAgentEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: IceAgentEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      this.log.debug({ err }, 'ice: listener threw');
    }
  }

  private sendOn(base: string, to: TransportAddress, data: Buffer): void {
    if (this.iceState !== 'closed') this.gatherer.sendOn(base, to, data);
  }

  private onPacket(base: string, buf: Buffer, from: TransportAddress): void {
    if (this.iceState === 'closed') return;
    const now = Date.now();
    if (isStunMessage(buf)) {
      const d = decodeStunMessage(buf);
      if (!d.ok) return;
      const cls = d.message.messageClass;
      const handled =
        this.list.handleStun(base, from, buf, cls, now) ||
        (this.oldList?.handleStun(base, from, buf, cls, now) ?? false);
      if (!handled && (cls === StunClass.success || cls === StunClass.error)) {
        this.gatherer.srflx.handle(d.message);
      }
      this.kick();
      return;
    }
    if (this.list.isKnownRemote(base, from) || this.oldList?.isKnownRemote(base, from)) {
      this.emitSafe('data', buf);
    }
  }

  /** Runs the check list's due work now and re-arms the single timer. */
  private kick(): void {
    if (this.iceState === 'closed') return;
    clearTimeout(this.timer);
    const now = Date.now();
    this.list.tick(now);
    this.oldList?.tick(now);
    const next = [this.list.nextTimeout(), this.oldList?.nextTimeout()].filter(
      (x): x is number => x !== undefined,
    );
    if (next.length === 0) return;
    const delay = Math.max(0, Math.min(...next) - Date.now());
    this.timer = setTimeout(() => this.kick(), delay);
  }
}

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomIceString(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += ICE_CHARS[b & 63];
  return s;
}

function publicCandidate(c: LocalCandidate): IceCandidate {
  const { base: _base, ...rest } = c;
  return rest;
}

function toTransport(c: { address: string; port: number }): TransportAddress {
  return { family: c.address.includes(':') ? 6 : 4, address: c.address, port: c.port };
}
