import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import { Registry } from 'prom-client';
import type { TransportAddress } from '../stun/transport-address.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { type OpsServer, startOpsServer } from '../util/ops-server.js';
import { parseUsersFile } from './credentials.js';
import type { RelayRequest, RelayResult, TurnEffects } from './effects.js';
import { TurnMetrics } from './metrics.js';
import { nullObserver, type TurnObserver } from './observer.js';
import type { ListenAddress, TurnServerOptions } from './options.js';
import { bindRelay, type RelaySocket } from './relay-socket.js';
import { type ResolvedTurnOptions, resolveTurnOptions } from './resolve-options.js';
import { TurnCore } from './server-core.js';
import {
  type StreamClient,
  StreamListener,
  type StreamListenerHandlers,
} from './stream-listener.js';
import { type UdpClient, UdpListener } from './udp-listener.js';

export interface TurnServerDeps {
  /** Default: silent. */
  logger?: Logger;
  /** Default: a `TurnMetrics` when `metricsListen` is set, else nothing. */
  observer?: TurnObserver;
  /** Wall clock in ms (nonces and REST usernames carry absolute times). Default `Date.now`. */
  now?: () => number;
}

/** Bound addresses, known after `start()` (port 0 → the real port). */
export interface TurnServerAddresses {
  udp: ListenAddress[];
  tcp: ListenAddress[];
  tls: ListenAddress[];
  metrics?: ListenAddress;
}

export interface TurnServerEvents {
  /** Everything is closed (after `close()`). */
  close: [];
}

type Client = UdpClient | StreamClient;

/** How often expired allocations, permissions, channels and reservations are swept. */
const TICK_MS = 1000;
/** How often `close()` looks whether the last allocation has gone. */
const DRAIN_POLL_MS = 100;

/**
 * The STUN/TURN server (RFC 8489 Binding, RFC 8656 TURN over UDP, TCP and TLS): the Node
 * adapter around the sans-IO `TurnCore`. It owns the sockets — one UDP socket and one TCP
 * listener per `listen` entry, a TLS listener per `tlsListen` entry, one UDP relay socket
 * per allocation — and one unref'd interval that calls `core.tick`.
 *
 * `close()` drains: new Allocate requests are answered 508 (so clients pick another server)
 * and TCP/TLS listeners stop accepting, while existing allocations keep refreshing and
 * relaying until they end or `drainTimeoutMs` passes; then everything is closed.
 */
export class TurnServer extends EventEmitter<TurnServerEvents> {
  readonly options: ResolvedTurnOptions;
  readonly addresses: TurnServerAddresses = { udp: [], tcp: [], tls: [] };
  private readonly core: TurnCore<Client, RelaySocket>;
  private readonly logger: Logger;
  /** Where counts go (`TurnMetrics` serves them on `metricsListen`). */
  private readonly sink: TurnObserver;
  /** `sink`, with drops also logged at debug level when that level is on. */
  private readonly observer: TurnObserver;
  private readonly now: () => number;
  private readonly udp: UdpListener[] = [];
  private readonly streams: StreamListener[] = [];
  private readonly connections = new Set<StreamClient>();
  private timer: NodeJS.Timeout | undefined;
  private ops: OpsServer | undefined;
  private closing: Promise<void> | undefined;

  /** @throws TurnOptionsError for an invalid option (see `resolveTurnOptions`). */
  constructor(options: TurnServerOptions = {}, deps: TurnServerDeps = {}) {
    super();
    this.options = resolveTurnOptions(options);
    this.logger = deps.logger ?? silentLogger;
    this.now = deps.now ?? Date.now;
    this.sink = deps.observer ?? (this.options.metricsListen ? new TurnMetrics() : nullObserver);
    this.observer = logDrops(this.sink, this.logger);
    this.core = new TurnCore({
      options: this.options,
      effects: this.effects(),
      observer: this.observer,
    });
  }

  /** Allocations held right now (pending ones included). */
  get allocationCount(): number {
    return this.core.allocationCount;
  }

  /** Reads the users file and certificates, binds every listener, starts the sweep timer. */
  async start(): Promise<void> {
    if (this.options.usersFile) await this.loadUsersFile(this.options.usersFile);
    const tls = this.options.tlsListen.length > 0 ? await this.readTls() : undefined;
    for (const listen of this.options.listen) await this.startPlain(listen);
    for (const listen of this.options.tlsListen) {
      const listener = this.streamListener('tls', listen, tls);
      this.addresses.tls.push(toListen(await listener.start()));
    }
    if (this.options.metricsListen) await this.startOps(this.options.metricsListen);
    this.timer = setInterval(() => this.core.tick(this.now()), TICK_MS);
    this.timer.unref();
    this.logger.info({ addresses: this.addresses }, 'turn server listening');
  }

  /** Re-reads `cert` and `key`: new TLS connections get them, existing ones keep going. */
  async reloadTls(): Promise<void> {
    if (this.options.tlsListen.length === 0) return;
    const context = await this.readTls();
    for (const listener of this.streams) {
      if (listener.transport === 'tls') listener.setSecureContext(context);
    }
    this.logger.info({ cert: this.options.cert }, 'tls certificate reloaded');
  }

  /** Drains (see the class comment) and closes everything. Idempotent. */
  close(o: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(o.drainTimeoutMs ?? this.options.drainTimeoutMs);
    return this.closing;
  }

  private async shutdown(drainTimeoutMs: number): Promise<void> {
    this.core.drain();
    const listenersClosed = Promise.all(this.streams.map((s) => s.stopAccepting()));
    const deadline = Date.now() + drainTimeoutMs;
    while (this.core.allocationCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    clearInterval(this.timer);
    this.core.close();
    for (const client of this.connections) client.socket.destroy();
    await listenersClosed;
    await Promise.all(this.udp.map((l) => l.close()));
    await this.ops?.close();
    this.logger.info({}, 'turn server closed');
    this.emit('close');
  }

  /**
   * One `listen` entry: UDP, then TCP on the same port (the UDP one when port 0 was asked).
   * With port 0 the kernel's free UDP port may be taken for TCP; then both are given up and
   * tried again on a new port (a few times), so `port: 0` never fails for that reason.
   */
  private async startPlain(listen: ListenAddress): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startPlainOnce(listen);
        return;
      } catch (err) {
        const retry =
          listen.port === 0 &&
          attempt < 5 &&
          (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
        if (!retry) throw err;
      }
    }
  }

  private async startPlainOnce(listen: ListenAddress): Promise<void> {
    const udp = new UdpListener(
      listen,
      this.options.reusePort,
      {
        packet: (client, data, cached) => {
          this.core.handleClientPacket(client, data, 0, data.length, this.now());
          if (!cached && this.core.hasAllocation(client)) client.listener.remember(client);
        },
        error: (error) => this.logger.warn({ err: error }, 'udp listener error'),
      },
      this.options.listenerBufferSize,
      this.options.fastUdpSend,
    );
    const bound = await udp.start();
    const tcp = this.streamListener('tcp', { host: listen.host, port: bound.port }, undefined);
    let tcpBound: TransportAddress;
    try {
      tcpBound = await tcp.start();
    } catch (err) {
      this.streams.splice(this.streams.indexOf(tcp), 1);
      await udp.close();
      throw err;
    }
    this.udp.push(udp);
    this.addresses.udp.push(toListen(bound));
    this.addresses.tcp.push(toListen(tcpBound));
  }

  private streamListener(
    transport: 'tcp' | 'tls',
    listen: ListenAddress,
    tls: SecureContextOptions | undefined,
  ): StreamListener {
    const listener = new StreamListener(
      transport,
      listen,
      this.streamHandlers(),
      tls,
      this.options.tcpIdleTimeoutMs,
    );
    this.streams.push(listener);
    return listener;
  }

  private streamHandlers(): StreamListenerHandlers {
    return {
      connected: (client) => {
        if (this.core.draining || this.connections.size >= this.options.maxConnections) {
          this.observer.drop('connection-refused');
          return false;
        }
        this.connections.add(client);
        this.core.clientConnected(client);
        return true;
      },
      frame: (client, data, offset, length) =>
        this.core.handleClientPacket(client, data, offset, length, this.now()),
      garbage: () => this.observer.drop('stream-garbage'),
      idle: (client) => !this.core.hasAllocation(client, this.now()),
      closed: (client) => {
        if (!this.connections.delete(client)) return;
        this.core.clientClosed(client);
      },
    };
  }

  /** What the core asks of the sockets. */
  private effects(): TurnEffects<Client, RelaySocket> {
    return {
      sendToClient: (client, head, body, padding) => {
        if (client.transport === 'udp') client.listener.send(client, head, body, padding);
        else {
          const dropped = client.send(head, body, padding);
          if (dropped !== undefined) this.observer.drop(dropped);
        }
      },
      sendToPeer: (relay, peer, data, offset, length) => {
        relay.send(data, offset, length, peer.port, peer.address);
      },
      openRelay: (request) => {
        this.openRelay(request).catch((err: unknown) => {
          this.logger.error({ err }, 'relay socket failed');
          this.core.relayOpened(request.id, { ok: false, reason: 'bind-failed' }, this.now());
        });
      },
      closeRelay: (relay) => relay.close(),
      released: (client) => {
        if (client.transport === 'udp') client.listener.forget(client);
      },
      closeClient: (client, reason) => {
        this.logger.debug({ client: client.key, reason }, 'closing client');
        if (client.transport !== 'udp') client.socket.destroy();
      },
    };
  }

  private async openRelay(request: RelayRequest<Client>): Promise<void> {
    const o = this.options;
    const ip = request.family === 4 ? o.relayIpv4 : o.relayIpv6;
    let result: RelayResult<RelaySocket>;
    if (ip === undefined) {
      result = { ok: false, reason: 'family-unavailable' };
    } else {
      const bound = await bindRelay({
        family: request.family,
        ip,
        externalIp: o.externalIps.get(ip),
        minPort: o.minPort,
        maxPort: o.maxPort,
        evenPort: request.evenPort,
        reserveNext: request.reserveNext,
        bufferSize: o.relayBufferSize,
        fastUdpSend: o.fastUdpSend,
      });
      if (bound.ok) {
        this.attach(bound.relay);
        if (bound.reserved) this.attach(bound.reserved);
        const reserved = bound.reserved;
        result = {
          ok: true,
          relay: bound.relay,
          relayed: bound.relay.relayed,
          ...(reserved ? { reserved: { relay: reserved, relayed: reserved.relayed } } : {}),
        };
      } else {
        if (bound.reason === 'ports-exhausted') this.logger.warn({}, 'relay port range exhausted');
        result = bound;
      }
    }
    this.core.relayOpened(request.id, result, this.now());
  }

  /** Peer datagrams on a relay socket go to the core as they are (no copy). */
  private attach(relay: RelaySocket): void {
    relay.socket.on('message', (data, rinfo) =>
      this.core.handlePeerPacket(relay, rinfo.address, rinfo.port, data, this.now()),
    );
    relay.socket.on('error', (err) => this.logger.debug({ err }, 'relay socket error'));
  }

  private async loadUsersFile(path: string): Promise<void> {
    const fromFile = parseUsersFile(await readFile(path, 'utf8'));
    this.core.credentials.setUsers({ ...this.options.users, ...fromFile });
  }

  private async readTls(): Promise<SecureContextOptions> {
    const [cert, key] = await Promise.all([
      readFile(this.options.cert ?? ''),
      readFile(this.options.key ?? ''),
    ]);
    return { cert, key };
  }

  private async startOps(listen: ListenAddress): Promise<void> {
    const registry = this.sink instanceof TurnMetrics ? this.sink.registry : new Registry();
    this.ops = await startOpsServer({
      host: listen.host,
      port: listen.port,
      registry,
      healthy: () => !this.core.draining,
    });
    this.addresses.metrics = this.ops.address;
  }
}

/**
 * STYLE §5: every drop is counted and logged at debug level. The level is asked once, here:
 * with debug off (pino's `isLevelEnabled`, or `silentLogger`) the observer is returned as it
 * is, so the relay path pays nothing. A logger that cannot say gets every drop.
 */
export function logDrops(observer: TurnObserver, logger: Logger): TurnObserver {
  if (logger.isLevelEnabled?.('debug') === false) return observer;
  return {
    drop: (reason) => {
      observer.drop(reason);
      logger.debug({ reason }, 'turn packet dropped');
    },
    response: observer.response.bind(observer),
    authFailure: observer.authFailure.bind(observer),
    relayed: observer.relayed.bind(observer),
    gauges: observer.gauges.bind(observer),
  };
}

function toListen(a: TransportAddress): ListenAddress {
  return { host: a.address, port: a.port };
}
