/**
 * The WebSocket to `rtcd signal`: join, application heartbeats, and reconnection. When the
 * socket drops, it reopens with exponential backoff and joins again with the resume token, so
 * the server keeps our peer id and room and delivers what was addressed to us meanwhile
 * (within its grace period). Messages sent while down are queued and flushed on rejoin.
 */
import { Emitter } from './emitter.js';
import {
  type ClientMessage,
  FATAL_CLOSE_CODES,
  type JoinedMessage,
  parseServerMessage,
  type ServerMessage,
  type SessionType,
} from './protocol.js';

export interface ReconnectOptions {
  /** Attempts after a drop before giving up. Default 10. */
  retries?: number;
  /** First delay; doubles per attempt, with jitter. Default 250 ms. */
  minDelayMs?: number;
  /** Ceiling of the delay. Default 8,000 ms. */
  maxDelayMs?: number;
}

export interface SignalSocketOptions {
  url: string;
  room: string;
  token?: string;
  /** Sent in every join (and resume); omitted means the server's default, `p2p`. */
  sessionType?: SessionType;
  reconnect?: ReconnectOptions;
  /** Application ping interval; two missed pongs close the socket. Default 10,000 ms. */
  heartbeatMs?: number;
  /** How long a join may take before it counts as failed. Default 10,000 ms. */
  joinTimeoutMs?: number;
  /** Messages kept while disconnected; older ones are dropped first. Default 1,000. */
  maxQueued?: number;
  /**
   * Codes of join refusals that are passing (e.g. `sfu-unavailable` while the SFU's link is
   * down): after the first join, such a refusal is retried with the reconnect backoff instead
   * of failing the socket. The first join still rejects with it. Default none.
   */
  retryJoinCodes?: readonly string[];
}

export type SocketState = 'connecting' | 'joined' | 'reconnecting' | 'closed';

export interface SignalSocketEvents {
  joined: { joined: JoinedMessage; resumed: boolean };
  message: ServerMessage;
  state: SocketState;
  /** The socket gave up (fatal close code, retries exhausted) or the server refused a join. */
  failed: { code: string; message: string };
}

/** An error with a stable code: a server error code, `closed-<n>`, or `join-timeout`. */
export class SignalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SignalError';
  }
}

export class SignalSocket extends Emitter<SignalSocketEvents> {
  state: SocketState = 'connecting';
  peerId = '';
  #ws: WebSocket | undefined;
  #resumeToken = '';
  #queue: ClientMessage[] = [];
  #attempt = 0;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #pingId = 0;
  #unanswered = 0;
  readonly #o: Required<
    Omit<SignalSocketOptions, 'token' | 'reconnect' | 'sessionType' | 'retryJoinCodes'>
  > & {
    retryJoinCodes: ReadonlySet<string>;
    token: string | undefined;
    sessionType: SessionType | undefined;
    reconnect: Required<ReconnectOptions>;
  };

  constructor(options: SignalSocketOptions) {
    super();
    this.#o = {
      url: options.url,
      room: options.room,
      token: options.token,
      sessionType: options.sessionType,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      joinTimeoutMs: options.joinTimeoutMs ?? 10_000,
      maxQueued: options.maxQueued ?? 1000,
      retryJoinCodes: new Set(options.retryJoinCodes ?? []),
      reconnect: {
        retries: options.reconnect?.retries ?? 10,
        minDelayMs: options.reconnect?.minDelayMs ?? 250,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 8000,
      },
    };
  }

  /** Opens the socket and joins; resolves with `joined`, rejects with a SignalError. */
  open(): Promise<JoinedMessage> {
    const done = new Promise<JoinedMessage>((resolve, reject) => {
      const offJoined = this.on('joined', ({ joined }) => {
        offFailed();
        resolve(joined);
      });
      const offFailed = this.on('failed', ({ code, message }) => {
        offJoined();
        reject(new SignalError(code, message));
      });
    });
    this.#connect();
    return done;
  }

  send(message: ClientMessage): void {
    if (this.state === 'closed') return;
    if (this.state === 'joined' && this.#ws?.readyState === WebSocket.OPEN) {
      this.#ws.send(JSON.stringify(message));
      return;
    }
    this.#queue.push(message);
    if (this.#queue.length > this.#o.maxQueued) this.#queue.shift();
  }

  /** Leaves the room and closes for good. */
  close(): void {
    if (this.state === 'closed') return;
    if (this.#ws?.readyState === WebSocket.OPEN) {
      this.#ws.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
    }
    this.#setState('closed');
    this.#teardown(1000);
  }

  /** Drops the socket as a network failure would, without leaving: the client resumes. */
  drop(): void {
    this.#ws?.close(4000, 'dropped by client');
  }

  #connect(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#o.url);
    } catch (err) {
      this.#fail('bad-url', err instanceof Error ? err.message : String(err));
      return;
    }
    this.#ws = ws;
    const joinTimer = this.#timer(this.#o.joinTimeoutMs, () => ws.close(4000, 'join timeout'));
    ws.addEventListener('open', () => {
      const join: ClientMessage = { type: 'join', room: this.#o.room };
      if (this.#o.token !== undefined) join.token = this.#o.token;
      if (this.#o.sessionType !== undefined) join.sessionType = this.#o.sessionType;
      if (this.#resumeToken !== '') join.resume = this.#resumeToken;
      ws.send(JSON.stringify(join));
    });
    ws.addEventListener('message', (e) => {
      if (ws !== this.#ws || typeof e.data !== 'string') return;
      const message = parseServerMessage(e.data);
      if (message === undefined) return;
      if (message.type === 'joined') {
        this.#clearTimer(joinTimer);
        this.#joined(message);
      } else if (message.type === 'pong') {
        this.#unanswered = 0;
      } else if (message.type === 'error' && this.state !== 'joined') {
        this.#joinRefused(ws, message.code, message.message);
      } else {
        this.emit('message', message);
      }
    });
    ws.addEventListener('close', (e) => {
      this.#clearTimer(joinTimer);
      if (ws === this.#ws) this.#closed(e.code, e.reason);
    });
  }

  #joined(joined: JoinedMessage): void {
    const resumed = this.#resumeToken !== '' && joined.peerId === this.peerId;
    // A fresh identity: what was queued was addressed to peers of the old one.
    if (!resumed) this.#queue = [];
    this.peerId = joined.peerId;
    this.#resumeToken = joined.resumeToken;
    this.#attempt = 0;
    this.#setState('joined');
    this.#startHeartbeat();
    this.emit('joined', { joined, resumed });
    const queued = this.#queue.splice(0);
    for (const m of queued) this.send(m);
  }

  #joinRefused(ws: WebSocket, code: string, message: string): void {
    if (this.#resumeToken !== '') {
      // The grace period is over (or the token is unknown here): join afresh, new peer id.
      this.#resumeToken = '';
      this.#queue = [];
      ws.close(4000, 'resume refused');
      return;
    }
    if (this.peerId !== '' && this.#o.retryJoinCodes.has(code)) {
      // Joined before, so the room exists for us: wait it out with the reconnect backoff.
      ws.close(4000, `join refused: ${code}`);
      return;
    }
    this.#fail(code, message);
  }

  #closed(code: number, reason: string): void {
    this.#stopHeartbeat();
    if (this.state === 'closed') return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#fail(`closed-${code}`, reason || `closed with ${code}`);
      return;
    }
    const { retries, minDelayMs, maxDelayMs } = this.#o.reconnect;
    if (this.peerId === '') {
      // Never joined: the server or the URL is wrong, and retrying would only hide it.
      this.#fail(`closed-${code}`, reason || `closed with ${code} before joining`);
      return;
    }
    if (this.#attempt >= retries) {
      this.#fail(`closed-${code}`, `gave up after ${this.#attempt} attempts`);
      return;
    }
    this.#setState('reconnecting');
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** this.#attempt);
    this.#attempt++;
    this.#timer(base / 2 + Math.random() * (base / 2), () => this.#connect());
  }

  #fail(code: string, message: string): void {
    this.#setState('closed');
    this.#teardown(1000);
    this.emit('failed', { code, message });
  }

  #teardown(code: number): void {
    this.#stopHeartbeat();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined && ws.readyState <= WebSocket.OPEN) ws.close(code);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#unanswered = 0;
    this.#heartbeat = setInterval(() => {
      if (this.#unanswered >= 2) {
        this.#ws?.close(4000, 'heartbeat timeout');
        return;
      }
      this.#unanswered++;
      this.send({ type: 'ping', id: ++this.#pingId });
    }, this.#o.heartbeatMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #setState(state: SocketState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  #timer(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clearTimer(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.#timers.delete(t);
  }
}
