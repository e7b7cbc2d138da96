import type { LookupOneOptions } from 'node:dns';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A `lookup` for `dgram.createSocket` that hands an IP literal straight back. Node's default
 * sends every datagram through `dns.lookup`, which for a literal still validates it and
 * defers the send to the next tick: measurable per packet on a relay. Only for sockets that
 * send to addresses our own code took from `rinfo` or decoded from STUN, which are always
 * literals. Node's dgram passes the socket's family as a number (4 for udp4, 6 for udp6).
 */
export function literalLookup(
  hostname: string,
  options: LookupOneOptions | number,
  callback: LookupCallback,
): void {
  const family = typeof options === 'number' ? options : options.family;
  callback(null, hostname, family === 6 || family === 'IPv6' ? 6 : 4);
}
