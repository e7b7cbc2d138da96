import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';
import type { TransportAddress } from '../stun/transport-address.js';
import type { ClientRef } from './effects.js';
import type { ListenAddress } from './options.js';
import { StreamFramer } from './stream-framer.js';
import { clientAddress, PADDING } from './udp-listener.js';

/**
 * Bytes a connection may have queued for writing before relayed data to it is dropped: a
 * slow TCP client must not grow the server's memory.
 */
export const MAX_WRITE_BACKLOG = 1024 * 1024;
/**
 * Queued bytes beyond which a response closes the connection instead. Relayed data stops at
 * `MAX_WRITE_BACKLOG` plus one frame, so only responses the client has not read can fill
 * the room above it: a client that sends requests and never reads must not make the server
 * queue their answers without bound (a live-fuzz finding: 13.6 MB queued).
 */
export const MAX_RESPONSE_BACKLOG = MAX_WRITE_BACKLOG + 256 * 1024;
/** Why `StreamClient.send` wrote nothing (a stable drop reason), or undefined if it wrote. */
export type StreamSendDrop = 'client-backpressure' | 'client-not-reading' | 'client-closed';

/** A TCP or TLS client connection: its own 5-tuple. */
export class StreamClient implements ClientRef {
  readonly key: string;
  readonly remote: TransportAddress;
  readonly local: TransportAddress;
  /** `StreamListenerHandlers.closed` has been called. */
  closed = false;

  constructor(
    readonly transport: 'tcp' | 'tls',
    readonly socket: Socket,
  ) {
    this.remote = clientAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    this.local = clientAddress(socket.localAddress ?? '', socket.localPort ?? 0);
    const r = this.remote;
    const l = this.local;
    this.key = `${transport}/${l.address}:${l.port}/${r.address}:${r.port}`;
  }

  /**
   * Writes head, body and padding as one frame. Relayed data (with a `body`) is dropped once
   * `MAX_WRITE_BACKLOG` bytes are queued; a response (no `body`) beyond
   * `MAX_RESPONSE_BACKLOG` destroys the connection. Returns why nothing was written, if so.
   */
  send(head: Uint8Array, body?: Uint8Array, padding = 0): StreamSendDrop | undefined {
    const socket = this.socket;
    if (socket.destroyed) return 'client-closed';
    const queued = socket.writableLength;
    if (body !== undefined && queued > MAX_WRITE_BACKLOG) return 'client-backpressure';
    if (queued > MAX_RESPONSE_BACKLOG) {
      socket.destroy();
      return 'client-not-reading';
    }
    socket.cork();
    socket.write(head);
    if (body !== undefined) socket.write(body);
    if (padding > 0) socket.write(PADDING[padding]!);
    socket.uncork();
    return undefined;
  }
}

export interface StreamListenerHandlers {
  /** A new connection; return false to refuse it (it is destroyed). */
  connected(client: StreamClient): boolean;
  /** One whole frame `data[offset, offset + length)`. */
  frame(client: StreamClient, data: Buffer, offset: number, length: number): void;
  /** The bytes cannot be framed as STUN or ChannelData: the connection is closed. */
  garbage(client: StreamClient): void;
  /**
   * No bytes either way for the idle timeout. Return true to close the connection, false
   * to keep it and be asked again after another idle period.
   */
  idle(client: StreamClient): boolean;
  /**
   * The connection is gone, called once: when the socket closes, or at once when the
   * listener closes it (garbage, idle), so state tied to it goes before the peer sees the
   * close.
   */
  closed(client: StreamClient): void;
}

/**
 * A TCP or TLS listener for TURN over streams (RFC 8656 §3.1): each connection's bytes are
 * cut into STUN messages and ChannelData frames by a `StreamFramer`; bytes that cannot be
 * framed close the connection.
 */
export class StreamListener {
  readonly server: Server;
  local: TransportAddress | undefined;

  constructor(
    readonly transport: 'tcp' | 'tls',
    readonly listen: ListenAddress,
    private readonly handlers: StreamListenerHandlers,
    tls: SecureContextOptions | undefined,
    private readonly idleTimeoutMs: number,
  ) {
    const onSocket = (socket: Socket) => this.accept(socket);
    this.server =
      transport === 'tls' ? createTlsServer({ ...tls }, onSocket) : createNetServer(onSocket);
  }

  start(): Promise<TransportAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.listen.host, port: this.listen.port }, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        if (a === null || typeof a === 'string') {
          reject(new Error('not a TCP listener'));
          return;
        }
        this.local = { family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port };
        resolve(this.local);
      });
    });
  }

  /** New certificate and key for new connections; existing ones keep theirs (TLS only). */
  setSecureContext(options: SecureContextOptions): void {
    if ('setSecureContext' in this.server && typeof this.server.setSecureContext === 'function') {
      this.server.setSecureContext(options);
    }
  }

  /**
   * Stops accepting connections; existing ones go on. Resolves once the last of them has
   * closed (the caller destroys them when draining is over).
   */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
  }

  private accept(socket: Socket | TLSSocket): void {
    const client = new StreamClient(this.transport, socket);
    socket.on('error', () => {}); // reported through 'close'
    if (!this.handlers.connected(client)) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    // Node's idle timer fires once and is re-armed only by traffic: a connection kept at
    // one timeout (it had an allocation) is re-armed here, so it is asked again next period.
    socket.setTimeout(this.idleTimeoutMs);
    socket.on('timeout', () => {
      if (this.handlers.idle(client)) this.close(client);
      else socket.setTimeout(this.idleTimeoutMs);
    });
    const framer = new StreamFramer((data, offset, length) => {
      this.handlers.frame(client, data, offset, length);
      return !socket.destroyed;
    });
    socket.on('data', (chunk: Buffer) => {
      if (framer.push(chunk)) return;
      this.handlers.garbage(client);
      this.close(client);
    });
    socket.on('close', () => this.close(client));
  }

  private close(client: StreamClient): void {
    client.socket.destroy();
    if (client.closed) return;
    client.closed = true;
    this.handlers.closed(client);
  }
}
