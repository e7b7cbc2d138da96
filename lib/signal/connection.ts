import type { Identity } from './auth.js';
import type { Peer } from './peer.js';

/** Where frames for one client go: a WebSocket, or a server-sent-events stream. */
export interface PeerSink {
  /** False when the transport is closing and the frame was not sent (the peer queues it). */
  send(frame: string): boolean;
  /** Ends the transport (a WebSocket close code, see `CloseCode`). */
  close(code: number, reason: string): void;
}

/**
 * One client transport and its per-connection limits. The sink may be swapped (an SSE client
 * reconnecting its event stream keeps its connection); `peer` is set once it has joined.
 */
export class Connection {
  peer: Peer | undefined;
  joining = false;
  closed = false;
  /** Messages refused in a row by the rate limit; too many closes the connection (4429). */
  drops = 0;
  /** Liveness for heartbeats: set on pong. */
  alive = true;
  private tokens: number;
  private last: number;

  constructor(
    public sink: PeerSink,
    readonly ip: string,
    /** Identity from the upgrade request's `?token=`, if one was given and valid. */
    readonly identity: Identity | undefined,
    private readonly rate: { perSecond: number; burst: number },
    now: number,
  ) {
    this.tokens = rate.burst;
    this.last = now;
  }

  /** Token bucket of messages: `rate.perSecond` sustained, `rate.burst` at once. */
  take(now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.rate.burst, this.tokens + (elapsed * this.rate.perSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
