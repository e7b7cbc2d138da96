import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { isIP } from 'node:net';
import type { TransportAddress } from '../stun/transport-address.js';
import { literalLookup } from '../util/literal-lookup.js';
import { UdpSender } from '../util/udp-send.js';
import type { ClientRef } from './effects.js';
import type { ListenAddress } from './options.js';
import { openClientSocket } from './udp-client-socket.js';

/** Zero bytes for padding Data indications (never written to, so safely shared). */
export const PADDING: readonly Buffer[] = [0, 1, 2, 3].map((n) => Buffer.alloc(n));
const EMPTY = PADDING[0]!;

/** A client of a UDP listener: one remote address and port on one listening socket. */
export class UdpClient implements ClientRef {
  readonly transport = 'udp' as const;
  readonly key: string;
  /**
   * With reusePort: the sender of a socket of its own, on the listener's address and port and
   * connected to this client (see udp-client-socket.ts), once it is connected. Sends go
   * through it.
   */
  connected: UdpSender | undefined = undefined;
  constructor(
    readonly listener: UdpListener,
    readonly remote: TransportAddress,
    /** `rinfo.address` as Node gave it (`::ffff:a.b.c.d` on a dual-stack socket). */
    readonly wireAddress: string,
  ) {
    const l = listener.local;
    this.key = `udp/${l.address}:${l.port}/${remote.address}:${remote.port}`;
  }
  get local(): TransportAddress {
    return this.listener.local;
  }
}

export interface UdpListenerHandlers {
  /** A datagram from `client`; `cached` is false for a client the listener does not hold. */
  packet(client: UdpClient, data: Buffer, cached: boolean): void;
  error(error: Error): void;
}

/**
 * One UDP listening socket (STUN/TURN port). Clients are identified by source address and
 * port; the listener holds a `UdpClient` only while the core has state for it (`remember` /
 * `forget`), so spoofed sources cannot grow memory, and finds it per datagram with two
 * `Map.get`s on the strings Node already made (`rinfo.address`, `rinfo.port`): no key string
 * is built per packet.
 *
 * With `reusePort` (several processes on one port) a remembered client also gets its own
 * connected socket on the same address and port, so that the kernel keeps delivering its
 * datagrams to this process when the reuseport group changes (udp-client-socket.ts). Its
 * datagrams take the same path as the listener's.
 */
export class UdpListener {
  readonly socket: Socket;
  /** Sends on `socket`: through its handle unless `fastUdpSend: false`. */
  readonly sender: UdpSender;
  local: TransportAddress;
  private readonly clients = new Map<string, Map<number, UdpClient>>();
  private readonly options: SocketOptions & { reusePort?: boolean };
  /** Per-client connected sockets (with reusePort), from `remember` until `forget`. */
  private readonly clientSockets = new Map<UdpClient, Socket>();
  private readonly receive = (data: Buffer, rinfo: RemoteInfo): void => this.onMessage(data, rinfo);
  /** The parts of one datagram (head, body, padding), reused by every `send`. */
  private readonly parts: Uint8Array[] = [EMPTY, EMPTY, EMPTY];

  constructor(
    readonly listen: ListenAddress,
    private readonly reusePort: boolean,
    private readonly handlers: UdpListenerHandlers,
    /** SO_RCVBUF and SO_SNDBUF, bytes (`listenerBufferSize`). */
    bufferSize?: number,
    /** `TurnServerOptions.fastUdpSend`: for the listener's socket and clients' own ones. */
    private readonly fastUdpSend = true,
  ) {
    const family = isIP(listen.host) === 6 ? 6 : 4;
    // `reusePort` exists from Node 22.12 (checked by resolveTurnOptions); older typings lack it.
    this.options = {
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: literalLookup,
      ...(reusePort ? { reusePort: true } : {}),
      ...(bufferSize ? { recvBufferSize: bufferSize, sendBufferSize: bufferSize } : {}),
    };
    this.socket = createSocket(this.options);
    this.sender = new UdpSender(this.socket, { fast: fastUdpSend });
    this.local = { family, address: listen.host, port: listen.port };
    this.socket.on('message', this.receive);
    this.socket.on('error', (error) => this.handlers.error(error));
  }

  /** Binds; resolves with the bound address. */
  start(): Promise<TransportAddress> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.listen.host, port: this.listen.port }, () => {
        this.socket.off('error', reject);
        const a = this.socket.address();
        this.local = { family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port };
        resolve(this.local);
      });
    });
  }

  /** Keeps `client` so its next datagrams find the same ref (it has an allocation now). */
  remember(client: UdpClient): void {
    let ports = this.clients.get(client.wireAddress);
    if (ports === undefined) {
      ports = new Map();
      this.clients.set(client.wireAddress, ports);
    }
    ports.set(client.remote.port, client);
    if (this.reusePort && !this.clientSockets.has(client)) this.openClientSocket(client);
  }

  /** Drops `client` (its allocation ended). */
  forget(client: UdpClient): void {
    const ports = this.clients.get(client.wireAddress);
    if (ports?.get(client.remote.port) !== client) return;
    ports.delete(client.remote.port);
    if (ports.size === 0) this.clients.delete(client.wireAddress);
    client.connected = undefined;
    const socket = this.clientSockets.get(client);
    if (socket === undefined) return;
    this.clientSockets.delete(client);
    closeQuietly(socket);
  }

  /** Sends head, body and padding (0-3 zero bytes) as one datagram without copying the body. */
  send(client: UdpClient, head: Uint8Array, body?: Uint8Array, padding = 0): void {
    const connected = client.connected;
    if (body === undefined) {
      if (connected !== undefined) connected.sendConnected(head);
      else this.sender.send(head, client.remote.port, client.wireAddress);
      return;
    }
    const parts = this.parts;
    parts[0] = head;
    parts[1] = body;
    const count = padding === 0 ? 2 : 3;
    if (count === 3) parts[2] = PADDING[padding] ?? EMPTY;
    if (connected !== undefined) connected.sendListConnected(parts, count);
    else this.sender.sendList(parts, count, client.remote.port, client.wireAddress);
    // Not kept past the call (a queued datagram holds its own copy of the list).
    parts[0] = EMPTY;
    parts[1] = EMPTY;
  }

  close(): Promise<void> {
    for (const socket of this.clientSockets.values()) closeQuietly(socket);
    this.clientSockets.clear();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or already closed
      }
    });
  }

  private openClientSocket(client: UdpClient): void {
    const socket = openClientSocket({
      socket: this.options,
      host: this.local.address,
      port: this.local.port,
      remoteAddress: client.wireAddress,
      remotePort: client.remote.port,
      message: this.receive,
      connected: (s) => {
        if (this.clientSockets.get(client) === s) {
          client.connected = new UdpSender(s, { fast: this.fastUdpSend });
        }
      },
      failed: (s, error) => {
        // Sends keep going through the listener; only a group change can hurt this client.
        if (this.clientSockets.get(client) === s) this.clientSockets.delete(client);
        closeQuietly(s);
        this.handlers.error(error);
      },
    });
    this.clientSockets.set(client, socket);
  }

  private onMessage(data: Buffer, rinfo: RemoteInfo): void {
    const cached = this.clients.get(rinfo.address)?.get(rinfo.port);
    if (cached !== undefined) {
      this.handlers.packet(cached, data, true);
      return;
    }
    const remote = clientAddress(rinfo.address, rinfo.port);
    const client = new UdpClient(this, remote, rinfo.address);
    this.handlers.packet(client, data, false);
  }
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/**
 * The client's address as STUN should report it: a dual-stack (`::`) socket sees IPv4
 * clients as `::ffff:a.b.c.d`, but XOR-MAPPED-ADDRESS must give them their IPv4 address.
 */
export function clientAddress(address: string, port: number): TransportAddress {
  if (address.startsWith('::ffff:') && address.includes('.')) {
    return { family: 4, address: address.slice(7), port };
  }
  return { family: isIP(address) === 6 ? 6 : 4, address, port };
}
