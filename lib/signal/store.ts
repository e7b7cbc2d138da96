import type { Logger } from '../util/logger.js';
import type { SessionType } from './protocol.js';

/**
 * Where the state that several `rtcd signal` nodes must share lives: room membership, session
 * records, and delivery to peers held by other nodes. `MemoryStore` is the embedded default;
 * `RedisStore` joins nodes through Redis. A node only calls `join`/`leave` for peers it holds
 * itself, so a store knows which rooms the node has members in ("watches") and sends it the
 * events of exactly those rooms.
 */
export type StoreEvent =
  | { kind: 'join'; room: string; peerId: string }
  | { kind: 'leave'; room: string; peerId: string }
  /** `frame` (a JSON text ready to send) for peer `to`, held by this node. */
  | { kind: 'deliver'; room: string; to: string; frame: string }
  /** Another node resumed `peerId`: hand over what is queued for it and let it go. */
  | { kind: 'takeover'; room: string; peerId: string };

/** What another node needs to resume a detached peer (see `SignalStore.saveResume`). */
export interface ResumeInfo {
  peerId: string;
  room: string;
  user?: string;
  sessionId: string;
}

export type SessionStatus = 'connecting' | 'connected' | 'disconnected';

/** One participant's session: from `join` to leaving (or the end of the resume grace). */
export interface SessionRecord {
  id: string;
  room: string;
  type: SessionType;
  /** The peer id the session had in the room. */
  peerId: string;
  /** JWT `sub`, when authenticated. */
  user?: string;
  /** This peer and the peers it exchanged offers/answers with. */
  participants: string[];
  status: SessionStatus;
  /** Milliseconds since the epoch. */
  createdAt: number;
  connectedAt?: number;
  endedAt?: number;
}

export type JoinResult =
  | { ok: true; peers: string[] }
  | { ok: false; reason: 'room-full' }
  /** The room's members are of session type `type` (the first joiner's), not this one's. */
  | { ok: false; reason: 'room-type-mismatch'; type: SessionType };

export interface SignalStore {
  readonly kind: 'memory' | 'redis';
  /** Called once by the server before any other method: events go to `onEvent`. */
  start(onEvent: (event: StoreEvent) => void, log: Logger): Promise<void>;
  /** Withdraws this node's members (others get `leave`) and disconnects. Idempotent. */
  close(): Promise<void>;
  /** False while the backing service is unreachable (`/healthz` answers 503). */
  healthy(): boolean;
  /**
   * Adds `peerId` (held by this node) to `room` unless the room holds `maxPeers` already or
   * its members are of the other session type (a room's type is its first joiner's, kept while
   * it has members; `type` defaults to `p2p`); everyone in the room gets a `join` event.
   * `peers` are the members before this one.
   */
  join(room: string, peerId: string, maxPeers: number, type?: SessionType): Promise<JoinResult>;
  /** Removes `peerId` (held by this node) from `room`; if it was there, a `leave` event. */
  leave(room: string, peerId: string): Promise<void>;
  /** Whether `peerId` is in `room`, for a room this node watches. Synchronous: a cache. */
  isMember(room: string, peerId: string): boolean;
  /** The members of `room` (a room this node watches), from the same cache. */
  members(room: string): string[];
  /** Sends `frame` to peer `to` of `room` on the node that holds it; rejects if it cannot. */
  deliver(room: string, to: string, frame: string): Promise<void>;
  putSession(record: SessionRecord, ttlMs: number): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * Cross-node resume (optional: a store without it resumes on the same node only).
   * `saveResume` keeps a detached peer's resume token for `ttlMs` (the grace period);
   * `takeResume` consumes it (one caller wins); `adopt` makes this node the holder of a live
   * member resumed here (its old node gets `takeover`); `release` forgets a member handed
   * over to another node without a `leave`.
   */
  saveResume?(token: string, info: ResumeInfo, ttlMs: number): Promise<void>;
  takeResume?(token: string): Promise<ResumeInfo | undefined>;
  adopt?(room: string, peerId: string): Promise<void>;
  release?(room: string, peerId: string): void;
}

/** The store cannot reach its backend; the caller answers `redis-unavailable`. */
export class StoreUnavailableError extends Error {
  readonly code = 'RTCD_SIGNAL_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
