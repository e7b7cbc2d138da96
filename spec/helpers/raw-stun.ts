import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { decodeString, StringLimit } from '../../lib/stun/attributes/string.js';
import { AttributeType } from '../../lib/stun/constants.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { streamFrameLength } from '../../lib/turn/channel-data.js';

/**
 * Bare STUN over real sockets for specs that must choose every byte (bad integrity, unknown
 * attributes, garbage): no credentials, no retransmission logic beyond a resend on UDP.
 * Everything binds and connects on loopback.
 */

/** Rejects with `what` if `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Waiter = { id: string; resolve: (m: StunMessage) => void };

function settle(waiters: Waiter[], frame: Buffer): void {
  const d = decodeStunMessage(frame);
  if (!d.ok) return;
  const id = d.message.transactionId.toString('hex');
  const i = waiters.findIndex((w) => w.id === id);
  if (i >= 0) waiters.splice(i, 1)[0]!.resolve(d.message);
}

/** A UDP socket on 127.0.0.1 that sends raw datagrams and matches responses by transaction. */
export class RawUdp {
  private readonly waiters: Waiter[] = [];
  private constructor(
    readonly socket: UdpSocket,
    readonly server: TransportAddress,
  ) {
    socket.on('message', (data) => settle(this.waiters, data));
  }

  static async open(server: TransportAddress): Promise<RawUdp> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RawUdp(socket, server);
  }

  get local(): TransportAddress {
    const a = this.socket.address();
    return { family: 4, address: a.address, port: a.port };
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.address);
  }

  /** Sends `request` (again every 500 ms) until the response with its transaction ID. */
  async transact(request: Buffer, ms = 3000): Promise<StunMessage> {
    const id = request.subarray(8, 20).toString('hex');
    const answer = new Promise<StunMessage>((resolve) => this.waiters.push({ id, resolve }));
    const resend = setInterval(() => this.send(request), 500);
    this.send(request);
    try {
      return await within(answer, ms, 'STUN response over UDP');
    } finally {
      clearInterval(resend);
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** A TCP connection to the server that writes raw bytes and reads STUN/ChannelData frames. */
export class RawTcp {
  private readonly waiters: Waiter[] = [];
  private pending: Buffer = Buffer.alloc(0);
  /** True once the connection closed without `close()` being called: the server closed it. */
  closedByServer = false;
  readonly closed: Promise<void>;
  private closing = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {}); // a reset shows as 'close'
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        if (!this.closing) this.closedByServer = true;
        resolve();
      }),
    );
  }

  static async connect(server: TransportAddress): Promise<RawTcp> {
    const socket = connect({ host: server.address, port: server.port, localAddress: '127.0.0.1' });
    await once(socket, 'connect');
    socket.setNoDelay(true);
    return new RawTcp(socket);
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  async transact(request: Buffer, ms = 3000): Promise<StunMessage> {
    const id = request.subarray(8, 20).toString('hex');
    const answer = new Promise<StunMessage>((resolve) => this.waiters.push({ id, resolve }));
    this.write(request);
    return within(answer, ms, 'STUN response over TCP');
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const size = streamFrameLength(this.pending, 0);
      if (size === undefined || this.pending.length < size) return;
      settle(this.waiters, this.pending.subarray(0, size));
      this.pending = this.pending.subarray(size);
    }
  }
}

/** A string attribute of `m` (REALM, NONCE…), or undefined. */
export function stringAttribute(m: StunMessage, type: number): string | undefined {
  const a = m.get(type);
  const limit = type === AttributeType.NONCE ? StringLimit.NONCE : StringLimit.REALM;
  return a && decodeString(m, a, limit);
}
