/**
 * Binds the sans-IO DTLS core to `node:dgram` and timers: `DtlsSocket` (one peer, either
 * role) and `DtlsUdpServer` (a listener with stateless cookies for many clients). Used by
 * tests, the benchmark and embedders that own a plain UDP socket; the WebRTC layer feeds
 * `DtlsConnection` itself from its ICE socket instead.
 *
 *   const server = await DtlsUdpServer.listen({ certificate, cookieJar: new CookieJar() });
 *   server.on('data', (conn, data) => conn.send(data));           // echo
 *   const client = await DtlsSocket.connect({ address: '127.0.0.1', port: server.port },
 *     { certificate, remoteFingerprints: [{ algorithm: 'sha-256', value: fp }] });
 *   client.send(Buffer.from('hello'));
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { type DtlsCloseReason, DtlsConnection } from './connection.js';
import { DtlsError, DtlsErrorCode } from './errors.js';
import type { DtlsOptions } from './options.js';
import { type DtlsListenerOptions, DtlsServerListener } from './server-listener.js';

export interface UdpEndpoint {
  address: string;
  port: number;
}

export interface DtlsSocketOptions extends Omit<DtlsOptions, 'role'> {
  /** Default 'client'. A server without `remote` answers the first peer that speaks. */
  role?: 'client' | 'server';
  /** A bound socket to use (and close with us). Default: a new udp4 socket. */
  socket?: dgram.Socket;
  /** Local address to bind a new socket to. Default '127.0.0.1'. */
  bindAddress?: string;
  /** Local port for a new socket. Default 0 (any). */
  bindPort?: number;
}

type SocketEvents = {
  connect: [];
  data: [Buffer];
  close: [DtlsCloseReason];
};

/** Monotonic ms for the cores (they only compare times). */
const clock = (): number => performance.now();

/** One DTLS association over a UDP socket. */
export class DtlsSocket extends EventEmitter<SocketEvents> {
  readonly connection: DtlsConnection;
  private timer: NodeJS.Timeout | undefined;
  private remote: UdpEndpoint | undefined;
  private closed = false;
  private readonly flusher: Flusher;

  private constructor(
    readonly socket: dgram.Socket,
    options: DtlsSocketOptions,
    remote: UdpEndpoint | undefined,
  ) {
    super();
    this.remote = remote;
    this.flusher = new Flusher(socket);
    const { socket: _s, bindAddress: _a, bindPort: _p, role, ...dtls } = options;
    this.connection = new DtlsConnection(
      { ...dtls, role: role ?? 'client' },
      {
        send: (d) => {
          const r = this.remote;
          if (r !== undefined && !this.closed) this.flusher.send(d, r.port, r.address);
        },
        data: (b) => this.emit('data', b),
        connected: () => this.emit('connect'),
        closed: (reason) => this.shutdown(reason),
      },
    );
    socket.on('message', (msg, rinfo) => {
      if (this.remote === undefined) this.remote = { address: rinfo.address, port: rinfo.port };
      else if (rinfo.port !== this.remote.port || rinfo.address !== this.remote.address) return;
      this.connection.receive(msg, clock());
      this.schedule();
    });
  }

  /** Client: handshakes with `remote`; resolves once connected, rejects if it fails. */
  static async connect(remote: UdpEndpoint, options: DtlsSocketOptions): Promise<DtlsSocket> {
    const s = await DtlsSocket.create({ ...options, role: 'client' }, remote);
    await s.handshake();
    return s;
  }

  /**
   * A socket not yet started: call `start()` (or wait for the peer, as a server). `remote`
   * may be omitted for a server, which then serves the first address that sends to it.
   */
  static async create(options: DtlsSocketOptions, remote?: UdpEndpoint): Promise<DtlsSocket> {
    const socket = options.socket ?? (await bind(options.bindAddress, options.bindPort));
    return new DtlsSocket(socket, options, remote);
  }

  /** Our UDP port. */
  get port(): number {
    return this.socket.address().port;
  }

  /** Starts the handshake and resolves once connected (rejects with the DtlsError if not). */
  handshake(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      if (this.connection.state === 'connected') return resolve();
      const onConnect = (): void => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (reason: DtlsCloseReason): void => {
        this.off('connect', onConnect);
        reject(toError(reason));
      };
      this.once('connect', onConnect);
      this.once('close', onClose);
    });
    this.start();
    return p;
  }

  start(): void {
    this.connection.start(clock());
    this.schedule();
  }

  send(data: Buffer): void {
    this.connection.send(data);
  }

  exportKeyingMaterial(label: string, length: number, context?: Buffer): Buffer {
    return this.connection.exportKeyingMaterial(label, length, context);
  }

  /** Sends close_notify and closes the socket. */
  close(): void {
    this.connection.close();
    this.shutdown({});
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.connection.nextTimeout();
    if (due === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.connection.handleTimeout(clock());
        this.schedule();
      },
      Math.max(0, Math.ceil(due - clock())),
    );
  }

  private shutdown(reason: DtlsCloseReason): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.emit('close', reason);
    this.flusher.close();
  }
}

/** Sends datagrams and closes the socket once the last one has left (close_notify). */
class Flusher {
  private pending = 0;
  private closing = false;

  constructor(private readonly socket: dgram.Socket) {}

  send(d: Buffer, port: number, address: string): void {
    if (this.closing) return;
    this.pending++;
    this.socket.send(d, port, address, () => {
      this.pending--;
      if (this.closing && this.pending === 0) this.closeNow();
    });
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.pending === 0) this.closeNow();
  }

  private closeNow(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

type ServerEvents = {
  connect: [DtlsConnection, UdpEndpoint];
  data: [DtlsConnection, Buffer, UdpEndpoint];
  close: [DtlsConnection, DtlsCloseReason, UdpEndpoint];
};

export interface DtlsUdpServerOptions extends DtlsListenerOptions {
  /** Default '127.0.0.1'. */
  bindAddress?: string;
  /** Default 0 (any). */
  bindPort?: number;
  socket?: dgram.Socket;
}

/** A DTLS server for many clients on one UDP socket, with stateless cookies. */
export class DtlsUdpServer extends EventEmitter<ServerEvents> {
  readonly listener: DtlsServerListener;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flusher: Flusher;

  private constructor(
    readonly socket: dgram.Socket,
    options: DtlsUdpServerOptions,
  ) {
    super();
    this.flusher = new Flusher(socket);
    const { socket: _s, bindAddress: _a, bindPort: _p, ...listen } = options;
    this.listener = new DtlsServerListener(listen, {
      send: (d, address, port) => {
        if (!this.closed) this.flusher.send(d, port, address);
      },
      connected: (conn, address, port) => this.emit('connect', conn, { address, port }),
      data: (conn, b, address, port) => this.emit('data', conn, b, { address, port }),
      closed: (conn, reason, address, port) => this.emit('close', conn, reason, { address, port }),
    });
    socket.on('message', (msg, rinfo) => {
      this.listener.receive(msg, rinfo.address, rinfo.port, clock());
      this.schedule();
    });
  }

  static async listen(options: DtlsUdpServerOptions): Promise<DtlsUdpServer> {
    const socket = options.socket ?? (await bind(options.bindAddress, options.bindPort));
    return new DtlsUdpServer(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    if (this.closed) return;
    this.listener.close();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.flusher.close();
  }

  private schedule(): void {
    if (this.closed) return;
    const due = this.listener.nextTimeout();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (due === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.listener.handleTimeout(clock());
        this.schedule();
      },
      Math.max(0, Math.ceil(due - clock())),
    );
  }
}

function toError(reason: DtlsCloseReason): DtlsError {
  const code = (reason.error ?? DtlsErrorCode.alertReceived) as DtlsErrorCode;
  return new DtlsError(
    code,
    reason.message ?? 'connection closed before the handshake ended',
    reason.alert,
  );
}

function bind(address = '127.0.0.1', port = 0): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
