import type { Connection } from './connection.js';
import type { SessionRecord } from './store.js';

/**
 * A member of a room held by this node. It outlives its connection by the resume grace
 * period, queueing what arrives meanwhile (bounded: the oldest frames go first).
 */
export class Peer {
  conn: Connection | undefined;
  readonly queue: string[] = [];
  /** Frames dropped from a full queue while detached. */
  dropped = 0;
  graceTimer: NodeJS.Timeout | undefined;
  left = false;
  /** Handed to the room service (`join` called; `leave` is owed when it goes). */
  inService = false;

  constructor(
    readonly id: string,
    readonly room: string,
    readonly user: string | undefined,
    readonly resumeToken: string,
    readonly session: SessionRecord,
  ) {}

  /** Sends now, or queues while detached (keeping at most `limit`). */
  deliver(frame: string, limit: number): void {
    if (this.conn?.sink.send(frame)) return;
    if (limit === 0) {
      this.dropped++;
      return;
    }
    if (this.queue.length >= limit) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame);
  }

  /** Attaches `conn` and flushes the queue to it, in order. */
  attach(conn: Connection): void {
    this.conn = conn;
    conn.peer = this;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    for (const frame of this.queue) conn.sink.send(frame);
    this.queue.length = 0;
  }
}
