import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
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
  type IceTurnServer,
  parseIceUrl,
  type ResolvedAgentOptions,
  resolveAgentOptions,
} from './agent-options.js';
import { candidatePriority, type IceCandidate, isMdnsName } from './candidate.js';
import {
  type CandidatePair,
  CheckList,
  type CheckListSink,
  type IceCredentials,
  type LocalCandidate,
  type Role,
} from './checklist.js';
import { bindUdp, type HostAddress, hostAddresses } from './gather-host.js';
import { RelayBase } from './gather-relay.js';
import { SrflxRequests } from './gather-srflx.js';

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

interface HostBase {
  id: string;
  socket: dgram.Socket;
  host: HostAddress;
  candidate: LocalCandidate;
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
  private readonly hosts: HostBase[] = [];
  private readonly relays = new Map<string, RelayBase>();
  private readonly locals: LocalCandidate[] = [];
  private readonly foundations = new Map<string, string>();
  private readonly srflx = new SrflxRequests();
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
    const addresses = hostAddresses(this.options);
    const bound = await Promise.all(
      addresses.map((h) =>
        bindUdp(h.address).then(
          (s) => ({ h, s }),
          (err: Error) => {
            this.log.debug({ err, address: h.address }, 'ice: cannot bind host candidate');
            return undefined;
          },
        ),
      ),
    );
    if (this.iceState === 'closed') {
      for (const b of bound) b?.s.close();
      return;
    }
    const relayOnly = this.options.relayOnly === true;
    bound.forEach((b, i) => {
      if (b === undefined) return;
      const port = b.s.address().port;
      const base = `h${i}`;
      const candidate: LocalCandidate = {
        foundation: this.foundation('host', b.h.address, ''),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('host', 65535 - i, 1),
        address: b.h.address,
        port,
        type: 'host',
        base,
      };
      const host: HostBase = { id: base, socket: b.s, host: b.h, candidate };
      this.hosts.push(host);
      b.s.on('message', (msg, rinfo) => this.onPacket(base, msg, fromRinfo(rinfo)));
      b.s.on('error', (err) => this.log.debug({ err }, 'ice: socket error'));
      if (!relayOnly) this.addLocal(candidate);
    });
    const tasks: Promise<void>[] = [];
    if (!relayOnly) {
      for (const server of this.options.stunServers ?? []) {
        const s = typeof server === 'string' ? parseIceUrl(server) : server;
        for (const h of this.hosts) tasks.push(this.gatherSrflx(h, s.host, s.port));
      }
    }
    let r = 0;
    for (const server of this.options.turnServers ?? []) {
      for (const u of typeof server.urls === 'string' ? [server.urls] : server.urls) {
        const url = parseIceUrl(u);
        if (url.scheme === 'stun') continue;
        tasks.push(this.gatherRelay(`r${r++}`, url, server));
      }
    }
    await Promise.all(tasks);
    if (this.isClosed()) return;
    this.gatherState = 'complete';
    this.list.setLocalEnded();
    this.emitSafe('gathering-complete');
    this.updateCompleted();
  }

  private async gatherSrflx(h: HostBase, host: string, port: number): Promise<void> {
    if ((host.includes(':') ? 6 : 4) !== h.host.family) return;
    try {
      const mapped = await this.srflx.binding(
        (buf) => h.socket.send(buf, port, host),
        this.opts.gatherTimeoutMs,
      );
      if (this.iceState === 'closed') return;
      const dup = this.locals.some((l) => l.address === mapped.address && l.port === mapped.port);
      if (dup) return;
      this.addLocal({
        foundation: this.foundation('srflx', h.host.address, `${host}:${port}`),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('srflx', (h.candidate.priority >>> 8) & 0xffff, 1),
        address: mapped.address,
        port: mapped.port,
        type: 'srflx',
        relatedAddress: h.candidate.address,
        relatedPort: h.candidate.port,
        base: h.id,
      });
    } catch (err) {
      this.log.debug({ err, host, port }, 'ice: no server-reflexive candidate');
    }
  }

  private async gatherRelay(
    id: string,
    url: ReturnType<typeof parseIceUrl>,
    server: IceTurnServer,
  ): Promise<void> {
    try {
      const relay = await RelayBase.allocate(
        url,
        server.username,
        server.credential,
        this.opts.gatherTimeoutMs,
        server.tls,
      );
      if (this.iceState === 'closed') {
        await relay.close();
        return;
      }
      this.relays.set(id, relay);
      relay.client.on('data', (peer, data) => this.onPacket(id, data, peer));
      relay.client.on('error', (err) => this.log.debug({ err }, 'ice: TURN client error'));
      const transportPref = url.transport === 'udp' ? 2 : url.transport === 'tcp' ? 1 : 0;
      this.addLocal({
        foundation: this.foundation('relay', url.host, `${url.port}/${url.transport}`),
        component: 1,
        transport: 'udp',
        priority: candidatePriority('relay', transportPref * 256 + 255 - this.relays.size, 1),
        address: relay.relayed.address,
        port: relay.relayed.port,
        type: 'relay',
        relatedAddress: relay.mapped.address,
        relatedPort: relay.mapped.port,
        base: id,
      });
    } catch (err) {
      this.log.debug({ err, url }, 'ice: no relayed candidate');
    }
  }

  /** RFC 8445 §5.1.1.3: same type, base IP and server (and transport) → same foundation. */
  private foundation(type: string, base: string, server: string): string {
    const key = `${type}|${base}|${server}`;
    let f = this.foundations.get(key);
    if (f === undefined) {
      f = String(this.foundations.size + 1);
      this.foundations.set(key, f);
    }
    return f;
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
    this.srflx.cancel();
    this.setState('closed');
    for (const h of this.hosts) h.socket.close();
    await Promise.all([...this.relays.values()].map((r) => r.close().catch(() => {})));
    this.relays.clear();
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
    const relay = this.relays.get(pair.local.base);
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
    if (this.iceState === 'closed') return;
    const relay = this.relays.get(base);
    if (relay !== undefined) {
      relay.send(to, data);
      return;
    }
    const h = this.hosts.find((x) => x.id === base);
    h?.socket.send(data, to.port, to.address, (err) => {
      if (err) this.log.debug({ err }, 'ice: send failed');
    });
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
        this.srflx.handle(d.message);
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

function fromRinfo(r: dgram.RemoteInfo): TransportAddress {
  return { family: r.family === 'IPv6' ? 6 : 4, address: r.address, port: r.port };
}

function toTransport(c: { address: string; port: number }): TransportAddress {
  return { family: c.address.includes(':') ? 6 : 4, address: c.address, port: c.port };
}
