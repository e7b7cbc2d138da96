import { type IpBytes, ipToString, parseIp } from './ip.js';

/**
 * An address block `network/prefixLength`, matched on bytes. An IPv4 block matches only IPv4
 * addresses and an IPv6 block only IPv6 ones: `10.0.0.0/8` does not contain `::ffff:10.0.0.1`.
 * Looking through IPv4-mapped and other embedding forms is a policy decision, made by
 * `PeerFilter` (lib/turn/peer-filter.ts), not here.
 */
export class Cidr {
  readonly family: 4 | 6;
  /** The network address, host bits cleared (4 or 16 bytes). */
  readonly network: Buffer;
  readonly prefixLength: number;

  private constructor(family: 4 | 6, network: Buffer, prefixLength: number) {
    this.family = family;
    this.network = network;
    this.prefixLength = prefixLength;
  }

  /**
   * Parses `address/prefix` or a bare address (`/32` for IPv4, `/128` for IPv6). Host bits
   * below the prefix are cleared, as routers and iptables do: `10.1.2.3/8` is `10.0.0.0/8`.
   *
   * @throws TypeError on anything else (`10.0.0.0/33`, `10.0.0.0/`, `/8`, a host name, a zone
   *   id, `10.0.0.0/08`), naming the offending text.
   */
  static parse(text: string): Cidr {
    if (typeof text !== 'string') {
      throw new TypeError(`CIDR must be a string, got ${typeof text}`);
    }
    const slash = text.indexOf('/');
    const addressText = slash === -1 ? text : text.slice(0, slash);
    const ip = parseIp(addressText);
    if (ip === undefined) {
      throw new TypeError(`invalid CIDR '${text}': '${addressText}' is not an IP address`);
    }
    const maxPrefix = ip.family === 4 ? 32 : 128;
    let prefixLength = maxPrefix;
    if (slash !== -1) {
      const prefixText = text.slice(slash + 1);
      prefixLength = PREFIX.test(prefixText) ? Number(prefixText) : Number.NaN;
      if (!(prefixLength <= maxPrefix)) {
        throw new TypeError(
          `invalid CIDR '${text}': prefix length must be an integer from 0 to ${maxPrefix}`,
        );
      }
    }
    return new Cidr(ip.family, clearHostBits(ip.bytes, prefixLength), prefixLength);
  }

  /** True if `ip` (text or bytes) lies in this block; false for unparsable text. */
  contains(ip: string | IpBytes): boolean {
    const address = typeof ip === 'string' ? parseIp(ip) : ip;
    if (address === undefined || address.family !== this.family) return false;
    const bytes = address.bytes;
    if (bytes.length !== this.network.length) return false;
    const whole = this.prefixLength >>> 3;
    for (let i = 0; i < whole; i++) if (bytes[i] !== this.network[i]) return false;
    const rest = this.prefixLength & 7;
    if (rest === 0) return true;
    const mask = (0xff << (8 - rest)) & 0xff;
    return (bytes[whole] & mask) === this.network[whole];
  }

  /** `network/prefixLength`, the network in canonical form (`ipToString`). */
  toString(): string {
    return `${ipToString(this.family, this.network)}/${this.prefixLength}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Decimal without sign or leading zeros, at most three digits. */
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

function clearHostBits(bytes: Buffer, prefixLength: number): Buffer {
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) {
    bytes[bit >>> 3] &= ~(0x80 >>> (bit & 7));
  }
  return bytes;
}

/**
 * A list of CIDRs, matched in order. Linear: policy lists are tens of entries and are checked
 * per permission or channel request, not per relayed packet.
 */
export class CidrSet {
  readonly cidrs: readonly Cidr[];

  /** @throws TypeError on the first entry `Cidr.parse` rejects. */
  constructor(cidrs: Iterable<string | Cidr> = []) {
    const list: Cidr[] = [];
    for (const c of cidrs) list.push(typeof c === 'string' ? Cidr.parse(c) : c);
    this.cidrs = list;
  }

  get size(): number {
    return this.cidrs.length;
  }

  /** True if any block contains `ip`; false for unparsable text. */
  contains(ip: string | IpBytes): boolean {
    const address = typeof ip === 'string' ? parseIp(ip) : ip;
    if (address === undefined) return false;
    for (const cidr of this.cidrs) if (cidr.contains(address)) return true;
    return false;
  }

  /** The first block that contains `ip`, e.g. to log which rule matched. */
  find(ip: string | IpBytes): Cidr | undefined {
    const address = typeof ip === 'string' ? parseIp(ip) : ip;
    if (address === undefined) return undefined;
    return this.cidrs.find((cidr) => cidr.contains(address));
  }

  toString(): string {
    return this.cidrs.join(',');
  }
}
