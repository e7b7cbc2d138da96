import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';
import type { TransportAddress } from '../stun/transport-address.js';
import { isStreamFrameStart, streamFrameLength } from './channel-data.js';
import type { ClientRef } from './effects.js';
import type { ListenAddress } from './options.js';
import { clientAddress, PADDING } from './udp-listener.js';

/**
 * Bytes a connection may have queued for writing before relayed data to it is dropped
 * (responses still go out): a slow TCP client must not grow the server's memory.
 */
export const MAX_WRITE_BACKLOG = 1024 * 1024;
/** Largest frame on a TURN stream: STUN 20 + 65535 bytes (ChannelData is 4 + 65535 + 3). */
const MAX_FRAME = 20 + 0xffff;

/** A TCP or TLS client connection: its own 5-tuple. */
export class StreamClient implements ClientRef {
  readonly key: string;
  readonly remote: TransportAddress;
  readonly local: TransportAddress;
  /** Bytes of an incomplete frame, waiting for the rest. */
  partial: Buffer | undefined;

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

  /** Writes head, body and padding as one frame; false if dropped for backpressure. */
  send(head: Uint8Array, body?: Uint8Array, padding = 0): boolean {
    const socket = this.socket;
    if (socket.destroyed) return false;
    if (body !== undefined && socket.writableLength > MAX_WRITE_BACKLOG) return false;
    socket.cork();
    socket.write(head);
    if (body !== undefined) socket.write(body);
    if (padding > 0) socket.write(PADDING[padding]!);
    socket.uncork();
    return true;
  }
}

export interface StreamListenerHandlers {
  /** A new connection; return false to refuse it (it is destroyed). */
  connected(client: StreamClient): boolean;
  /** One whole frame `data[offset, offset + length)`. */
  frame(client: StreamClient, data: Buffer, offset: number, length: number): void;
  /** The bytes cannot be framed as STUN or ChannelData: the connection is closed. */
  garbage(client: StreamClient): void;
  /** No bytes for the idle timeout. */
  idle(client: StreamClient): void;
  closed(client: StreamClient): void;
}

/**
 * A TCP or TLS listener for TURN over streams (RFC 8656 §3.1): cuts the byte stream into
 * STUN messages and ChannelData frames (padded to 4 bytes, §12.5) with `streamFrameLength`.
 * A frame is handed on as an offset into the received chunk; only a frame split across
 * chunks is copied together.
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
    socket.setTimeout(this.idleTimeoutMs, () => this.handlers.idle(client));
    socket.on('data', (chunk: Buffer) => this.receive(client, chunk));
    socket.on('close', () => this.handlers.closed(client));
  }

  private receive(client: StreamClient, chunk: Buffer): void {
    const data = client.partial ? Buffer.concat([client.partial, chunk]) : chunk;
    client.partial = undefined;
    let offset = 0;
    while (data.length - offset >= 4) {
      const size = isStreamFrameStart(data, offset) ? streamFrameLength(data, offset) : undefined;
      if (size === undefined || size > MAX_FRAME + 3) {
        this.handlers.garbage(client);
        client.socket.destroy();
        return;
      }
      if (data.length - offset < size) break;
      this.handlers.frame(client, data, offset, size);
      if (client.socket.destroyed) return;
      offset += size;
    }
    if (offset < data.length) client.partial = data.subarray(offset);
  }
}
