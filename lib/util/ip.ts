import { isIP } from 'node:net';

/**
 * IP address text ⇄ bytes, without DNS. Peer addresses in TURN arrive as bytes
 * (XOR-PEER-ADDRESS) or as Node's own strings (`rinfo.address`); policy code compares them
 * as bytes so that the many spellings of one address (`::ffff:10.0.0.1`,
 * `0:0:0:0:0:ffff:a00:1`, …) cannot slip past a filter written for one of them.
 */
export interface IpBytes {
  family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  bytes: Uint8Array;
}

/** What `parseIp` returns: `bytes` is a fresh Buffer the caller owns. */
export interface ParsedIp extends IpBytes {
  bytes: Buffer;
}

/**
 * Parses an IPv4 dotted quad or an IPv6 address (with `::` compression and an optional
 * trailing dotted quad, e.g. `::ffff:1.2.3.4`) into network-order bytes.
 *
 * Returns `undefined` for anything else, including host names (no DNS is done), CIDR suffixes,
 * surrounding spaces, the legacy IPv4 forms `127.1` / `0x7f.0.0.1` / `010.0.0.1` that
 * `inet_aton` would accept, and IPv6 zone ids (`fe80::1%eth0`): a zone names an interface of
 * this host, which has no meaning in a peer address or a CIDR, so such text is rejected rather
 * than silently stripped.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const family = isIP(text);
  if (family === 4) return { family: 4, bytes: parseIpv4(text) };
  // Node's isIP accepts zone ids; we do not (see above).
  if (family === 6 && !text.includes('%')) {
    const bytes = parseIpv6(text);
    return bytes === undefined ? undefined : { family: 6, bytes };
  }
  return undefined;
}

/** `text` has passed `isIP(text) === 4`: four decimal octets without leading zeros. */
function parseIpv4(text: string): Buffer {
  const out = Buffer.allocUnsafe(4);
  let octet = 0;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      out[index++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 0x30);
    }
  }
  out[index] = octet;
  return out;
}

/** `text` has passed `isIP(text) === 6`; still checked group by group, defensively. */
function parseIpv6(text: string): Buffer | undefined {
  const gap = text.indexOf('::');
  const head = toWords(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : toWords(text.slice(gap + 2), true);
  if (head === undefined || tail === undefined) return undefined;
  // Without `::` all eight groups are spelled out; with it, `::` stands for at least one.
  if (gap === -1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < head.length; i++) out.writeUInt16BE(head[i], i * 2);
  const tailStart = 16 - tail.length * 2;
  for (let i = 0; i < tail.length; i++) out.writeUInt16BE(tail[i], tailStart + i * 2);
  return out;
}

/** The 16-bit words of colon-separated hex groups, a final dotted quad counting as two. */
function toWords(part: string, mayEndInIpv4: boolean): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (HEX_GROUP.test(group)) {
      words.push(Number.parseInt(group, 16));
    } else if (mayEndInIpv4 && i === groups.length - 1 && isIP(group) === 4) {
      const v4 = parseIpv4(group);
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      return undefined;
    }
  }
  return words;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Formats address bytes as text, exactly as Node formats `rinfo.address` and
 * `socket.remoteAddress` (libuv's `inet_ntop`), so that strings from either source compare
 * equal. For IPv6 that is RFC 5952 §4 (lower-case hex, no leading zeros, the longest run of two
 * or more zero groups — the first on a tie — replaced by `::`), plus the mixed notation
 * `::ffff:1.2.3.4` for IPv4-mapped addresses (RFC 5952 §5) and `::1.2.3.4` for the deprecated
 * IPv4-compatible ones (not `::`, `::1` or `::a.b`-shaped addresses whose sixth group is zero).
 *
 * @throws TypeError if `bytes` is not 4 (family 4) or 16 (family 6) bytes long.
 */
export function ipToString(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) {
    if (bytes.length !== 4)
      throw new TypeError(`IPv4 address must be 4 bytes, got ${bytes.length}`);
    return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  }
  if (family !== 6 || bytes.length !== 16) {
    throw new TypeError(`IPv6 address must be 16 bytes, got ${bytes.length} (family ${family})`);
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // Longest run of zero words, first one on a tie; runs of one are not compressed.
  let bestBase = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestBase = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestBase = -1;
  const embedsIpv4 =
    bestBase === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff));
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLength) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    if (i === 6 && embedsIpv4) {
      return `${text}${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    }
    text += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLength === 8) text += ':';
  return text;
}

/** Canonical text of `text` (see `ipToString`), or `undefined` if it is not an IP address. */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip && ipToString(ip.family, ip.bytes);
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2),
 * which is what a dual-stack socket reports for an IPv4 peer; any other address is returned
 * as it is.
 */
export function unmapIpv4(ip: IpBytes): IpBytes {
  if (ip.family !== 6 || !isIpv4Mapped(ip.bytes)) return ip;
  return { family: 4, bytes: ip.bytes.subarray(12, 16) };
}

/** True for `::ffff:0:0/96`. */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
