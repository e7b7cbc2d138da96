import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { TransportAddress } from '../stun/index.js';
import { TurnClientError, TurnClientErrorCode } from './client-error.js';
import { StreamFramer } from './stream-framer.js';

export type ClientTransportKind = 'udp' | 'tcp' | 'tls';

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /**
   * One datagram (UDP) or one framed STUN message / ChannelData message (TCP, TLS; a
   * ChannelData frame includes its padding). The buffer is never reused by the transport.
   */
  onFrame(frame: Buffer): void;
  /** The socket failed (after connecting). */
  onError(err: Error): void;
  /** The socket closed, by either side. Called once. */
  onClose(): void;
}

export interface TransportConnectOptions {
  kind: ClientTransportKind;
  host: string;
  port: number;
  /** Local address to bind (UDP) or connect from (TCP, TLS). Default: the system's choice. */
  localAddress?: string;
  /** Local port to bind or connect from. Default 0: an ephemeral port. */
  localPort?: number;
  /** Options of `tls.connect` (ca, servername, rejectUnauthorized…). */
  tls?: tls.ConnectionOptions;
  /** Give up connecting after this many ms. */
  connectTimeoutMs: number;
}

/** A connected socket towards the TURN server that sends and receives whole messages. */
export interface ClientTransport {
  readonly kind: ClientTransportKind;
  /** TCP and TLS deliver in order and without loss: no retransmission, padded ChannelData. */
  readonly reliable: boolean;
  /** The local end of the 5-tuple, as the socket reports it. */
  readonly local: TransportAddress;
  /** Sends a STUN message (always a multiple of 4 bytes long). */
  send(message: Uint8Array): void;
  /**
   * Sends ChannelData as its 4-byte `header` then `data`; on streams adds the padding to a
   * multiple of 4 (RFC 8656 §12.5). `data` must not change until the call returns; on UDP it
   * is handed to the socket without copying.
   */
  sendChannelData(header: Buffer, data: Uint8Array): void;
  close(): void;
}

export async function connectTransport(
  o: TransportConnectOptions,
  handlers: TransportHandlers,
): Promise<ClientTransport> {
  if (o.kind === 'udp') return connectUdp(o, handlers);
  return connectStream(o, handlers);
}

function connectError(o: TransportConnectOptions, cause: unknown): TurnClientError {
  const what = cause instanceof Error ? cause.message : String(cause);
  return new TurnClientError(
    TurnClientErrorCode.connect,
    `cannot connect over ${o.kind} to ${o.host}:${o.port}: ${what}`,
    { cause },
  );
}

async function connectUdp(
  o: TransportConnectOptions,
  handlers: TransportHandlers,
): Promise<ClientTransport> {
  let resolved: { address: string; family: number };
  try {
    resolved = await lookup(o.host);
  } catch (err) {
    throw connectError(o, err);
  }
  const socket = dgram.createSocket(resolved.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: o.localPort ?? 0, address: o.localAddress }, () => {
        // A connected socket sends without a per-datagram address lookup and only
        // receives datagrams from the server.
        socket.connect(o.port, resolved.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    });
  } catch (err) {
    socket.close();
    throw connectError(o, err);
  }
  return new UdpTransport(socket, handlers);
}

class UdpTransport implements ClientTransport {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  readonly local: TransportAddress;
  private closed = false;

  constructor(
    private readonly socket: dgram.Socket,
    private readonly handlers: TransportHandlers,
  ) {
    const a = socket.address();
    this.local = { family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port };
    socket.on('message', (msg) => handlers.onFrame(msg));
    // ICMP errors (e.g. port unreachable → ECONNREFUSED) arrive here on a connected socket;
    // STUN retransmission and timeouts deal with lost packets, so only report them.
    socket.on('error', (err) => handlers.onError(err));
    socket.on('close', () => this.onClose());
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    this.socket.send(message);
  }

  sendChannelData(header: Buffer, data: Uint8Array): void {
    if (this.closed) return;
    this.socket.send([header, data]);
  }

  close(): void {
    if (this.closed) return;
    this.onClose();
    this.socket.close();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose();
  }
}

async function connectStream(
  o: TransportConnectOptions,
  handlers: TransportHandlers,
): Promise<ClientTransport> {
  const tcp = net.connect({
    host: o.host,
    port: o.port,
    ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
    ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
  });
  const socket =
    o.kind === 'tls'
      ? tls.connect({
          ...o.tls,
          socket: tcp,
          servername: o.tls?.servername ?? (net.isIP(o.host) === 0 ? o.host : undefined),
        })
      : tcp;
  const readyEvent = o.kind === 'tls' ? 'secureConnect' : 'connect';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs,
      );
      const done = (err?: Error): void => {
        clearTimeout(timer);
        socket.off('error', done);
        socket.off(readyEvent, ok);
        if (err) reject(err);
        else resolve();
      };
      const ok = (): void => done();
      socket.once('error', done);
      socket.once(readyEvent, ok);
    });
  } catch (err) {
    socket.destroy();
    tcp.destroy();
    throw connectError(o, err);
  }
  tcp.setNoDelay(true);
  return new StreamTransport(o.kind === 'tls' ? 'tls' : 'tcp', socket, handlers);
}

const PADDING = Buffer.alloc(3);

class StreamTransport implements ClientTransport {
  readonly reliable = true;
  readonly local: TransportAddress;
  private closed = false;
  private readonly framer = new StreamFramer((data, offset, length) => {
    this.handlers.onFrame(data.subarray(offset, offset + length));
    return !this.closed;
  });

  constructor(
    readonly kind: 'tcp' | 'tls',
    private readonly socket: net.Socket,
    private readonly handlers: TransportHandlers,
  ) {
    const address = socket.localAddress ?? '';
    this.local = {
      family: net.isIPv6(address) ? 6 : 4,
      address,
      port: socket.localPort ?? 0,
    };
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => handlers.onError(err));
    socket.on('close', () => this.onClose());
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    this.socket.write(message);
  }

  sendChannelData(header: Buffer, data: Uint8Array): void {
    if (this.closed) return;
    const pad = (4 - (data.length & 3)) & 3;
    // One buffer, one write: the caller may reuse `data` as soon as we return.
    const frame = Buffer.allocUnsafe(4 + data.length + pad);
    header.copy(frame, 0, 0, 4);
    frame.set(data, 4);
    if (pad > 0) PADDING.copy(frame, 4 + data.length, 0, pad);
    this.socket.write(frame);
  }

  close(): void {
    if (this.closed) return;
    this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.framer.clear();
    this.handlers.onClose();
  }

  private onData(chunk: Buffer): void {
    // Anything but STUN (first two bits 00) or ChannelData cannot be framed: the stream is
    // out of sync and nothing after it can be trusted (RFC 8656 §12.5).
    if (!this.closed && !this.framer.push(chunk)) {
      this.handlers.onError(new Error('unframeable bytes (not STUN or ChannelData) on the stream'));
      this.close();
    }
  }
}
