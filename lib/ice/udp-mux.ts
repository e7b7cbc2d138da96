import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { TransportAddress } from '../stun/transport-address.js';
import { literalLookup } from '../util/literal-lookup.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { DatagramPool, packetSlab } from '../util/packet-slab.js';
import { UdpSender } from '../util/udp-send.js';
import { candidatePriority, formatCandidate, type IceCandidate } from './candidate.js';
import { classifyPacket } from './demux.js';
import {
  IceLiteCore,
  type LiteDropReason,
  type LiteEffects,
  type LiteRemote,
} from './lite-core.js';
import {
  checkIceCredential,
  type IceLiteOptions,
  IceLiteOptionsError,
  type LiteSessionOptions,
  type ResolvedLiteOptions,
  randomIceChars,
  resolveLiteOptions,
} from './lite-options.js';
import { IceLiteSession, type LiteSessionHost } from './lite-session.js';
import { TcpMux, type TcpRemote, unmapIpv4Text } from './tcp-mux.js';

/**
 * Why the mux dropped a packet: the core's reasons plus `unknown-remote` (a non-STUN packet
 * from an address no session has selected), `unknown-class` (a first byte outside the RFC
 * 7983 ranges we use: ZRTP, or garbage) and `turn-channel` (ChannelData: not ours here).
 */
export type MuxDropReason = LiteDropReason | 'unknown-remote' | 'unknown-class' | 'turn-channel';

/** Counters of one mux (a snapshot from `mux.counters()`). */
export interface IceLiteCounters {
  packetsReceived: number;
  /** STUN packets handed to the lite core. */
  stunReceived: number;
  /** Valid checks answered with a success response. */
  checksAnswered: number;
  /** Error responses sent (400, 401, 420, 487). */
  errorsSent: number;
  /** Non-STUN packets delivered to a session. */
  delivered: number;
  /** Packets sent by sessions. */
  sent: number;
  sessions: number;
  connectedSessions: number;
  /** Dropped packets by reason (only reasons seen so far are present). */
  drops: Partial<Record<MuxDropReason, number>>;
}

const NO_PACKET = new Uint8Array(0);
/** Datagrams queued before the mux sends them without waiting for the task's end. */
const SEND_BATCH = 32;

/** A remote of the UDP socket, as the core keeps it for a selected pair. */
interface UdpRemote extends LiteRemote {
  readonly transport: 'udp';
  /**
   * The address as the socket reports it, for sending and routing. On a dual-stack udp6
   * socket an IPv4 peer is `::ffff:a.b.c.d` here, while `address`/`family` (what
   * XOR-MAPPED-ADDRESS tells the peer) are its IPv4 address, as the peer knows itself.
   */
  readonly socketAddress: string;
}

type MuxRemote = UdpRemote | TcpRemote;

/**
 * One UDP socket shared by many ICE-lite sessions (the single-port mode of LiveKit and
 * Janus): a server needs one open port, not one per peer.
 *
 * - STUN (first byte 0–3) goes to the lite core, which routes it by the local ufrag in
 *   USERNAME; checks for unknown ufrags are answered with nothing and cost no state.
 * - Everything else (DTLS, SRTP/SRTCP) goes to the session whose selected (nominated)
 *   remote address it came from, found in a two-level map address → port → session.
 *
 * With `tcpPort` set it also accepts ICE-TCP (RFC 6544 passive candidate, RFC 4571 framing).
 */
export class IceLiteMux implements LiteSessionHost {
  readonly options: ResolvedLiteOptions;
  readonly logger: Logger;
  readonly #socket: Socket;
  readonly #sender: UdpSender;
  readonly #core: IceLiteCore<IceLiteSession, MuxRemote>;
  readonly #sessions = new Set<IceLiteSession>();
  /** Selected UDP remotes: address → port → session. */
  readonly #routes = new Map<string, Map<number, IceLiteSession>>();
  readonly #drops = new Map<MuxDropReason, number>();
  readonly #now: () => number;
  #counts = {
    packetsReceived: 0,
    stunReceived: 0,
    checksAnswered: 0,
    errorsSent: 0,
    delivered: 0,
    sent: 0,
  };
  #connected = 0;
  /** UDP datagrams waiting for `#flush`: packet, port and address at the same index. */
  readonly #pendingPackets: Uint8Array[] = [];
  readonly #pendingPorts: number[] = [];
  readonly #pendingAddresses: string[] = [];
  #pendingCount = 0;
  /**
   * Buffers of `IceLiteSession.datagram` over UDP. Twice the batch: a buffer is reused only
   * after `SEND_BATCH` more were taken, so it was flushed by then (and is renewed whenever a
   * flush left datagrams in the socket's queue).
   */
  readonly #pool = new DatagramPool(2 * SEND_BATCH);
  /** Pool buffers taken since the last flush (sent or not: a refused protect sends none). */
  #taken = 0;
  #timer: NodeJS.Timeout | undefined;
  #tcp: TcpMux | undefined;
  #closed = false;
  #address: TransportAddress;

  private constructor(
    socket: Socket,
    options: ResolvedLiteOptions,
    logger: Logger,
    now: () => number,
  ) {
    this.#socket = socket;
    this.#sender = new UdpSender(socket, { fast: options.fastUdpSend });
    this.options = options;
    this.logger = logger;
    this.#now = now;
    this.#core = new IceLiteCore(options, this.#effects());
    const a = socket.address();
    this.#address = { family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port };
  }

  /**
   * Binds the UDP socket (and the ICE-TCP listener if `tcpPort` is set) and starts the
   * consent sweep. `now` (default `performance.now`-based ms) is injectable for tests.
   * @throws IceLiteOptionsError for an invalid option; the bind error if the port is taken.
   */
  static async bind(
    options: IceLiteOptions = {},
    deps: { now?: () => number } = {},
  ): Promise<IceLiteMux> {
    const resolved = resolveLiteOptions(options);
    const logger = options.logger ?? silentLogger;
    const socket = createSocket({
      type: isIPv6(resolved.address) ? 'udp6' : 'udp4',
      lookup: literalLookup,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(resolved.port, resolved.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (resolved.receiveBufferBytes > 0) {
      try {
        socket.setRecvBufferSize(resolved.receiveBufferBytes);
      } catch (err) {
        logger.warn({ err }, 'ice-lite: could not set the UDP receive buffer size');
      }
    }
    const mux = new IceLiteMux(socket, resolved, logger, deps.now ?? (() => performance.now()));
    socket.on('message', (buf, rinfo) => mux.#onMessage(buf, rinfo));
    socket.on('error', (err) => logger.warn({ err }, 'ice-lite: UDP socket error'));
    if (resolved.tcpPort !== undefined) {
      try {
        mux.#tcp = await TcpMux.listen(resolved, logger, {
          stun: (buf, from) => mux.#onStun(buf, from),
          media: (buf, from) => mux.#onTcpMedia(buf, from),
          closed: (from) => mux.#onTcpClosed(from),
        });
      } catch (err) {
        socket.close();
        throw err;
      }
    }
    mux.#timer = setInterval(() => mux.#core.sweep(mux.#now()), resolved.sweepIntervalMs);
    mux.#timer.unref();
    return mux;
  }

  /** The bound UDP address (the wildcard if bound to one). */
  get address(): TransportAddress {
    return this.#address;
  }

  /** The bound ICE-TCP address, if `tcpPort` was set. */
  get tcpAddress(): TransportAddress | undefined {
    return this.#tcp?.address;
  }

  /**
   * The host candidates of this mux (RFC 8445 §5.1.1.1), one per announced address, UDP
   * first; with ICE-TCP, a `tcptype passive` candidate per address too, at a lower priority
   * (RFC 6544 §4.2: UDP preferred). Every session shares them.
   */
  get localCandidates(): IceCandidate[] {
    const out: IceCandidate[] = [];
    this.options.announcedAddresses.forEach((address, i) => {
      out.push({
        foundation: `${i + 1}`,
        component: 1,
        transport: 'udp',
        priority: candidatePriority('host', 65535 - i, 1),
        address,
        port: this.#address.port,
        type: 'host',
      });
    });
    const tcp = this.#tcp?.address;
    if (tcp !== undefined) {
      this.options.announcedAddresses.forEach((address, i) => {
        out.push({
          foundation: `${i + 101}`,
          component: 1,
          transport: 'tcp',
          // RFC 6544 §4.2: local preference = 2^13 × direction-pref (passive: 4) + other-pref
          priority: candidatePriority('host', (4 << 13) + 8191 - i, 1),
          address,
          port: tcp.port,
          type: 'host',
          tcpType: 'passive',
        });
      });
    }
    return out;
  }

  /** `localCandidates` as SDP attribute values (`candidate:…`, without `a=`). */
  get candidates(): string[] {
    return this.localCandidates.map(formatCandidate);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Remote addresses the mux routes non-STUN packets from (one per connected UDP session):
   * the only per-remote state it keeps. Checks that fail, or name unknown ufrags, add none.
   */
  get routedRemoteCount(): number {
    let n = 0;
    for (const byPort of this.#routes.values()) n += byPort.size;
    return n;
  }

  /** Open ICE-TCP connections (authenticated or still in their handshake window). */
  get tcpConnectionCount(): number {
    return this.#tcp?.connectionCount ?? 0;
  }

  /**
   * A new session. Absent credentials are generated (ufrag 8 and password 24 random
   * ice-chars, RFC 8445 §5.3). Throws IceLiteOptionsError for malformed credentials, a ufrag
   * already registered, `maxSessions` reached, or a closed mux.
   */
  createSession(o: LiteSessionOptions = {}): IceLiteSession {
    if (this.#closed) throw new IceLiteOptionsError('createSession', 'the mux is closed');
    if (this.#sessions.size >= this.options.maxSessions) {
      throw new IceLiteOptionsError('maxSessions', `limit of ${this.options.maxSessions} reached`);
    }
    let ufrag: string;
    if (o.localUfrag !== undefined) {
      ufrag = checkIceCredential('localUfrag', o.localUfrag, 4);
      if (this.#core.has(ufrag)) throw new IceLiteOptionsError('localUfrag', `${ufrag} is in use`);
    } else {
      do ufrag = randomIceChars(8);
      while (this.#core.has(ufrag));
    }
    const pwd =
      o.localPwd === undefined
        ? randomIceChars(24)
        : checkIceCredential('localPwd', o.localPwd, 22);
    if (o.remoteUfrag !== undefined) checkIceCredential('remoteUfrag', o.remoteUfrag, 4);
    const session = new IceLiteSession(this, ufrag, pwd, o.remotePwd);
    session.attach(this.#core.add(session, ufrag, pwd, o.remoteUfrag));
    this.#sessions.add(session);
    return session;
  }

  /** A snapshot of the counters. */
  counters(): IceLiteCounters {
    return {
      ...this.#counts,
      sessions: this.#sessions.size,
      connectedSessions: this.#connected,
      drops: Object.fromEntries(this.#drops),
    };
  }

  /** Closes every session (each emits `closed`), the socket and the TCP listener. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const s of [...this.#sessions]) s.close();
    await this.#tcp?.close();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  /** @internal LiteSessionHost */
  sendTo(remote: LiteRemote, packet: Uint8Array): void {
    this.#counts.sent++;
    // Sessions hold the core's records, whose remotes this mux made (UDP or TCP MuxRemotes).
    this.#send(remote as MuxRemote, packet);
  }

  /** @internal LiteSessionHost */
  datagram(size: number, transport: 'udp' | 'tcp' | undefined): Buffer {
    // ICE-TCP writes may be queued by the stream: those buffers must stay the sender's.
    if (transport !== 'udp') return packetSlab.take(size);
    // Takes that were never sent do not fill the batch: flush before they could reach a
    // buffer still queued (a slot comes back after 2 * SEND_BATCH takes).
    if (++this.#taken > SEND_BATCH) {
      this.#flush();
      this.#taken = 1;
    }
    return this.#pool.take(size);
  }

  /** @internal LiteSessionHost */
  release(session: IceLiteSession): void {
    if (!this.#sessions.delete(session)) return;
    const entry = this.#core.entryOf(session.localUfrag);
    if (entry === undefined || entry.owner !== session) return;
    if (entry.state === 'connected') this.#connected--;
    if (entry.selected !== undefined) this.#unroute(entry.selected, session);
    this.#core.remove(entry);
  }

  #send(remote: MuxRemote, packet: Uint8Array): void {
    if (remote.transport === 'tcp') {
      this.#tcp?.send(remote, packet);
      return;
    }
    const n = this.#pendingCount;
    if (n === 0) queueMicrotask(this.#flush);
    this.#pendingPackets[n] = packet;
    this.#pendingPorts[n] = remote.port;
    this.#pendingAddresses[n] = remote.socketAddress;
    this.#pendingCount = n + 1;
    if (n + 1 === SEND_BATCH) this.#flush();
  }

  /**
   * Sends the datagrams queued since the last flush, back to back: once the current task
   * (one packet's fan-out, a tick) is over, when the default lookup would have sent them
   * too, or as soon as `SEND_BATCH` are waiting, so in a fan-out to hundreds the first
   * subscribers' packets do not wait for the last one's protect. Sending each at once
   * instead, between one packet's SRTP protect and the next, cost ~0.5 µs more CPU per
   * datagram than this (measured, 1,200 B SRTP; likely the cache and TLB state each system
   * call disturbs); the queue costs one microtask per task, not a tick per datagram. A send
   * that throws (the socket closed meanwhile) drops only its datagram. A send the socket had
   * to queue (its kernel buffer full) still holds its buffer: the datagram pool then renews.
   */
  readonly #flush = (): void => {
    const n = this.#pendingCount;
    this.#pendingCount = 0;
    this.#taken = 0;
    const packets = this.#pendingPackets;
    const sender = this.#sender;
    for (let i = 0; i < n; i++) {
      try {
        sender.send(packets[i]!, this.#pendingPorts[i]!, this.#pendingAddresses[i]!);
      } catch (err) {
        this.logger.debug({ err }, 'ice-lite: UDP send failed');
      }
    }
    packets.fill(NO_PACKET, 0, n);
    if (this.#sendsQueued()) this.#pool.renew();
  };

  #sendsQueued(): boolean {
    try {
      return this.#socket.getSendQueueCount() > 0;
    } catch {
      return true; // the socket closed: nothing more is sent, and renewing is always safe
    }
  }

  #onMessage(buf: Buffer, rinfo: RemoteInfo): void {
    this.#counts.packetsReceived++;
    const cls = classifyPacket(buf);
    if (cls === 'stun') {
      const unmapped = rinfo.family === 'IPv6' ? unmapIpv4Text(rinfo.address) : undefined;
      const from: UdpRemote = {
        family: rinfo.family === 'IPv6' && unmapped === undefined ? 6 : 4,
        address: unmapped ?? rinfo.address,
        socketAddress: rinfo.address,
        port: rinfo.port,
        transport: 'udp',
      };
      this.#onStun(buf, from);
      return;
    }
    if (cls === 'unknown' || cls === 'turn-channel') {
      this.#drop(cls === 'unknown' ? 'unknown-class' : 'turn-channel', rinfo);
      return;
    }
    const session = this.#routes.get(rinfo.address)?.get(rinfo.port);
    if (session === undefined) {
      this.#drop('unknown-remote', rinfo);
      return;
    }
    this.#counts.delivered++;
    session.deliver(buf, cls);
  }

  #onStun(buf: Buffer, from: MuxRemote): void {
    this.#counts.stunReceived++;
    this.#core.handleStun(buf, from, this.#now());
  }

  #onTcpMedia(buf: Buffer, from: TcpRemote): void {
    this.#counts.packetsReceived++;
    const cls = classifyPacket(buf);
    if (cls !== 'dtls' && cls !== 'rtp') {
      this.#drop(cls === 'turn-channel' ? 'turn-channel' : 'unknown-class', from);
      return;
    }
    const session = from.session;
    const entry = session === undefined ? undefined : this.#core.entryOf(session.localUfrag);
    if (session === undefined || entry?.selected !== from || entry.state !== 'connected') {
      this.#drop('unknown-remote', from);
      return;
    }
    this.#counts.delivered++;
    session.deliver(buf, cls);
  }

  #onTcpClosed(from: TcpRemote): void {
    const session = from.session;
    if (session === undefined) return;
    const entry = this.#core.entryOf(session.localUfrag);
    if (entry?.selected === from) this.#core.unselect(entry);
  }

  #drop(reason: MuxDropReason, from: { address: string; port: number }): void {
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1);
    if (this.logger.isLevelEnabled?.('debug') ?? true) {
      this.logger.debug({ reason, from: `${from.address}:${from.port}` }, 'ice-lite drop');
    }
  }

  #route(remote: MuxRemote, session: IceLiteSession): void {
    if (remote.transport === 'tcp') {
      remote.session = session;
      return;
    }
    const holder = this.#routes.get(remote.socketAddress)?.get(remote.port);
    // Another session held this 5-tuple (a peer that reconnected from the same port): the
    // latest nomination wins; the old session is disconnected until nominated again.
    if (holder !== undefined && holder !== session) {
      const old = this.#core.entryOf(holder.localUfrag);
      if (old !== undefined) this.#core.unselect(old);
    }
    let byPort = this.#routes.get(remote.socketAddress);
    if (byPort === undefined) {
      byPort = new Map();
      this.#routes.set(remote.socketAddress, byPort);
    }
    byPort.set(remote.port, session);
  }

  #unroute(remote: MuxRemote, session: IceLiteSession): void {
    if (remote.transport === 'tcp') return;
    const byPort = this.#routes.get(remote.socketAddress);
    if (byPort?.get(remote.port) !== session) return;
    byPort.delete(remote.port);
    if (byPort.size === 0) this.#routes.delete(remote.socketAddress);
  }

  #effects(): LiteEffects<IceLiteSession, MuxRemote> {
    return {
      send: (to, data) => {
        const ok = data[1] === 0x01; // 0x0101 Binding success; errors are 0x0111
        if (ok) this.#counts.checksAnswered++;
        else this.#counts.errorsSent++;
        this.#send(to, data);
      },
      selected: (session, remote, previous, wasConnected) => {
        if (previous !== undefined) this.#unroute(previous, session);
        this.#route(remote, session);
        if (!wasConnected) this.#connected++;
        const address = { family: remote.family, address: remote.address, port: remote.port };
        session.safeEmit('selected', address, remote.transport);
        if (!wasConnected) session.safeEmit('connected', address);
      },
      consentExpired: (session, remote) => {
        this.#unroute(remote, session);
        this.#connected--;
        session.safeEmit('disconnected');
      },
      drop: (reason, from) => this.#drop(reason, from),
      authenticated: (session, from) => {
        if (from.transport === 'tcp') this.#tcp?.authenticated(from, session);
      },
    };
  }
}
