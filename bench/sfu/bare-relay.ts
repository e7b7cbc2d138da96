/**
 * The SFU bench's bare relay: a UDP socket in the SFU's process that copies each datagram a
 * publisher sends it to that publisher's subscribers, with no SRTP, no parsing and no routing
 * state beyond one map. The `relay` phase (bench/sfu/child-core.ts) runs the direct path's
 * packets through it, so the latency it adds over the direct path is what any process in the
 * SFU's place adds on this machine, at this load: the kernel's two extra hops and a wakeup,
 * and the host's scheduling of one more process. The SFU's added latency is read against it.
 *
 * Routes arrive in-band: a datagram whose first byte is 0 (RTP's is 0x80–0xbf) registers its
 * sender's port with the subscriber ports that follow (16-bit each). A publisher sends it
 * before its media, on the same socket, so loopback delivers it first.
 */
import { createSocket, type Socket } from 'node:dgram';
import { literalLookup } from '../../lib/util/literal-lookup.js';
import { UdpSender } from '../../lib/util/udp-send.js';

/** The first byte of a route registration. */
export const ROUTE_MARK = 0;

/** The registration datagram for `ports`: mark, then each port as 16 bits. */
export function routeDatagram(ports: readonly number[]): Buffer {
  const d = Buffer.alloc(1 + 2 * ports.length);
  d[0] = ROUTE_MARK;
  for (const [i, port] of ports.entries()) d.writeUInt16BE(port, 1 + 2 * i);
  return d;
}

/** The ports a registration datagram carries (an odd trailing byte is ignored). */
export function routePorts(d: Buffer): number[] {
  const ports: number[] = [];
  for (let at = 1; at + 2 <= d.length; at += 2) ports.push(d.readUInt16BE(at));
  return ports;
}

/** Busy-waits `us` microseconds. */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // work stand-in
  }
}

export class BareRelay {
  /** Datagrams copied out, and datagrams dropped (no route registered for the sender). */
  relayed = 0;
  unrouted = 0;
  private readonly routes = new Map<number, number[]>();
  private readonly sender: UdpSender;

  private constructor(
    private readonly socket: Socket,
    private readonly address: string,
    private readonly workUs: number,
  ) {
    this.sender = new UdpSender(socket);
    socket.on('message', (d, from) => this.onDatagram(d, from.port));
  }

  /**
   * A relay bound to `address` on an ephemeral port, sending as the SFU does (the handle).
   * `workUs`: µs it spins per datagram copied out, standing in for an SFU's work per forwarded
   * packet (default 0: none).
   */
  static async open(address = '127.0.0.1', workUs = 0): Promise<BareRelay> {
    // As the SFU's media socket: literal lookup, a large receive buffer (udp-mux.ts).
    const socket = createSocket({ type: 'udp4', lookup: literalLookup, recvBufferSize: 4 << 20 });
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    return new BareRelay(socket, address, workUs);
  }

  get port(): number {
    return this.socket.address().port;
  }

  private onDatagram(d: Buffer, fromPort: number): void {
    if (d[0] === ROUTE_MARK) {
      this.routes.set(fromPort, routePorts(d));
      return;
    }
    const to = this.routes.get(fromPort);
    if (to === undefined) {
      this.unrouted++;
      return;
    }
    for (const port of to) {
      if (this.workUs > 0) spin(this.workUs);
      this.sender.send(d, port, this.address);
    }
    this.relayed += to.length;
  }

  close(): void {
    this.socket.close();
  }
}
