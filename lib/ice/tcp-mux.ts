import { createServer, type Server, type Socket } from 'node:net';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Logger } from '../util/logger.js';
import { classifyPacket } from './demux.js';
import type { LiteRemote } from './lite-core.js';
import type { ResolvedLiteOptions } from './lite-options.js';
import type { IceLiteSession } from './lite-session.js';

/**
 * ICE-TCP passive candidate (RFC 6544) for an `IceLiteMux`: a TCP listener whose connections
 * carry RFC 4571 frames (a 2-byte big-endian length, then one STUN, DTLS or SRTP packet).
 * A connection belongs to no session until a valid check arrives on it; one that stays
 * unauthenticated for `tcpHandshakeTimeoutMs`, or sends a frame over `tcpMaxFrameBytes`, or
 * a first frame that is not STUN, is closed.
 */

const V4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * `a.b.c.d` for an IPv4-mapped IPv6 text address (`::ffff:a.b.c.d`, how a dual-stack socket
 * reports an IPv4 peer), else undefined.
 */
export function unmapIpv4Text(address: string): string | undefined {
  return V4_MAPPED.exec(address)?.[1];
}

/** One accepted connection, as the lite core sees its remote. */
export interface TcpRemote extends LiteRemote {
  readonly transport: 'tcp';
  readonly connection: Socket;
  /** The session a valid check on this connection named (set by the mux). */
  session: IceLiteSession | undefined;
}

export interface TcpMuxHandlers {
  stun(frame: Buffer, from: TcpRemote): void;
  media(frame: Buffer, from: TcpRemote): void;
  closed(from: TcpRemote): void;
}

/** Bytes queued on a connection beyond which outgoing media is dropped (it is lossy anyway). */
const MAX_QUEUED_BYTES = 1 << 20;

export class TcpMux {
  readonly #server: Server;
  readonly #handlers: TcpMuxHandlers;
  readonly #options: ResolvedLiteOptions;
  readonly #logger: Logger;
  readonly #connections = new Map<object, TcpRemote>();
  /** Connections not yet bound to a session by a valid check. */
  #pending = 0;
  readonly address: TransportAddress;

  private constructor(
    server: Server,
    options: ResolvedLiteOptions,
    logger: Logger,
    handlers: TcpMuxHandlers,
  ) {
    this.#server = server;
    this.#options = options;
    this.#logger = logger;
    this.#handlers = handlers;
    const a = server.address();
    if (a === null || typeof a === 'string') throw new TypeError('TCP listener has no address');
    this.address = { family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port };
  }

  static async listen(
    options: ResolvedLiteOptions,
    logger: Logger,
    handlers: TcpMuxHandlers,
  ): Promise<TcpMux> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.tcpPort ?? 0, options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const mux = new TcpMux(server, options, logger, handlers);
    server.on('connection', (socket) => mux.#accept(socket));
    server.on('error', (err) => logger.warn({ err }, 'ice-lite: TCP listener error'));
    return mux;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  get pendingCount(): number {
    return this.#pending;
  }

  /** Frames and writes one packet on the connection of `remote` (if still open). */
  send(remote: LiteRemote, packet: Uint8Array): void {
    const conn =
      remote.connection === undefined ? undefined : this.#connections.get(remote.connection);
    if (conn === undefined || conn.connection.writableLength > MAX_QUEUED_BYTES) return;
    if (packet.length > 0xffff) return;
    const framed = Buffer.allocUnsafe(2 + packet.length);
    framed.writeUInt16BE(packet.length, 0);
    framed.set(packet, 2);
    conn.connection.write(framed);
  }

  /** A valid check arrived on `remote`: it belongs to `session`; no handshake deadline. */
  authenticated(remote: TcpRemote, session: IceLiteSession): void {
    if (remote.session === undefined) this.#pending--;
    remote.session = session;
    remote.connection.setTimeout(0);
  }

  async close(): Promise<void> {
    for (const remote of this.#connections.values()) remote.connection.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    if (this.#pending >= this.#options.tcpMaxPendingConnections) {
      this.#logger.debug({ from: `${address}:${port}` }, 'ice-tcp: too many pending connections');
      socket.destroy();
      return;
    }
    this.#pending++;
    const unmapped = socket.remoteFamily === 'IPv6' ? unmapIpv4Text(address) : undefined;
    const remote: TcpRemote = {
      family: socket.remoteFamily === 'IPv6' && unmapped === undefined ? 6 : 4,
      address: unmapped ?? address,
      port,
      transport: 'tcp',
      connection: socket,
      session: undefined,
    };
    this.#connections.set(socket, remote);
    socket.setTimeout(this.#options.tcpHandshakeTimeoutMs, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 2) {
        const length = pending.readUInt16BE(offset);
        if (length > this.#options.tcpMaxFrameBytes) {
          this.#logger.debug({ length, from: `${address}:${port}` }, 'ice-tcp: frame too long');
          socket.destroy();
          return;
        }
        if (pending.length - offset - 2 < length) break;
        const frame = pending.subarray(offset + 2, offset + 2 + length);
        offset += 2 + length;
        if (!this.#dispatch(frame, remote)) {
          socket.destroy();
          return;
        }
      }
      pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (remote.session === undefined) this.#pending--;
      this.#connections.delete(socket);
      this.#handlers.closed(remote);
    });
  }

  /** False if the connection must close (a non-STUN frame before any valid check). */
  #dispatch(frame: Buffer, remote: TcpRemote): boolean {
    if (frame.length === 0) return true;
    if (classifyPacket(frame) === 'stun') {
      this.#handlers.stun(frame, remote);
      return true;
    }
    if (remote.session === undefined) return false;
    this.#handlers.media(frame, remote);
    return true;
  }
}
