import type { Logger } from '../util/logger.js';
import type { SessionType } from './protocol.js';
import type { JoinResult, SessionRecord, SignalStore, StoreEvent } from './store.js';

/**
 * The embedded store: one process, everything in maps. Events are emitted synchronously from
 * `join`/`leave`; no peer is ever remote, so `deliver` always rejects (the server delivers
 * to its own peers directly).
 */
export class MemoryStore implements SignalStore {
  readonly kind = 'memory';
  private readonly rooms = new Map<string, Set<string>>();
  private readonly types = new Map<string, SessionType>();
  private readonly sessions = new Map<string, { record: SessionRecord; expiresAt: number }>();
  private onEvent: (event: StoreEvent) => void = () => {};
  private readonly now: () => number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(o: { now?: () => number } = {}) {
    this.now = o.now ?? Date.now;
  }

  async start(onEvent: (event: StoreEvent) => void, _log: Logger): Promise<void> {
    this.onEvent = onEvent;
  }

  async close(): Promise<void> {
    this.rooms.clear();
    this.types.clear();
  }

  healthy(): boolean {
    return true;
  }

  async join(
    room: string,
    peerId: string,
    maxPeers: number,
    type: SessionType = 'p2p',
  ): Promise<JoinResult> {
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
      this.types.set(room, type);
    }
    if (members.size >= maxPeers) return { ok: false, reason: 'room-full' };
    const roomType = this.types.get(room) ?? type;
    if (roomType !== type) return { ok: false, reason: 'room-type-mismatch', type: roomType };
    const peers = [...members];
    members.add(peerId);
    this.onEvent({ kind: 'join', room, peerId });
    return { ok: true, peers };
  }

  async leave(room: string, peerId: string): Promise<void> {
    const members = this.rooms.get(room);
    if (members === undefined || !members.delete(peerId)) return;
    if (members.size === 0) {
      this.rooms.delete(room);
      this.types.delete(room);
    }
    this.onEvent({ kind: 'leave', room, peerId });
  }

  isMember(room: string, peerId: string): boolean {
    return this.rooms.get(room)?.has(peerId) ?? false;
  }

  members(room: string): string[] {
    return [...(this.rooms.get(room) ?? [])];
  }

  async deliver(_room: string, to: string, _frame: string): Promise<void> {
    throw new Error(`peer ${to} is not held by this process`);
  }

  async putSession(record: SessionRecord, ttlMs: number): Promise<void> {
    const now = this.now();
    this.sweep(now);
    this.sessions.delete(record.id);
    this.sessions.set(record.id, { record: structuredClone(record), expiresAt: now + ttlMs });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const entry = this.sessions.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return structuredClone(entry.record);
  }

  /** Drops expired records, at most once a second (records expire by timestamp). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [id, entry] of this.sessions) {
      if (entry.expiresAt <= now) this.sessions.delete(id);
    }
  }
}
