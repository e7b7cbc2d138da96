/**
 * A scripted STUN/TURN "server" on 127.0.0.1 for client tests: it records every frame the
 * client sends and answers only what the test tells it to, so tests can observe wire bytes,
 * retransmission timing, forged responses and broken streams. Over TCP it frames by hand
 * (STUN 20 + length; ChannelData 4 + length padded to 4) so the client's padding is checked
 * by code that is not the client's own.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Test } from 'tap';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import { TurnClient, type TurnClientOptions } from '../../lib/turn/client.js';

export interface Frame {
  bytes: Buffer;
  /** performance.now() when it arrived. */
  at: number;
}

export type FrameHandler = (frame: Buffer, server: ScriptedServer) => void;

export class ScriptedServer {
  readonly frames: Frame[] = [];
  /** Called for each frame the client sends. Default: ignore. */
  onFrame: FrameHandler = () => {};
  private waiters: ((f: Frame) => void)[] = [];
  private taken = 0;
  private udpPeer: { port: number; address: string } | undefined;
  private connections = new Set<net.Socket>();
  /** Every byte received on TCP, in order (for padding checks). */
  streamBytes = Buffer.alloc(0);

  private constructor(
    readonly kind: 'udp' | 'tcp',
    readonly port: number,
    private readonly udp?: dgram.Socket,
    private readonly tcp?: net.Server,
  ) {}

  static async udp(): Promise<ScriptedServer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const server = new ScriptedServer('udp', socket.address().port, socket);
    socket.on('message', (msg, rinfo) => {
      server.udpPeer = { port: rinfo.port, address: rinfo.address };
      server.record(msg);
    });
    return server;
  }

  static async tcp(): Promise<ScriptedServer> {
    let server: ScriptedServer | undefined;
    const tcp = net.createServer((socket) => server?.accept(socket));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    const address = tcp.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    server = new ScriptedServer('tcp', port, undefined, tcp);
    return server;
  }

  /** Sends raw bytes to the client (the last UDP sender, or every TCP connection). */
  send(bytes: Uint8Array): void {
    if (this.udp && this.udpPeer) this.udp.send(bytes, this.udpPeer.port, this.udpPeer.address);
    for (const c of this.connections) c.write(bytes);
  }

  /** The next frame not yet taken by `next`, waiting up to `ms`. */
  next(ms = 2000): Promise<Frame> {
    const taken = this.taken;
    if (taken < this.frames.length) {
      this.taken++;
      return Promise.resolve(this.frames[taken]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
      this.waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  /** Ends every TCP connection (the client sees the server hang up). */
  dropConnections(): void {
    for (const c of this.connections) c.destroy();
    this.connections.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    if (this.udp) await new Promise<void>((resolve) => this.udp!.close(() => resolve()));
    if (this.tcp) await new Promise<void>((resolve) => this.tcp!.close(() => resolve()));
  }

  private record(bytes: Buffer): void {
    const frame = { bytes, at: performance.now() };
    this.frames.push(frame);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.taken++;
      waiter(frame);
    }
    this.onFrame(bytes, this);
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.streamBytes = Buffer.concat([this.streamBytes, chunk]);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 4) break;
        const length = pending.readUInt16BE(2);
        const size = (pending[0]! & 0xf0) === 0x40 ? 4 + ((length + 3) & ~3) : 20 + length;
        if (pending.length < size) break;
        this.record(Buffer.from(pending.subarray(0, size)));
        pending = pending.subarray(size);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.connections.delete(socket));
  }
}

/**
 * A ScriptedServer (`kind`) and a TurnClient connected to it from 127.0.0.1 with `options`;
 * both are closed when `t` ends.
 */
export async function scriptedClient(
  t: Test,
  kind: 'udp' | 'tcp',
  options: Partial<TurnClientOptions> = {},
): Promise<{ server: ScriptedServer; client: TurnClient }> {
  const server = kind === 'udp' ? await ScriptedServer.udp() : await ScriptedServer.tcp();
  t.teardown(() => server.close());
  const client = await TurnClient.connect({
    server: { host: '127.0.0.1', port: server.port },
    transport: kind,
    localAddress: '127.0.0.1',
    ...options,
  });
  t.teardown(() => client.close());
  return { server, client };
}

/** The STUN message the client sent as `bytes`; throws if it is not one. */
export function decodeFrame(bytes: Buffer): StunMessage {
  const d = decodeStunMessage(bytes);
  if (!d.ok) throw new Error(`client sent a bad STUN message: ${d.reason}`);
  return d.message;
}
