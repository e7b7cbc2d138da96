/**
 * Transport addresses as STUN carries them (RFC 8489 §14.1-14.2) and the IP text/byte
 * conversions the address codecs need. Written here rather than with `node:net` because
 * decoding must not throw and must produce the same text form Node's sockets report.
 */

/** An IP address and port. `address` is dotted-quad for family 4, RFC 5952 text for 6. */
export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * Writes the 4 or 16 bytes of `address` at `out[offset]`. Returns false, writing nothing
 * useful, if `address` is not a valid literal of `family` (no zone IDs, no hostnames).
 */
export function writeIp(out: Uint8Array, offset: number, family: 4 | 6, address: string): boolean {
  return family === 4 ? writeIPv4(out, offset, address) : writeIPv6(out, offset, address);
}

function writeIPv4(out: Uint8Array, offset: number, s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Strict decimal octets: "01" or "1e2" are not addresses anyone sends.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[offset + i] = n;
  }
  return true;
}

function parseGroups(s: string, groups: number[]): boolean {
  if (s === '') return true;
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!writeIPv4(v4, 0, p)) return false;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
      groups.push(Number.parseInt(p, 16));
    }
  }
  return true;
}

function writeIPv6(out: Uint8Array, offset: number, s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseGroups(halves[0]!, head)) return false;
  if (halves.length === 2) {
    if (!parseGroups(halves[1]!, tail)) return false;
    // A dotted IPv4 part is only allowed at the very end.
    if (halves[0]!.includes('.')) return false;
    if (head.length + tail.length > 7) return false;
  } else if (head.length !== 8) {
    return false;
  }
  const zeros = 8 - head.length - tail.length;
  const all = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = all[i]! >> 8;
    out[offset + 2 * i + 1] = all[i]! & 0xff;
  }
  return true;
}

/** Dotted-quad text of the 4 bytes at `buf[offset]`. */
export function formatIPv4(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/**
 * RFC 5952 text of the 16 bytes at `buf[offset]`: lower-case, longest run (≥ 2) of zero
 * groups compressed, first run on ties; IPv4-mapped addresses in mixed notation
 * (`::ffff:192.0.2.1`), as Node's dgram reports them.
 */
export function formatIPv6(buf: Uint8Array, offset: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((n) => n.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** True if `a` is a well-formed TransportAddress (literal of its family, port 0..65535). */
export function isTransportAddress(a: TransportAddress): boolean {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) return false;
  if (a.family !== 4 && a.family !== 6) return false;
  return writeIp(new Uint8Array(16), 0, a.family, a.address);
}
