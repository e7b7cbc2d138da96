import { type Cidr, CidrSet } from '../util/cidr.js';
import { type IpBytes, parseIp } from '../util/ip.js';

/**
 * Peers a TURN server refuses to relay to unless told otherwise (RFC 8656 §21.2.3 warns that
 * a relay can reach what its clients cannot: the server's own loopback services, the cloud
 * metadata endpoint, the operator's private network). Every range here is either
 * non-unicast, not globally routable, or reserved (IANA special-purpose address registries,
 * RFC 6890).
 *
 * IPv6 forms that carry an IPv4 address are not listed: `PeerFilter` judges them by the
 * IPv4 address inside (see `embeddedIpv4`). Inside the IPv6 catch-alls at the end, the named
 * ranges come first so that `PeerFilter.decide` reports the most telling rule.
 */
export const DEFAULT_DENIED_PEERS: readonly string[] = Object.freeze([
  // IPv4
  '0.0.0.0/8', // "this network"; Linux delivers 0.0.0.0 to the local host (RFC 1122)
  '10.0.0.0/8', // private (RFC 1918)
  '100.64.0.0/10', // shared address space, carrier-grade NAT (RFC 6598)
  '127.0.0.0/8', // loopback (RFC 1122)
  '169.254.0.0/16', // link-local (RFC 3927), incl. the 169.254.169.254 metadata service
  '172.16.0.0/12', // private (RFC 1918)
  '192.0.0.0/24', // IETF protocol assignments (RFC 6890), incl. DS-Lite and NAT64 discovery
  '192.0.2.0/24', // TEST-NET-1 documentation (RFC 5737)
  '192.88.99.0/24', // 6to4 relay anycast, deprecated (RFC 7526)
  '192.168.0.0/16', // private (RFC 1918)
  '198.18.0.0/15', // benchmarking (RFC 2544)
  '198.51.100.0/24', // TEST-NET-2 documentation (RFC 5737)
  '203.0.113.0/24', // TEST-NET-3 documentation (RFC 5737)
  '224.0.0.0/4', // multicast (RFC 5771)
  '240.0.0.0/4', // reserved (RFC 1112), incl. limited broadcast 255.255.255.255 (RFC 919)
  // IPv6
  '::/128', // unspecified (RFC 4291)
  '::1/128', // loopback (RFC 4291)
  '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): where the IPv4 sits depends on the site
  '100::/64', // discard-only (RFC 6666)
  '2001::/23', // IETF protocol assignments (RFC 2928), incl. Teredo 2001::/32 (RFC 4380)
  '2001:db8::/32', // documentation (RFC 3849)
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // segment routing SIDs (RFC 9602)
  'fc00::/7', // unique local (RFC 4193)
  'fe80::/10', // link-local (RFC 4291)
  'fec0::/10', // site-local, deprecated (RFC 3879)
  'ff00::/8', // multicast (RFC 4291)
  // Everything outside 2000::/3, the only block IANA allocates global unicast from (RFC 4291
  // §2.4): reserved space such as ::/8 (incl. IPv4-translated ::ffff:0:a.b.c.d) and 4000::/2.
  '::/3',
  '4000::/2',
  '8000::/1',
]);

/** `PeerFilter` options; every list holds CIDRs or bare addresses (`Cidr.parse`). */
export interface PeerFilterOptions {
  /** Peers relayed to even when `deny` or the defaults cover them. Default `[]`. */
  allow?: Iterable<string>;
  /** Peers refused in addition to `DEFAULT_DENIED_PEERS`. Default `[]`. */
  deny?: Iterable<string>;
  /** Allow 127.0.0.0/8 and ::1 (and the IPv6 forms carrying 127/8). Default `false`. */
  allowLoopback?: boolean;
}

/** Why `PeerFilter.decide` allowed or refused a peer; stable codes for logs and metrics. */
export type PeerDecisionReason =
  | 'public' // in no list: allowed
  | 'allow-list' // in `allow`
  | 'loopback' // loopback, and `allowLoopback` is set
  | 'deny-list' // in `deny`
  | 'default-deny' // in `DEFAULT_DENIED_PEERS`
  | 'unparsable'; // not an IP address

export interface PeerDecision {
  readonly allowed: boolean;
  readonly reason: PeerDecisionReason;
  /** The rule that matched, for `allow-list`, `deny-list` and `default-deny`. */
  readonly rule?: Cidr;
  /** Set when an IPv6 address was judged by the IPv4 address it carries. */
  readonly embeddedIpv4?: boolean;
}

const LOOPBACK = new CidrSet(['127.0.0.0/8', '::1/128']);
const DEFAULTS = new CidrSet(DEFAULT_DENIED_PEERS);

/**
 * Decides whether a TURN client may relay to a peer address (CreatePermission, ChannelBind,
 * and — through those — every relayed packet). Pure and synchronous; one instance per server.
 *
 * Order of the decision:
 * 1. an address that does not parse is refused;
 * 2. `allow` wins over everything below;
 * 3. an IPv6 address carrying an IPv4 one — IPv4-mapped `::ffff:0:0/96`, IPv4-compatible
 *    `::/96` (not `::`, `::1`), NAT64 `64:ff9b::/96` (RFC 6052) and 6to4 `2002::/16`
 *    (RFC 3056) — is refused if the IPv6 address is in `deny`, and otherwise gets the
 *    decision of the IPv4 address it carries. So `::ffff:127.0.0.1`, `::127.0.0.1`,
 *    `64:ff9b::7f00:1` and `2002:7f00:1::` are loopback, and `64:ff9b::808:808` (8.8.8.8 via a
 *    NAT64 gateway) is allowed like 8.8.8.8 itself. The well-known NAT64 prefix is judged
 *    rather than refused wholesale because a TURN server on an IPv6-only NAT64 network reaches
 *    IPv4 peers only that way; `64:ff9b:1::/48` (local use, layout unknown) is refused;
 * 4. loopback (127.0.0.0/8, ::1) is allowed when `allowLoopback` is set;
 * 5. `deny`, then `DEFAULT_DENIED_PEERS`, refuse;
 * 6. anything else is allowed.
 */
export class PeerFilter {
  private readonly allow: CidrSet;
  private readonly deny: CidrSet;
  private readonly allowLoopback: boolean;

  /** @throws TypeError if an `allow` or `deny` entry is not a CIDR or an address. */
  constructor(options: PeerFilterOptions = {}) {
    this.allow = new CidrSet(options.allow ?? []);
    this.deny = new CidrSet(options.deny ?? []);
    this.allowLoopback = options.allowLoopback ?? false;
  }

  /** True if relaying to `address` is allowed; unparsable text is refused. */
  isAllowed(address: string | IpBytes): boolean {
    return this.decide(address).allowed;
  }

  /** The decision and its reason (see the class comment for the order of the rules). */
  decide(address: string | IpBytes): PeerDecision {
    const ip = typeof address === 'string' ? parseIp(address) : address;
    if (ip === undefined) return UNPARSABLE;
    return this.decideIp(ip);
  }

  private decideIp(ip: IpBytes): PeerDecision {
    const allowRule = this.allow.find(ip);
    if (allowRule) return { allowed: true, reason: 'allow-list', rule: allowRule };
    const v4 = embeddedIpv4(ip);
    if (v4 !== undefined) {
      const denyRule = this.deny.find(ip);
      if (denyRule) return { allowed: false, reason: 'deny-list', rule: denyRule };
      return { ...this.decideIp({ family: 4, bytes: v4 }), embeddedIpv4: true };
    }
    if (this.allowLoopback && LOOPBACK.contains(ip)) return LOOPBACK_ALLOWED;
    const denyRule = this.deny.find(ip);
    if (denyRule) return { allowed: false, reason: 'deny-list', rule: denyRule };
    const defaultRule = DEFAULTS.find(ip);
    if (defaultRule) return { allowed: false, reason: 'default-deny', rule: defaultRule };
    return PUBLIC;
  }
}

const UNPARSABLE: PeerDecision = Object.freeze({ allowed: false, reason: 'unparsable' });
const LOOPBACK_ALLOWED: PeerDecision = Object.freeze({ allowed: true, reason: 'loopback' });
const PUBLIC: PeerDecision = Object.freeze({ allowed: true, reason: 'public' });

/**
 * The IPv4 address (a 4-byte view into `ip.bytes`) that an IPv6 address carries and that the
 * network stack or a translator may deliver it to: IPv4-mapped `::ffff:0:0/96` (a dual-stack
 * socket sends to the IPv4 address), IPv4-compatible `::/96` except `::` and `::1` (automatic
 * tunnels), NAT64 `64:ff9b::/96` and 6to4 `2002::/16` (bits 16–47). Undefined otherwise.
 */
export function embeddedIpv4(ip: IpBytes): Uint8Array | undefined {
  if (ip.family !== 6 || ip.bytes.length !== 16) return undefined;
  const b = ip.bytes;
  if (b[0] === 0x20 && b[1] === 0x02) return b.subarray(2, 6);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    // 64:ff9b::/96: the 64 bits between the prefix and the IPv4 address are zero.
    return zeroFrom(b, 4, 12) ? b.subarray(12) : undefined;
  }
  if (!zeroFrom(b, 0, 10)) return undefined;
  if (b[10] === 0xff && b[11] === 0xff) return b.subarray(12);
  if (b[10] !== 0 || b[11] !== 0) return undefined;
  // ::/96, but :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible.
  if (zeroFrom(b, 12, 15) && b[15] <= 1) return undefined;
  return b.subarray(12);
}

function zeroFrom(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}
