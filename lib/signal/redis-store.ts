import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../util/logger.js';
import type { SessionType } from './protocol.js';
import { ADOPT, JOIN, LEAVE, TICK } from './redis-scripts.js';
import {
  type JoinResult,
  type ResumeInfo,
  type SessionRecord,
  type SignalStore,
  type StoreEvent,
  StoreUnavailableError,
} from './store.js';

/**
 * The store for several `rtcd signal` nodes: Redis (ioredis, two connections: commands and
 * subscriptions).
 *
 * - Membership: a sorted set per room, `<prefix>room:<room>`, member = peer id, score = when
 *   the membership expires. Every `heartbeatMs` each node pushes its own members' expiry
 *   `memberTtlMs` ahead; a node that dies stops doing so, and the next sweep by any node
 *   watching the room removes them (ZREM decides which node wins) and publishes `leave`, so
 *   the others get `peer-left`.
 * - Events: one channel per room, `<prefix>ch:<room>`, to which the nodes with members in the
 *   room subscribe: `J\n<peer>` join, `L\n<peer>` leave, `D\n<to>\n<frame>` a frame for a peer
 *   (the node holding it delivers it). Join and leave change the set and publish in one
 *   script, so nobody sees one without the other.
 * - Room type: `<prefix>type:<room>` (p2p or sfu), set by the join that finds no live member
 *   and expiring with the set; a join of the other type is refused while members live.
 * - Sessions: `<prefix>session:<id>`, JSON with a PX expiry.
 * Commands are not queued while Redis is away (`enableOfflineQueue: false`): they fail at
 * once, `healthy()` is false, ioredis reconnects, and the next heartbeat re-adds this node's
 * members (publishing `join` for those another node had swept out meanwhile).
 */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…`. */
  url: string;
  /** Prefix of every key and channel. Default `'rtcd:'`. */
  prefix?: string;
  /** How often members' expiry is pushed ahead and expired members swept, ms. Default 5000. */
  heartbeatMs?: number;
  /** How long a membership outlives its node's last heartbeat, ms. Default 15000. */
  memberTtlMs?: number;
  /** `start()` fails if Redis is not ready within this, ms. Default 5000. */
  connectTimeoutMs?: number;
  now?: () => number;
}

interface Watched {
  members: Set<string>;
  local: Set<string>;
  /** The SUBSCRIBE to the room's channel; joins wait for it so no event is missed. */
  subscribed: Promise<unknown>;
}

export class RedisStore implements SignalStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly memberTtlMs: number;
  private readonly connectTimeoutMs: number;
  private readonly now: () => number;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly rooms = new Map<string, Watched>();
  private onEvent: (event: StoreEvent) => void = () => {};
  private log: Logger = silentLogger;
  private timer: NodeJS.Timeout | undefined;
  private wasHealthy = true;
  private closed = false;
  /** Names this node in takeover messages, so it ignores its own. */
  private readonly nodeId = randomBytes(8).toString('base64url');

  constructor(o: RedisStoreOptions) {
    this.prefix = o.prefix ?? 'rtcd:';
    this.heartbeatMs = o.heartbeatMs ?? 5000;
    this.memberTtlMs = o.memberTtlMs ?? 15000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 5000;
    this.now = o.now ?? Date.now;
    if (!(this.memberTtlMs > this.heartbeatMs)) {
      throw new TypeError('RedisStore: memberTtlMs must exceed heartbeatMs');
    }
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
    };
    // Publishes issued in one tick go out in one write: the relay path's batching.
    this.cmd = new Redis(o.url, { ...options, enableAutoPipelining: true });
    this.sub = new Redis(o.url, options);
  }

  async start(onEvent: (event: StoreEvent) => void, log: Logger): Promise<void> {
    this.onEvent = onEvent;
    this.log = log;
    for (const [name, conn] of [
      ['commands', this.cmd],
      ['subscriber', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => this.onError(name, err));
      conn.on('ready', () => this.onReady(name));
    }
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.onMessage(channel.toString(), message.toString()),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis not ready within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all([this.cmd.connect(), this.sub.connect()]), timeout]);
    } catch (err) {
      this.cmd.disconnect();
      this.sub.disconnect();
      throw new StoreUnavailableError(`cannot connect to Redis: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  healthy(): boolean {
    return this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  async join(
    room: string,
    peerId: string,
    maxPeers: number,
    type: SessionType = 'p2p',
  ): Promise<JoinResult> {
    // Reserve the local slot first so a concurrent leave does not unsubscribe under us.
    const w = this.watch(room, peerId);
    try {
      await w.subscribed;
      const now = this.now();
      const live = (await this.cmd.eval(
        JOIN,
        3,
        this.key(room),
        this.channel(room),
        this.typeKey(room),
        peerId,
        now + this.memberTtlMs,
        maxPeers,
        now,
        type,
      )) as string[] | string | null;
      if (live === null || typeof live === 'string') {
        this.dropLocal(room, peerId);
        if (live === null) return { ok: false, reason: 'room-full' };
        return { ok: false, reason: 'room-type-mismatch', type: live === 'sfu' ? 'sfu' : 'p2p' };
      }
      for (const p of live) w.members.add(p);
      w.members.add(peerId);
      return { ok: true, peers: live.filter((p) => p !== peerId) };
    } catch (err) {
      this.dropLocal(room, peerId);
      throw unavailable(err);
    }
  }

  async leave(room: string, peerId: string): Promise<void> {
    const w = this.rooms.get(room);
    if (w === undefined || !w.local.has(peerId)) return;
    w.members.delete(peerId);
    try {
      await this.cmd.eval(LEAVE, 2, this.key(room), this.channel(room), peerId);
    } catch (err) {
      // Its membership expires by itself: the others learn within memberTtlMs.
      throw unavailable(err);
    } finally {
      this.dropLocal(room, peerId);
    }
  }

  async saveResume(token: string, info: ResumeInfo, ttlMs: number): Promise<void> {
    try {
      await this.cmd.set(`${this.prefix}resume:${token}`, JSON.stringify(info), 'PX', ttlMs);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async takeResume(token: string): Promise<ResumeInfo | undefined> {
    let text: string | null;
    try {
      text = await this.cmd.getdel(`${this.prefix}resume:${token}`);
    } catch (err) {
      throw unavailable(err);
    }
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as ResumeInfo;
    } catch {
      return undefined;
    }
  }

  async adopt(room: string, peerId: string): Promise<void> {
    const w = this.watch(room, peerId);
    try {
      await w.subscribed;
      const expiresAt = this.now() + this.memberTtlMs;
      const key = this.key(room);
      await this.cmd.eval(ADOPT, 2, key, this.channel(room), peerId, expiresAt, this.nodeId);
      w.members.add(peerId);
    } catch (err) {
      this.dropLocal(room, peerId);
      throw unavailable(err);
    }
  }

  release(room: string, peerId: string): void {
    this.dropLocal(room, peerId);
  }

  isMember(room: string, peerId: string): boolean {
    return this.rooms.get(room)?.members.has(peerId) ?? false;
  }

  members(room: string): string[] {
    return [...(this.rooms.get(room)?.members ?? [])];
  }

  async deliver(room: string, to: string, frame: string): Promise<void> {
    try {
      await this.cmd.publish(this.channel(room), `D\n${to}\n${frame}`);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async putSession(record: SessionRecord, ttlMs: number): Promise<void> {
    const key = `${this.prefix}session:${record.id}`;
    try {
      if (ttlMs <= 0) await this.cmd.del(key);
      else await this.cmd.set(key, JSON.stringify(record), 'PX', ttlMs);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    let text: string | null;
    try {
      text = await this.cmd.get(`${this.prefix}session:${id}`);
    } catch (err) {
      throw unavailable(err);
    }
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as SessionRecord;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const leaves: Promise<void>[] = [];
    for (const [room, w] of this.rooms) {
      for (const p of [...w.local]) leaves.push(this.leave(room, p).catch(() => {}));
    }
    await Promise.all(leaves);
    await Promise.all(
      [this.cmd, this.sub].map((c) =>
        c.status === 'ready'
          ? c.quit().then(
              () => {},
              () => c.disconnect(),
            )
          : c.disconnect(),
      ),
    );
  }

  /** Pushes this node's members' expiry ahead and sweeps expired ones, room by room. */
  private tick(): void {
    if (!this.healthy()) return;
    const now = this.now();
    const pipeline = this.cmd.pipeline();
    for (const [room, w] of this.rooms) {
      pipeline.eval(
        TICK,
        3,
        this.key(room),
        this.channel(room),
        this.typeKey(room),
        now,
        now + this.memberTtlMs,
        ...w.local,
      );
    }
    pipeline.exec().catch((err: unknown) => this.log.warn({ err }, 'redis heartbeat failed'));
  }

  private onMessage(channel: string, message: string): void {
    const room = channel.slice(this.prefix.length + 3);
    const w = this.rooms.get(room);
    if (w === undefined) return;
    const kind = message[0];
    const nl = message.indexOf('\n', 2);
    if (kind === 'D' && nl > 0) {
      this.onEvent({
        kind: 'deliver',
        room,
        to: message.slice(2, nl),
        frame: message.slice(nl + 1),
      });
      return;
    }
    if (kind === 'T' && nl > 0) {
      if (message.slice(nl + 1) === this.nodeId) return;
      this.onEvent({ kind: 'takeover', room, peerId: message.slice(2, nl) });
      return;
    }
    const peerId = message.slice(2);
    if (kind === 'J') {
      if (w.members.has(peerId) && !w.local.has(peerId)) return;
      w.members.add(peerId);
      this.onEvent({ kind: 'join', room, peerId });
    } else if (kind === 'L') {
      w.members.delete(peerId);
      this.onEvent({ kind: 'leave', room, peerId });
    }
  }

  /** The watched state of `room`, subscribing on first use, with `peerId` held here. */
  private watch(room: string, peerId: string): Watched {
    let w = this.rooms.get(room);
    if (w === undefined) {
      const subscribed = this.sub.subscribe(this.channel(room));
      subscribed.catch(() => {});
      w = { members: new Set(), local: new Set(), subscribed };
      this.rooms.set(room, w);
    }
    w.local.add(peerId);
    return w;
  }

  private dropLocal(room: string, peerId: string): void {
    const w = this.rooms.get(room);
    if (w === undefined) return;
    w.local.delete(peerId);
    if (w.local.size > 0) return;
    this.rooms.delete(room);
    this.sub.unsubscribe(this.channel(room)).catch(() => {});
  }

  private onError(name: string, err: Error): void {
    if (this.wasHealthy) {
      this.log.error({ err, connection: name }, 'redis unavailable: serving local peers only');
    }
    this.wasHealthy = false;
  }

  private onReady(name: string): void {
    if (!this.wasHealthy && this.healthy()) {
      this.wasHealthy = true;
      this.log.warn({ connection: name }, 'redis reconnected');
      this.tick();
    }
  }

  private key(room: string): string {
    return `${this.prefix}room:${room}`;
  }

  private channel(room: string): string {
    return `${this.prefix}ch:${room}`;
  }

  /** The room's session type (p2p/sfu), set by the first joiner, expiring with the set. */
  private typeKey(room: string): string {
    return `${this.prefix}type:${room}`;
  }
}

function unavailable(err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`redis: ${message}`, { cause: err });
}
