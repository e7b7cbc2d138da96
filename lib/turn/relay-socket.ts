import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { TransportAddress } from '../stun/transport-address.js';
import { literalLookup } from '../util/literal-lookup.js';
import { UdpSender } from '../util/udp-send.js';

/**
 * A relay socket: one UDP socket per allocation (RFC 8656 §2.2: the relayed transport
 * address), bound to a relay IP and a port of `[minPort, maxPort]`. The adapter's `RelayRef`.
 */
export class RelaySocket {
  /** Sends to peers: through the socket's handle unless `fastUdpSend: false`. */
  readonly sender: UdpSender;
  constructor(
    readonly socket: Socket,
    /** The bound address. */
    readonly bound: TransportAddress,
    /** What XOR-RELAYED-ADDRESS advertises (the external address behind 1:1 NAT). */
    readonly relayed: TransportAddress,
    /** `TurnServerOptions.fastUdpSend`. Default true. */
    fastUdpSend = true,
  ) {
    this.sender = new UdpSender(socket, { fast: fastUdpSend });
  }

  /**
   * Sends `data[offset, offset + length)` to a peer (an IP literal of the socket's family, as
   * XOR-PEER-ADDRESS decodes). A send the system refuses is dropped (`sender.failed`).
   */
  send(data: Uint8Array, offset: number, length: number, port: number, address: string): void {
    const whole = offset === 0 && length === data.length;
    this.sender.send(whole ? data : data.subarray(offset, offset + length), port, address);
  }

  /** Stops receiving; idempotent. */
  close(): void {
    this.socket.removeAllListeners('message');
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }
}

export interface RelayBindRequest {
  family: 4 | 6;
  ip: string;
  /** Address to advertise instead of `ip`, if any. */
  externalIp: string | undefined;
  minPort: number;
  maxPort: number;
  evenPort: boolean;
  /** Also bind port + 1 (EVEN-PORT with R). */
  reserveNext: boolean;
  /** SO_RCVBUF and SO_SNDBUF, bytes (`relayBufferSize`); the system default when absent. */
  bufferSize?: number;
  /** Send through the socket's handle (`TurnServerOptions.fastUdpSend`). Default true. */
  fastUdpSend?: boolean;
}

export type RelayBindResult =
  | { ok: true; relay: RelaySocket; reserved?: RelaySocket }
  | { ok: false; reason: 'ports-exhausted' | 'family-unavailable' | 'bind-failed' };

/** Ports tried per allocation before answering 508: enough for a busy range, bounded. */
const MAX_ATTEMPTS = 64;

/**
 * Binds a relay socket on a port of the range, starting at a random one (RFC 8656 §7.2
 * asks for unpredictable relay ports) and walking on when a port is taken (EADDRINUSE).
 * EVEN-PORT walks even ports only; with `reserveNext` the odd port above is bound too.
 */
export async function bindRelay(request: RelayBindRequest): Promise<RelayBindResult> {
  const { minPort, maxPort } = request;
  const step = request.evenPort ? 2 : 1;
  const first = request.evenPort ? minPort + (minPort & 1) : minPort;
  const last = request.evenPort && request.reserveNext ? maxPort - 1 : maxPort;
  if (first > last) return { ok: false, reason: 'ports-exhausted' };
  const slots = Math.floor((last - first) / step) + 1;
  const start = randomInt(slots);
  for (let i = 0; i < Math.min(slots, MAX_ATTEMPTS); i++) {
    const port = first + ((start + i) % slots) * step;
    const result = await bindPort(request, port);
    if (result === 'in-use') continue;
    if (typeof result === 'string') return { ok: false, reason: result };
    if (!request.reserveNext) return { ok: true, relay: result };
    const next = await bindPort(request, port + 1);
    if (next instanceof RelaySocket) return { ok: true, relay: result, reserved: next };
    result.close();
    if (next !== 'in-use') return { ok: false, reason: next };
  }
  return { ok: false, reason: 'ports-exhausted' };
}

type BindOutcome = RelaySocket | 'in-use' | 'family-unavailable' | 'bind-failed';

function bindPort(request: RelayBindRequest, port: number): Promise<BindOutcome> {
  // A relay of each family only (no IPv4-mapped peers on the IPv6 one).
  const buffers = request.bufferSize
    ? { recvBufferSize: request.bufferSize, sendBufferSize: request.bufferSize }
    : {};
  // Peers are always IP literals (decoded XOR-PEER-ADDRESS): no DNS step per datagram.
  const common = { lookup: literalLookup, ...buffers };
  const socket = createSocket(
    request.family === 4
      ? { type: 'udp4', ...common }
      : { type: 'udp6', ipv6Only: true, ...common },
  );
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => {
      socket.close();
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve('in-use');
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') {
        resolve('family-unavailable');
      } else resolve('bind-failed');
    };
    socket.once('error', onError);
    socket.bind({ address: request.ip, port, exclusive: true }, () => {
      socket.off('error', onError);
      const bound: TransportAddress = { family: request.family, address: request.ip, port };
      const relayed = request.externalIp ? { ...bound, address: request.externalIp } : bound;
      resolve(new RelaySocket(socket, bound, relayed, request.fastUdpSend !== false));
    });
  });
}
