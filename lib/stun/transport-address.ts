import { ipToString, parseIp } from '../util/ip.js';

/**
 * Transport addresses as STUN carries them (RFC 8489 §14.1-14.2). IP text ⇄ bytes is
 * lib/util/ip, which prints addresses exactly as Node's sockets report them, so a decoded
 * XOR-PEER-ADDRESS compares equal to a `rinfo.address`.
 */

/** An IP address and port. `address` is dotted-quad for family 4, RFC 5952 text for 6. */
export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * Writes the 4 or 16 bytes of `address` at `out[offset]`. Returns false, writing nothing,
 * if `address` is not a literal of `family` (no zone IDs, no host names).
 */
export function writeIp(out: Uint8Array, offset: number, family: 4 | 6, address: string): boolean {
  const ip = parseIp(address);
  if (ip === undefined || ip.family !== family) return false;
  out.set(ip.bytes, offset);
  return true;
}

/** Text of `bytes` (4 bytes: IPv4, 16 bytes: IPv6), as Node prints it. */
export function formatIp(bytes: Uint8Array): string {
  return ipToString(bytes.length === 4 ? 4 : 6, bytes);
}

/** True if `a` is a well-formed TransportAddress (literal of its family, port 0..65535). */
export function isTransportAddress(a: TransportAddress): boolean {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) return false;
  if (a.family !== 4 && a.family !== 6) return false;
  return parseIp(a.address)?.family === a.family;
}
