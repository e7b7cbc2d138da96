import { randomBytes } from 'node:crypto';
import type { Logger } from '../util/logger.js';
import { type Authenticator, type Identity, roomAllowed } from './auth.js';
import type { Connection } from './connection.js';
import { CloseCode, type SignalErrorCode } from './errors.js';
import { mintIceServers } from './ice-servers.js';
import type { ResolvedSignalOptions } from './options.js';
import { Peer } from './peer.js';
import {
  type ClientMessage,
  errorFrame,
  parseClientMessage,
  type SessionType,
} from './protocol.js';
import { type Relayable, relayFrame, relayMessage } from './relay-frame.js';
import type { RoomService, SfuClientMessage } from './room-service.js';
import { ServiceBridge, type ServiceCounters, sfuRefusal } from './service-bridge.js';
import type { ResumeInfo, SessionRecord, SignalStore, StoreEvent } from './store.js';

/**
 * The transport-independent core of the signaling server: rooms and peers of this node, the
 * dispatch of validated messages, delivery (direct to a local peer, through the store to a
 * remote one), resume and session records. WebSockets and the HTTP API both feed it
 * `Connection`s; it never touches a socket itself.
 */
export interface HubStats extends ServiceCounters {
  relayed: number;
  errors: Map<string, number>;
}

/** What a relay did: undefined when delivered (or handed to the store), else the error. */
export type RelayOutcome = SignalErrorCode | undefined | Promise<SignalErrorCode | undefined>;

const id = (prefix: string): string => `${prefix}${randomBytes(12).toString('base64url')}`;

/** Live session records are kept this much longer than the retention of ended ones. */
const LIVE_SESSION_TTL_MS = 24 * 3600 * 1000;
/** Consecutive rate-limited messages after which a connection is closed with 4429. */
const ABUSE_FACTOR = 2;

export class SignalHub {
  readonly peers = new Map<string, Peer>();
  readonly rooms = new Map<string, Set<Peer>>();
  private readonly byResume = new Map<string, Peer>();
  private readonly bySession = new Map<string, Peer>();
  readonly stats: HubStats = { relayed: 0, errors: new Map(), toService: 0, fromService: 0 };
  shuttingDown = false;

  private readonly sfu: ServiceBridge;

  /**
   * @param service where the peers of `sfu` rooms go (room-service.ts, service-bridge.ts).
   * @param handOverService what it is told when another node resumes one of its peers
   *   (default its `leave`).
   */
  constructor(
    private readonly o: ResolvedSignalOptions,
    readonly store: SignalStore,
    private readonly auth: Authenticator,
    private readonly log: Logger,
    private readonly now: () => number,
    service?: RoomService,
    handOverService?: (room: string, peerId: string) => void,
  ) {
    this.sfu = new ServiceBridge(
      this.peers,
      o.resumeQueueSize,
      this.stats,
      log,
      service,
      handOverService,
    );
  }

  peerBySession(sessionId: string): Peer | undefined {
    return this.bySession.get(sessionId);
  }

  /** A frame from a client: size and rate limits, validation, dispatch. Never throws. */
  handleFrame(conn: Connection, data: string | Buffer, isBinary: boolean): void {
    if (conn.closed) return;
    if (!conn.take(this.now())) {
      conn.drops++;
      this.fail(conn, 'rate-limited', 'too many messages; slow down');
      if (conn.drops > this.o.messageBurst * ABUSE_FACTOR) {
        conn.sink.close(CloseCode.tooManyConnections, 'rate limit abuse');
      }
      return;
    }
    conn.drops = 0;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (size > this.o.maxMessageBytes) {
      this.fail(
        conn,
        'message-too-large',
        `messages are limited to ${this.o.maxMessageBytes} bytes`,
      );
      return;
    }
    const parsed = parseClientMessage(data, isBinary);
    if (!parsed.ok) {
      this.fail(conn, parsed.code, parsed.message, parsed.ref);
      return;
    }
    this.dispatch(conn, parsed.message);
  }

  /** Runs one validated message. Errors go back to the connection as `error` frames. */
  dispatch(conn: Connection, m: ClientMessage): void {
    switch (m.type) {
      case 'ping':
        conn.sink.send(
          JSON.stringify(m.id === undefined ? { type: 'pong' } : { type: 'pong', id: m.id }),
        );
        return;
      case 'join':
        this.join(conn, m).catch((err: unknown) => {
          this.log.error({ err }, 'join failed');
          conn.joining = false;
          this.fail(conn, 'internal', 'join failed', 'join');
        });
        return;
      case 'leave':
        if (conn.peer === undefined) this.fail(conn, 'not-joined', 'join a room first', m.type);
        else this.leave(conn.peer, 'left');
        return;
      case 'session-state': {
        const code = this.sessionState(conn.peer, m);
        if (code !== undefined) this.fail(conn, code, 'not your session', m.type);
        return;
      }
      case 'publish':
      case 'subscribe-answer':
      case 'set-layer': {
        const code = this.sfuMessage(conn.peer, m);
        if (code !== undefined) this.fail(conn, code, sfuRefusal(code), m.type);
        return;
      }
      default: {
        const outcome = this.relay(conn.peer, m);
        if (outcome === undefined) return;
        if (typeof outcome === 'string') {
          this.fail(conn, outcome, relayMessage(outcome, m), m.type);
          return;
        }
        outcome.then((code) => {
          if (code !== undefined) this.fail(conn, code, relayMessage(code, m), m.type);
        });
      }
    }
  }

  /** offer / answer / candidate / message from `from` to `m.to` in its room. */
  relay(from: Peer | undefined, m: Relayable): RelayOutcome {
    if (from === undefined || from.left) return 'not-joined';
    if (m.to === from.id) return 'unknown-peer';
    const frame = relayFrame(from.id, m);
    if ((m.type === 'offer' || m.type === 'answer') && !from.session.participants.includes(m.to)) {
      from.session.participants.push(m.to);
      this.saveSession(from);
    }
    const local = this.peers.get(m.to);
    if (local !== undefined) {
      if (local.room !== from.room) return 'unknown-peer';
      local.deliver(frame, this.o.resumeQueueSize);
      this.stats.relayed++;
      return undefined;
    }
    if (!this.store.isMember(from.room, m.to)) return 'unknown-peer';
    return this.store.deliver(from.room, m.to, frame).then(
      () => {
        this.stats.relayed++;
        return undefined;
      },
      (err: unknown) => {
        this.log.warn({ err, room: from.room, to: m.to }, 'cross-node delivery failed');
        return 'redis-unavailable' as const;
      },
    );
  }

  /** A message for the room service from `peer`; returns an error code if refused. */
  sfuMessage(peer: Peer | undefined, m: SfuClientMessage): SignalErrorCode | undefined {
    return this.sfu.message(peer, m);
  }

  /** Whether sfu rooms can be joined now. */
  sfuAvailable(): boolean {
    return this.sfu.available();
  }

  /** A `session-state` report; returns an error code if the session is not the sender's. */
  sessionState(
    peer: Peer | undefined,
    m: Extract<ClientMessage, { type: 'session-state' }>,
  ): SignalErrorCode | undefined {
    if (peer === undefined) return 'not-joined';
    if (m.sessionId !== peer.session.id) return 'unknown-session';
    const s = peer.session;
    if (s.status !== m.state) {
      s.status = m.state;
      if (m.state === 'connected' && s.connectedAt === undefined) s.connectedAt = this.now();
      this.saveSession(peer);
    }
    return undefined;
  }

  private async join(conn: Connection, m: Extract<ClientMessage, { type: 'join' }>) {
    if (conn.peer !== undefined || conn.joining) {
      return this.fail(conn, 'already-joined', 'this connection has joined a room', 'join');
    }
    if (this.shuttingDown)
      return this.fail(conn, 'shutting-down', 'server is shutting down', 'join');
    conn.joining = true;
    const identity = await this.identify(conn, m.token);
    if (identity === undefined) return;
    if (!roomAllowed(identity, m.room)) {
      conn.joining = false;
      this.fail(conn, 'forbidden-room', `the token does not admit room "${m.room}"`, 'join');
      conn.sink.close(CloseCode.forbiddenRoom, 'forbidden room');
      return;
    }
    if (m.resume !== undefined) {
      const peer = this.byResume.get(m.resume);
      if (peer !== undefined && peer.room === m.room && peer.user === identity.user && !peer.left) {
        this.resume(conn, peer);
        return;
      }
      if (peer === undefined && (await this.resumeFromStore(conn, m.resume, m.room, identity))) {
        return;
      }
    }
    const type: SessionType = m.sessionType ?? 'p2p';
    if (type === 'sfu' && !this.sfu.available()) {
      conn.joining = false;
      return this.fail(conn, 'sfu-unavailable', this.sfu.unavailableReason(), 'join');
    }
    const local = this.rooms.get(m.room);
    if (local === undefined && this.rooms.size >= this.o.maxRooms) {
      conn.joining = false;
      return this.fail(
        conn,
        'too-many-rooms',
        `this server holds ${this.o.maxRooms} rooms`,
        'join',
      );
    }
    const peerId = id('p_');
    let result: Awaited<ReturnType<SignalStore['join']>>;
    try {
      result = await this.store.join(m.room, peerId, this.o.maxPeersPerRoom, type);
    } catch (err) {
      conn.joining = false;
      this.log.warn({ err, room: m.room }, 'join: store unavailable');
      return this.fail(conn, 'redis-unavailable', 'room state is unavailable; retry', 'join');
    }
    conn.joining = false;
    if (!result.ok && result.reason === 'room-type-mismatch') {
      const msg = `room "${m.room}" is a ${result.type} room; this join is ${type}`;
      return this.fail(conn, 'room-type-mismatch', msg, 'join');
    }
    if (!result.ok) {
      return this.fail(conn, 'room-full', `room holds ${this.o.maxPeersPerRoom} peers`, 'join');
    }
    const now = this.now();
    const session: SessionRecord = {
      id: id('s_'),
      room: m.room,
      type,
      peerId,
      participants: [peerId],
      status: 'connecting',
      createdAt: now,
    };
    if (identity.user !== undefined) session.user = identity.user;
    const peer = new Peer(peerId, m.room, identity.user, id('r_'), session);
    this.register(peer);
    this.saveSession(peer);
    if (conn.closed) {
      // The client went before it could learn its resume token: nobody can resume this peer.
      this.leave(peer, 'gone before joined');
      return;
    }
    peer.attach(conn);
    conn.sink.send(this.joinedFrame(peer, result.peers, false));
    if (type === 'sfu' && !this.sfu.join(peer)) {
      // The link went down between the check and now: the peer is in the room without media.
      this.fail(conn, 'sfu-unavailable', this.sfu.unavailableReason());
    }
    this.log.debug({ room: m.room, peerId, user: identity.user, type }, 'joined');
  }

  /** Re-attaches a live `peer` to `conn` (a resume): `joined` again, then what was queued. */
  resume(conn: Connection, peer: Peer): void {
    const old = peer.conn;
    if (old !== undefined && old !== conn) {
      old.peer = undefined;
      old.sink.close(CloseCode.goingAway, 'resumed on another connection');
    }
    conn.joining = false;
    // Consume the token kept for other nodes, so none of them resumes this peer too.
    this.store.takeResume?.(peer.resumeToken).catch(() => {});
    const peers = this.store.members(peer.room).filter((p) => p !== peer.id);
    conn.sink.send(this.joinedFrame(peer, peers, true));
    peer.attach(conn);
    this.log.debug({ room: peer.room, peerId: peer.id }, 'resumed');
  }

  /**
   * A resume token this node does not know: with a store that keeps them (Redis), the peer
   * may be waiting on another node. Take it over: the same peer id, room and session; its
   * old node hands over what it queued. False when there is nothing to resume.
   */
  private async resumeFromStore(
    conn: Connection,
    token: string,
    room: string,
    identity: Identity,
  ): Promise<boolean> {
    const store = this.store;
    if (store.takeResume === undefined || store.adopt === undefined) return false;
    let info: Awaited<ReturnType<NonNullable<SignalStore['takeResume']>>>;
    try {
      info = await store.takeResume(token);
      if (info === undefined || info.room !== room || info.user !== identity.user) return false;
      const session = (await store.getSession(info.sessionId)) ?? {
        id: info.sessionId,
        room,
        type: 'p2p' as const,
        peerId: info.peerId,
        participants: [info.peerId],
        status: 'connecting' as const,
        createdAt: this.now(),
      };
      const peer = new Peer(info.peerId, room, identity.user, token, session);
      this.register(peer);
      try {
        await store.adopt(room, peer.id);
      } catch (err) {
        this.forget(peer);
        throw err;
      }
      // This node's service has not seen the peer: hand it over (the SFU, linked to every
      // node, keeps its media; an SFU of this node alone sees a new peer that must publish).
      // Before anything else, so that its leave, whenever it comes, reaches the SFU from here.
      const served = session.type !== 'sfu' || this.sfu.join(peer);
      if (conn.closed) {
        this.detach(conn, peer);
        return true;
      }
      this.resume(conn, peer);
      if (!served) this.fail(conn, 'sfu-unavailable', this.sfu.unavailableReason());
      this.log.debug({ room, peerId: peer.id }, 'resumed from another node');
      return true;
    } catch (err) {
      this.log.warn({ err, room }, 'cross-node resume failed; joining afresh');
      return false;
    }
  }

  private register(peer: Peer): void {
    this.peers.set(peer.id, peer);
    this.byResume.set(peer.resumeToken, peer);
    this.bySession.set(peer.session.id, peer);
    let members = this.rooms.get(peer.room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(peer.room, members);
    }
    members.add(peer);
  }

  /** Drops `peer` from this node's maps (no `leave`: see `leave` and the takeover). */
  private forget(peer: Peer): void {
    peer.left = true;
    if (peer.graceTimer !== undefined) clearTimeout(peer.graceTimer);
    if (peer.conn !== undefined) peer.conn.peer = undefined;
    peer.conn = undefined;
    this.peers.delete(peer.id);
    this.byResume.delete(peer.resumeToken);
    this.bySession.delete(peer.session.id);
    const members = this.rooms.get(peer.room);
    members?.delete(peer);
    if (members?.size === 0) this.rooms.delete(peer.room);
  }

  /** Another node resumed `peer`: send it what was queued here, through the store, and let go. */
  private handOver(peer: Peer): void {
    const old = peer.conn;
    this.sfu.leave(peer, true);
    this.forget(peer);
    old?.sink.close(CloseCode.goingAway, 'resumed on another node');
    for (const frame of peer.queue) {
      this.store.deliver(peer.room, peer.id, frame).catch((err: unknown) => {
        this.log.warn({ err, peerId: peer.id }, 'hand-over of a queued frame failed');
      });
    }
    peer.queue.length = 0;
    this.store.release?.(peer.room, peer.id);
    this.log.debug({ room: peer.room, peerId: peer.id }, 'handed over to another node');
  }

  private joinedFrame(peer: Peer, peers: string[], resumed: boolean): string {
    const iceServers = mintIceServers(this.o, peer.user ?? peer.id, this.now());
    return JSON.stringify({
      type: 'joined',
      room: peer.room,
      peerId: peer.id,
      sessionId: peer.session.id,
      resumeToken: peer.resumeToken,
      resumed,
      peers,
      iceServers,
    });
  }

  /** The identity for a join: the join's token, else the upgrade's `?token=`. */
  private async identify(
    conn: Connection,
    token: string | undefined,
  ): Promise<Identity | undefined> {
    if (token === undefined && conn.identity !== undefined) return conn.identity;
    const r = await this.auth.verify(token);
    if (r.ok) return r.identity;
    conn.joining = false;
    this.fail(conn, 'unauthorized', r.message, 'join');
    conn.sink.close(CloseCode.unauthorized, 'unauthorized');
    return undefined;
  }

  /** The transport of `conn` is gone: its peer waits for a resume, or leaves. */
  detach(conn: Connection, peer = conn.peer): void {
    conn.closed = true;
    if (peer === undefined || peer.left) return;
    if (peer.conn === conn) peer.conn = undefined;
    conn.peer = undefined;
    if (peer.conn !== undefined) return;
    if (this.o.resumeGraceMs === 0 || this.shuttingDown) {
      this.leave(peer, 'disconnected');
      return;
    }
    peer.graceTimer = setTimeout(() => this.leave(peer, 'resume grace over'), this.o.resumeGraceMs);
    peer.graceTimer.unref();
    const info: ResumeInfo = { peerId: peer.id, room: peer.room, sessionId: peer.session.id };
    if (peer.user !== undefined) info.user = peer.user;
    this.store.saveResume?.(peer.resumeToken, info, this.o.resumeGraceMs).catch((err: unknown) => {
      this.log.warn({ err, peerId: peer.id }, 'resume token not shared: store unavailable');
    });
  }

  /** Takes `peer` out of its room; the others get `peer-left`. */
  leave(peer: Peer, reason: string): Promise<void> {
    if (peer.left) return Promise.resolve();
    this.sfu.leave(peer, false);
    this.forget(peer);
    peer.session.status = 'disconnected';
    peer.session.endedAt = this.now();
    this.saveSession(peer);
    this.log.debug({ room: peer.room, peerId: peer.id, reason }, 'left');
    return this.store.leave(peer.room, peer.id).catch((err: unknown) => {
      this.log.warn({ err, room: peer.room, peerId: peer.id }, 'leave: store unavailable');
    });
  }

  /** Every local peer leaves (shutdown). */
  async leaveAll(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => this.leave(p, 'server closing')));
  }

  /** Events of the rooms this node has members in, from the store. */
  onStoreEvent(e: StoreEvent): void {
    const members = this.rooms.get(e.room);
    if (e.kind === 'deliver') {
      const peer = this.peers.get(e.to);
      if (peer !== undefined && peer.room === e.room) {
        peer.deliver(e.frame, this.o.resumeQueueSize);
        this.stats.relayed++;
      }
      return;
    }
    if (e.kind === 'takeover') {
      const peer = this.peers.get(e.peerId);
      if (peer !== undefined && peer.room === e.room) this.handOver(peer);
      return;
    }
    if (members === undefined) return;
    const frame = JSON.stringify({
      type: e.kind === 'join' ? 'peer-joined' : 'peer-left',
      peerId: e.peerId,
    });
    for (const p of members) if (p.id !== e.peerId) p.deliver(frame, this.o.resumeQueueSize);
  }

  fail(conn: Connection, code: SignalErrorCode, message: string, ref?: string): void {
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
    conn.sink.send(errorFrame(code, message, ref));
  }

  private saveSession(peer: Peer): void {
    const s = peer.session;
    const ttl =
      s.endedAt === undefined
        ? this.o.sessionRetentionMs + LIVE_SESSION_TTL_MS
        : this.o.sessionRetentionMs;
    this.store.putSession(s, ttl).catch((err: unknown) => {
      this.log.warn({ err, sessionId: s.id }, 'session record not saved: store unavailable');
    });
  }
}
