import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { type Logger, silentLogger } from '../util/logger.js';
import { LINK_MAX_FRAME_BYTES, type LinkUpFrame, parseLinkDownFrame } from './link-frame.js';
import type { RoomService, SfuServerMessage } from './room-service.js';

/**
 * The SFU side of an SFU link: connects a `RoomService` (the SFU's, e.g. `SfuRoomService`) to
 * an `rtcd signal` node's `/sfu` endpoint and keeps it connected, reconnecting with backoff.
 * Calls arrive as link frames (link-frame.ts), validated, and become `service.join/message/
 * leave`; what the service sends to a peer goes back up the link the peer came from.
 *
 * One service may be linked to several signal nodes (call this once per node URL): the
 * service is attached once, and each peer belongs to the link that joined it last, so a peer
 * that resumes on another node keeps its media. When a link drops, its peers are treated as
 * left (`service.leave`): the signal side has told them `sfu-unavailable`, and joins them
 * again on the next link.
 *
 * ```ts
 * const link = connectRoomService('ws://signal:8080/sfu', secret, new SfuRoomService(sfu));
 * // …
 * await link.close();
 * ```
 */
export interface RoomServiceLinkOptions {
  logger?: Logger;
  /** First reconnect delay, ms; doubles on each failure. Default 250. */
  backoffMs?: number;
  /** Longest reconnect delay, ms. Default 10000. */
  maxBackoffMs?: number;
  /** Ping interval; no pong by the next ping drops the link (and reconnects), ms. Default 15000. */
  heartbeatMs?: number;
  /** Largest frame accepted from the signal server, bytes. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Told each time the link comes up or goes down (logs, health checks, tests). */
  onState?: (state: 'up' | 'down') => void;
}

export interface RoomServiceLink {
  /** Whether the link is up now. */
  readonly connected: boolean;
  /** Stops reconnecting, closes the link (its peers leave the service). Idempotent. */
  close(): Promise<void>;
}

/** Which link each peer of one service belongs to; one per service. */
class ServiceMux {
  readonly owners = new Map<string, { link: LinkClient; room: string }>();
  /** Sent on every link (`x-rtcd-sfu-id`): the signal nodes place a room by it. */
  readonly id = randomBytes(12).toString('base64url');

  constructor(readonly service: RoomService) {
    service.attach((peerId, message) => this.owners.get(peerId)?.link.sendUp(peerId, message));
  }
}

const muxes = new WeakMap<RoomService, ServiceMux>();

/**
 * Links `service` to the signal server at `url` (`ws://host:port/sfu`) with `secret` (its
 * `--sfu-secret`). Returns at once; the link comes up in the background and after every loss.
 * @throws TypeError for a URL that is not ws:// or wss://, or an empty secret.
 */
export function connectRoomService(
  url: string,
  secret: string,
  service: RoomService,
  options: RoomServiceLinkOptions = {},
): RoomServiceLink {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`connectRoomService: invalid URL "${url}"`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`connectRoomService: "${url}" is not a ws:// or wss:// URL`);
  }
  if (typeof secret !== 'string' || secret === '') {
    throw new TypeError('connectRoomService: the secret must be a non-empty string');
  }
  let mux = muxes.get(service);
  if (mux === undefined) {
    mux = new ServiceMux(service);
    muxes.set(service, mux);
  }
  const client = new LinkClient(parsed.href, secret, mux, options);
  client.connect();
  return client;
}

class LinkClient implements RoomServiceLink {
  private ws: WebSocket | undefined;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private delay: number;
  private alive = true;
  private closed = false;
  private up = false;
  private readonly log: Logger;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly mux: ServiceMux,
    private readonly o: RoomServiceLinkOptions,
  ) {
    this.log = o.logger ?? silentLogger;
    this.backoffMs = o.backoffMs ?? 250;
    this.maxBackoffMs = o.maxBackoffMs ?? 10000;
    this.delay = this.backoffMs;
  }

  get connected(): boolean {
    return this.up;
  }

  connect(): void {
    const ws = new WebSocket(this.url, {
      headers: { authorization: `Bearer ${this.secret}`, 'x-rtcd-sfu-id': this.mux.id },
      maxPayload: this.o.maxFrameBytes ?? LINK_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10000,
    });
    this.ws = ws;
    ws.on('open', () => this.onOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const level = status === 401 ? 'error' : 'warn';
      this.log[level]({ url: this.url, status }, 'signal server refused the SFU link');
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => this.log.debug({ err, url: this.url }, 'SFU link error'));
    ws.on('close', () => this.onClose());
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const ws = this.ws;
    if (ws === undefined || ws.readyState === ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === ws.CONNECTING) ws.terminate();
      else ws.close(1000, 'SFU closing');
      // A peer that never answers the closing handshake.
      setTimeout(() => ws.terminate(), 1000).unref();
    });
  }

  /** What the service sends to one of this link's peers. */
  sendUp(peerId: string, message: SfuServerMessage): void {
    const ws = this.ws;
    if (!this.up || ws === undefined || ws.readyState !== ws.OPEN) return;
    const frame: LinkUpFrame = { op: 'send', peerId, message };
    ws.send(JSON.stringify(frame));
  }

  private onOpen(): void {
    this.up = true;
    this.delay = this.backoffMs;
    this.alive = true;
    const every = this.o.heartbeatMs ?? 15000;
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.ws?.terminate();
        return;
      }
      this.alive = false;
      this.ws?.ping();
    }, every);
    this.heartbeat.unref();
    this.log.info({ url: this.url }, 'SFU linked to the signal server');
    this.o.onState?.('up');
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    const frame = isBinary ? undefined : parseLinkDownFrame(data);
    if (frame === undefined) {
      this.log.debug({ url: this.url }, 'SFU link: invalid frame dropped');
      return;
    }
    const { owners, service } = this.mux;
    const owner = owners.get(frame.peerId);
    try {
      switch (frame.op) {
        case 'join':
          if (owner !== undefined && owner.room === frame.room) {
            // Resumed on the node of this link: the service has it already.
            owner.link = this;
            return;
          }
          if (owner !== undefined) service.leave(owner.room, frame.peerId);
          owners.set(frame.peerId, { link: this, room: frame.room });
          service.join(frame.room, frame.peerId);
          return;
        case 'message':
          if (owner?.link !== this || owner.room !== frame.room) return;
          service.message(frame.room, frame.peerId, frame.message);
          return;
        case 'leave':
          // A leave from a node the peer moved away from is stale.
          if (owner?.link !== this || owner.room !== frame.room) return;
          owners.delete(frame.peerId);
          service.leave(frame.room, frame.peerId);
          return;
      }
    } catch (err) {
      this.log.error({ err, op: frame.op, peerId: frame.peerId }, 'room service call failed');
    }
  }

  private onClose(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const wasUp = this.up;
    this.up = false;
    this.ws = undefined;
    // This link's peers are gone from the service's point of view: the signal node tells them.
    for (const [peerId, owner] of this.mux.owners) {
      if (owner.link !== this) continue;
      this.mux.owners.delete(peerId);
      try {
        this.mux.service.leave(owner.room, peerId);
      } catch (err) {
        this.log.error({ err, peerId }, 'room service leave failed');
      }
    }
    if (wasUp) {
      this.log.warn({ url: this.url }, 'SFU link lost');
      this.o.onState?.('down');
    }
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) this.connect();
    }, this.delay);
    this.retry.unref();
    this.delay = Math.min(this.delay * 2, this.maxBackoffMs);
  }
}
