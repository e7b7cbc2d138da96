import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Logger, silentLogger } from '../util/logger.js';
import { Authenticator, type Identity } from './auth.js';
import { Connection, type PeerSink } from './connection.js';
import { CloseCode } from './errors.js';
import { fail, type HttpApiContext, handleApi } from './http-api.js';
import { SignalHub } from './hub.js';
import { MemoryStore } from './memory-store.js';
import { signalRegistry } from './metrics.js';
import {
  type ResolvedSignalOptions,
  resolveSignalOptions,
  type SignalServerOptions,
} from './options.js';
import { SfuLinks } from './sfu-links.js';
import { defaultWebRoot, serveStatic } from './static-files.js';
import type { SignalStore } from './store.js';

/**
 * `rtcd signal` as a class: one HTTP server carrying the WebSocket endpoint `/ws`, the HTTP API
 * (http-api.ts) and the web client's files (static-files.ts), over a `SignalHub` and a store;
 * with `sfuSecret`, also `/sfu` where SFUs link in to serve rooms of session type sfu
 * (sfu-links.ts), or with `roomService` an SFU in this process does.
 *
 * ```ts
 * const server = new SignalServer({ listen: { host: '127.0.0.1', port: 0 }, noAuth: true });
 * const { port } = await server.listen();
 * // … ws://127.0.0.1:${port}/ws
 * await server.close();
 * ```
 */
export class SignalServer {
  readonly options: ResolvedSignalOptions;
  readonly hub: SignalHub;
  readonly store: SignalStore;
  /** The SFU links' end (`GET /sfu`) when `sfuSecret` is set. */
  readonly sfuLinks: SfuLinks | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly auth: Authenticator;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** The directory served at `/`, or undefined (no web client). */
  readonly webRoot: string | undefined;
  private readonly sockets = new Map<WebSocket, Connection>();
  private readonly sse = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  /** Bytes waiting to be sent to one WebSocket beyond which it is closed (1008). */
  private readonly maxBuffered: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private bound: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;

  /** @throws SignalOptionsError for an invalid option. */
  constructor(options: SignalServerOptions) {
    this.options = resolveSignalOptions(options);
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryStore({ now: this.now });
    this.auth = new Authenticator(this.options);
    const secret = this.options.sfuSecret;
    this.sfuLinks =
      secret === undefined
        ? undefined
        : new SfuLinks({ secret, log: this.log, heartbeatMs: this.options.heartbeatIntervalMs });
    const links = this.sfuLinks;
    this.hub = new SignalHub(
      this.options,
      this.store,
      this.auth,
      this.log,
      this.now,
      options.roomService ?? links,
      links === undefined ? undefined : (room, peerId) => links.forget(room, peerId),
    );
    const root = this.options.webRoot;
    this.webRoot = root === false ? undefined : (root ?? defaultWebRoot());
    this.maxBuffered = Math.max(1 << 20, this.options.maxMessageBytes * 16);
    this.wss = new WebSocketServer({
      noServer: true,
      // Between maxMessageBytes and this, a message gets `message-too-large` and the
      // connection stays; beyond, ws closes it with 1009 without reading it all.
      maxPayload: this.options.maxMessageBytes * 4,
      perMessageDeflate: false,
    });
    const ctx: HttpApiContext = {
      o: this.options,
      hub: this.hub,
      auth: this.auth,
      registry: signalRegistry(this.hub, () => this.sockets.size + this.sse.size, this.sfuLinks),
      now: this.now,
      admit: (conn, ip) => {
        if (!this.admit(ip)) return false;
        this.sse.add(conn);
        return true;
      },
      release: (conn) => {
        if (this.sse.delete(conn)) this.releaseIp(conn.ip);
      },
      draining: () => this.closing !== undefined,
    };
    this.http = createServer((req, res) => this.onRequest(ctx, req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
  }

  /** The bound address (the real port when 0 was asked); undefined before `listen()`. */
  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** Number of WebSocket and SSE connections held. */
  get connectionCount(): number {
    return this.sockets.size + this.sse.size;
  }

  /** Starts the store and listens. Resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.options.noAuth) {
      this.log.warn(
        { noAuth: true },
        'AUTHENTICATION IS OFF (noAuth): anyone can join any room; development only',
      );
    }
    await this.store.start((e) => this.hub.onStoreEvent(e), this.log);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.listen.port, this.options.listen.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const a = this.http.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
    this.log.info(
      { ...this.bound, store: this.store.kind, webRoot: this.webRoot },
      'signal listening',
    );
    return this.bound;
  }

  /**
   * Stops accepting, tells every client to go (close 1001, SSE `close`), takes every peer out
   * of its room (so other nodes send `peer-left`), waits up to `drainTimeoutMs` for the
   * sockets to close, then cuts the rest and closes the store. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    this.hub.shuttingDown = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    const stopped = new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.hub.leaveAll();
    const unlinked = this.sfuLinks?.close();
    const gone = [...this.sockets.keys()].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(CloseCode.goingAway, 'server shutting down');
        }),
    );
    for (const conn of this.sse) conn.sink.close(CloseCode.goingAway, 'server shutting down');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.drainTimeoutMs);
    });
    await Promise.race([Promise.all([...gone, unlinked]), timeout]);
    clearTimeout(timer);
    for (const ws of this.sockets.keys()) ws.terminate();
    this.sfuLinks?.terminate();
    this.http.closeAllConnections();
    await stopped;
    await this.store.close();
    this.log.info({}, 'signal closed');
  }

  private onRequest(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse): void {
    handleApi(ctx, req, res).then(
      (handled) => {
        if (handled) return;
        if (this.webRoot !== undefined && serveStatic(this.webRoot, req, res)) return;
        fail(res, 'not-found', 'not found');
      },
      (err: unknown) => {
        this.log.error({ err, url: req.url }, 'HTTP handler failed');
        fail(res, 'internal', 'internal error');
      },
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/sfu' && this.sfuLinks !== undefined && this.closing === undefined) {
      this.sfuLinks.upgrade(req, socket, head);
      return;
    }
    if (url.pathname !== '/ws' || this.closing !== undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.on('error', () => {});
    const token = url.searchParams.get('token') ?? undefined;
    const verify = token === undefined ? Promise.resolve(undefined) : this.auth.verify(token);
    verify.then(
      (r) => {
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (r !== undefined && !r.ok) {
            ws.send(JSON.stringify({ type: 'error', code: 'unauthorized', message: r.message }));
            ws.close(CloseCode.unauthorized, 'unauthorized');
            return;
          }
          this.onSocket(ws, req, r?.identity);
        });
      },
      () => socket.destroy(),
    );
  }

  private onSocket(ws: WebSocket, req: IncomingMessage, identity: Identity | undefined): void {
    const ip = req.socket.remoteAddress ?? '';
    if (!this.admit(ip)) {
      ws.close(CloseCode.tooManyConnections, 'too many connections');
      return;
    }
    const sink: PeerSink = {
      send: (frame) => {
        if (ws.readyState !== ws.OPEN) return false;
        if (ws.bufferedAmount > this.maxBuffered) {
          // A client that does not read would hold server memory without bound; it may
          // resume and get the queued frames.
          ws.close(CloseCode.policyViolation, 'not reading');
          return false;
        }
        ws.send(frame);
        return true;
      },
      close: (code, reason) => ws.close(code, reason),
    };
    const rate = { perSecond: this.options.messagesPerSecond, burst: this.options.messageBurst };
    const conn = new Connection(sink, ip, identity, rate, this.now());
    this.sockets.set(ws, conn);
    ws.on('message', (data: Buffer, isBinary: boolean) =>
      this.hub.handleFrame(conn, data, isBinary),
    );
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err) => this.log.debug({ err, ip }, 'websocket error'));
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.releaseIp(ip);
      this.hub.detach(conn);
    });
  }

  /** Counts a new connection from `ip` unless a limit is reached. */
  private admit(ip: string): boolean {
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.options.maxConnectionsPerIp) return false;
    if (this.sockets.size + this.sse.size >= this.options.maxConnections) return false;
    this.perIp.set(ip, n + 1);
    return true;
  }

  private releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** WebSocket heartbeat: a socket that has not answered the previous ping is dead. */
  private beat(): void {
    for (const [ws, conn] of this.sockets) {
      if (!conn.alive) {
        ws.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
        // A dead peer never completes the closing handshake.
        setTimeout(() => ws.terminate(), 1000).unref();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }
}
