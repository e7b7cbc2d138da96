/**
 * `SfuWorkerFront`: the public HTTP port of an SFU spread over worker processes (`rtcd sfu
 * --workers N`). Each worker is an `SfuServer` with its own media UDP port and an internal
 * HTTP listener on loopback; the front proxies WHIP/WHEP to the worker that holds the room
 * (`RoomPlacement`), and applies the limits that must see real client addresses or count
 * across workers: requests per second per address (429), HTTP connections, the request
 * timeout (408), and `maxSessions` over all workers (503). `GET /metrics` sums the workers'
 * registries and its own; `GET /healthz` says whether any worker is up.
 *
 * It manages no process: whoever runs the workers tells it `setWorker(slot, port)` when one
 * listens, `setWorker(slot, undefined)` when it is gone, `sessionEnded` when a worker's
 * `onSessionEnded` fires, `roomOpened` when a worker's router opens or closes a room, and
 * `peerMessage` when a worker's room service speaks to a peer of `rooms` (the room service the
 * signal links use; its calls reach the workers through `sendToWorker`).
 */
import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  AggregatorRegistry,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { SfuServerMessage } from '../signal/room-service.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { totalsCounter } from '../util/totals-counter.js';
import { RetryError, requireSdpBody, takeRequest, viewLayerOf } from './http-input.js';
import { listenHttp } from './http-listen.js';
import { resolveSfuServerLimits, type SfuServerOptions } from './options.js';
import { AddressRateLimiter } from './request-limiter.js';
import { RoomPlacement } from './room-placement.js';
import { WhipError } from './whip-error.js';
import { type WorkerRoomCall, WorkerRoomService } from './worker-rooms.js';

/** One registry's `getMetricsAsJSON()`. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Options of an `SfuWorkerFront`: the `SfuServerOptions` of the same names (same defaults and
 * ranges), applied here instead of in the workers, plus where the workers' metrics come from.
 */
export interface SfuWorkerFrontOptions
  extends Pick<
    SfuServerOptions,
    | 'host'
    | 'port'
    | 'maxSessions'
    | 'requestsPerSecond'
    | 'requestBurst'
    | 'clientAddress'
    | 'requestTimeoutMs'
    | 'maxConnections'
    | 'metrics'
    | 'corsOrigin'
    | 'logger'
  > {
  /** Each live worker's registry as JSON, for `GET /metrics`. Default: none (front only). */
  workerMetrics?: () => Promise<MetricsJson[]>;
  /**
   * How long a worker may go silent on a proxied request (no answer, or a stalled body) before
   * the front gives up on it: 503 `worker-unavailable` if nothing was answered yet, else the
   * connection is cut. A hung worker would otherwise hold the request, and its room's count
   * in the placement, forever. Default 15,000 ms.
   */
  workerTimeoutMs?: number;
  /**
   * Hands a room-service call to worker `slot` (its `SfuRoomService`), for `rooms`: the room
   * service to link to `rtcd signal`. Default: none (calls are dropped; do not link `rooms`).
   */
  sendToWorker?: (slot: number, call: WorkerRoomCall) => void;
}

/** Default `workerTimeoutMs`. */
export const DEFAULT_WORKER_TIMEOUT_MS = 15_000;

const ROOM_PATH = /^\/(whip|whep)\/([A-Za-z0-9_.~-]{1,128})$/;
const RESOURCE_PATH = /^\/resource\/([0-9a-f-]{36})$/;
/** Request headers not passed to a worker (hop by hop, or set by the proxy request). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

export class SfuWorkerFront {
  readonly placement = new RoomPlacement();
  /**
   * The room service of all the workers together (link it to the signal nodes with
   * `connectRoomService`): its peers are placed with the WHIP/WHEP rooms and count as sessions.
   */
  readonly rooms: WorkerRoomService;
  /** The front's own series (`rtcd_sfu_workers`, requests and errors answered here). */
  readonly registry = new Registry();
  private readonly ports = new Map<number, number>();
  private readonly limits: ReturnType<typeof resolveSfuServerLimits>;
  private readonly workerTimeoutMs: number;
  private readonly limiter: AddressRateLimiter;
  private readonly logger: Logger;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly counts = { requests: 0, errors: {} as Record<string, number>, restarts: 0 };
  /** Slots that have had a worker up: one coming up again is a restart. */
  private readonly seen = new Set<number>();
  private http: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  /** @throws TypeError naming an option out of range. */
  constructor(private readonly o: SfuWorkerFrontOptions = {}) {
    this.limits = resolveSfuServerLimits(o);
    const timeout = o.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS;
    if (!(Number.isInteger(timeout) && timeout > 0)) {
      throw new TypeError(`workerTimeoutMs must be a positive integer, got ${timeout}`);
    }
    this.workerTimeoutMs = timeout;
    this.limiter = new AddressRateLimiter(this.limits.requestsPerSecond, this.limits.requestBurst);
    this.logger = o.logger ?? silentLogger;
    this.rooms = new WorkerRoomService({
      placement: this.placement,
      send: o.sendToWorker ?? (() => {}),
      maxSessions: this.limits.maxSessions,
      logger: this.logger,
    });
    const placement = this.placement;
    new Gauge({
      name: 'rtcd_sfu_workers',
      help: 'SFU worker processes up',
      registers: [this.registry],
      collect() {
        this.set(placement.slots.length);
      },
    });
    totalsCounter(this.registry, 'rtcd_sfu_http_requests_total', 'HTTP requests', [], () => [
      [{}, this.counts.requests],
    ]);
    totalsCounter(
      this.registry,
      'rtcd_sfu_worker_restarts_total',
      'SFU workers started again after one died',
      [],
      () => [[{}, this.counts.restarts]],
    );
    totalsCounter(this.registry, 'rtcd_sfu_http_errors_total', 'HTTP error replies', ['code'], () =>
      Object.entries(this.counts.errors).map(([code, n]) => [{ code }, n]),
    );
  }

  /** Listens on `host:port`; resolves with the base URL and the bound port. */
  async listen(): Promise<{ url: string; port: number }> {
    const host = this.o.host ?? '127.0.0.1';
    const {
      server: http,
      url,
      port,
    } = await listenHttp(
      this.limits,
      host,
      (req, res) => this.handle(req, res),
      (res, err) => this.fail(res, err),
    );
    this.http = http;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.limiter.sweep(now);
      this.placement.sweep(now);
    }, 1000);
    this.timer.unref();
    return { url, port };
  }

  /** Worker `slot` listens on loopback `port`; undefined: it is gone (its rooms with it). */
  setWorker(slot: number, port: number | undefined): void {
    if (port === undefined) {
      this.ports.delete(slot);
      this.rooms.workerLost(this.placement.workerDown(slot));
      return;
    }
    this.ports.set(slot, port);
    this.rooms.workerLost(this.placement.workerUp(slot));
    this.rooms.workerUp();
    if (this.seen.has(slot)) this.counts.restarts++;
    this.seen.add(slot);
  }

  /** What worker `slot`'s room service says to room peer `peerId` (for `rooms`' sink). */
  peerMessage(slot: number, peerId: string, message: SfuServerMessage): void {
    this.rooms.fromWorker(slot, peerId, message);
  }

  /** Worker `slot` reports a WHIP/WHEP session ended (its `onSessionEnded`). */
  sessionEnded(slot: number, resource: string): void {
    this.placement.ended(slot, resource, performance.now());
  }

  /** Worker `slot`'s router opened (or closed) `room`, by WHIP/WHEP or a linked room. */
  roomOpened(slot: number, room: string, open = true): void {
    if (open) this.placement.roomOpened(slot, room);
    else this.placement.roomClosed(slot, room);
  }

  /** From now on `/healthz` answers 503 `draining` (a load balancer stops sending clients). */
  drain(): void {
    this.draining = true;
  }

  /** Stops listening; open requests are cut. */
  async close(): Promise<void> {
    this.draining = true;
    clearInterval(this.timer);
    this.agent.destroy();
    const http = this.http;
    if (http === undefined) return;
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/healthz') {
      this.counts.requests++;
      await this.serveHealth(req, res);
      return;
    }
    if (path === '/metrics' && this.o.metrics !== false) {
      this.counts.requests++;
      await this.serveMetrics(req, res);
      return;
    }
    takeRequest(this.limiter, req, this.o.clientAddress, this.logger);
    const room = ROOM_PATH.exec(path)?.[2];
    const resource = RESOURCE_PATH.exec(path)?.[1];
    if (room !== undefined && req.method === 'POST') {
      // What one SfuServer checks before its capacity, in its order, so that a full server
      // answers bad input as one process would.
      viewLayerOf(url.searchParams);
      requireSdpBody(req);
      await this.post(room, req, res);
      return;
    }
    let slot = room === undefined ? undefined : this.placement.slotOfRoom(room);
    if (resource !== undefined) {
      slot = this.placement.slotOfResource(resource);
      if (slot === undefined && req.method === 'DELETE') {
        req.resume();
        throw new WhipError(404, 'no-such-resource', 'unknown resource');
      }
    }
    // Anything else (OPTIONS, a bad path or method) is answered by a worker, word for word
    // as one process would.
    slot ??= this.placement.slots[0];
    await this.proxy(req, res, slot);
  }

  private async post(room: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = this.placement;
    if (p.sessions + p.pending >= this.limits.maxSessions) {
      req.resume();
      throw new RetryError(503, 'server-full', `${this.limits.maxSessions} sessions held`, 5);
    }
    const slot = p.begin(room);
    let resource: string | undefined;
    try {
      await this.proxy(req, res, slot, (status, headers) => {
        if (status !== 201) return;
        const location = headers.location;
        resource = typeof location === 'string' ? RESOURCE_PATH.exec(location)?.[1] : undefined;
      });
    } finally {
      if (slot !== undefined) p.finish(room, slot, resource);
    }
  }

  /**
   * Sends the request to worker `slot` and its answer back. `onAnswer` sees the worker's
   * status and headers before they are passed on. A worker that is gone, or goes before it
   * answers: 503 `worker-unavailable`.
   */
  private proxy(
    req: IncomingMessage,
    res: ServerResponse,
    slot: number | undefined,
    onAnswer?: (status: number, headers: IncomingHttpHeaders) => void,
  ): Promise<void> {
    const port = slot === undefined ? undefined : this.ports.get(slot);
    if (port === undefined) {
      req.resume();
      return Promise.reject(
        new RetryError(503, 'worker-unavailable', 'no SFU worker is up for this request', 1),
      );
    }
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    return new Promise<void>((resolve, reject) => {
      const out = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: this.agent },
        (answer) => {
          const status = answer.statusCode ?? 502;
          onAnswer?.(status, answer.headers);
          const back: IncomingHttpHeaders = {};
          for (const [k, v] of Object.entries(answer.headers)) {
            if (!HOP_BY_HOP.has(k)) back[k] = v;
          }
          res.writeHead(status, back);
          answer.pipe(res);
          answer.once('end', () => resolve());
          answer.once('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      out.setTimeout(this.workerTimeoutMs, () => {
        out.destroy(new Error(`no word from the worker in ${this.workerTimeoutMs} ms`));
      });
      out.once('error', (err) => {
        req.resume();
        this.logger.warn({ err, slot }, 'sfu front: worker request failed');
        if (res.headersSent) {
          res.destroy();
          resolve();
          return;
        }
        reject(new RetryError(503, 'worker-unavailable', 'the SFU worker went away', 1));
      });
      req.pipe(out);
    });
  }

  private async serveHealth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const workers = this.placement.slots.length;
    const ok = !this.draining && workers > 0;
    const body = JSON.stringify({
      status: this.draining ? 'draining' : ok ? 'ok' : 'down',
      workers,
    });
    res.writeHead(ok ? 200 : 503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new WhipError(405, 'method-not-allowed', `${req.method} not allowed`);
    }
    const parts = [
      await this.registry.getMetricsAsJSON(),
      ...((await this.o.workerMetrics?.()) ?? []),
    ];
    const sum = AggregatorRegistry.aggregate(parts);
    const body = await sum.metrics();
    res.writeHead(200, {
      'content-type': this.registry.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** The JSON error body of SfuServer (`{"error": code, "message": …}`), CORS headers too. */
  private fail(res: ServerResponse, err: unknown): void {
    let status = 500;
    let code = 'internal';
    let message = 'internal error';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'access-control-allow-origin': this.o.corsOrigin ?? '*',
      'access-control-expose-headers': 'location',
    };
    if (err instanceof WhipError) ({ status, code, message } = err);
    else this.logger.warn({ err }, 'sfu front handler failed');
    if (err instanceof RetryError) headers['retry-after'] = String(err.retryAfterSeconds);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Answered here, not by a worker: counted here (a worker counts what it answers).
    this.counts.requests++;
    this.counts.errors[code] = (this.counts.errors[code] ?? 0) + 1;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: code, message }));
  }
}
