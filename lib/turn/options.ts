import type { PasswordAlgorithm } from './credentials.js';

/**
 * Options of `TurnServer`. Every field is optional; `resolveTurnOptions` fills the documented
 * default and validates once, at construction, throwing `TurnOptionsError` with the field's name.
 * The CLI (`lib/cli`) maps flags, `RTCD_*` environment variables and the config file onto this
 * object; nothing in `lib/turn` reads flags or the environment itself.
 */
export interface ListenAddress {
  host: string;
  port: number;
}

export interface TurnServerOptions {
  /** UDP and TCP listeners (each entry opens both). Default `[{ host: '0.0.0.0', port: 3478 }]`. */
  listen?: ListenAddress[];
  /** TLS-over-TCP listeners. Default `[]`. Needs `cert` and `key`. */
  tlsListen?: ListenAddress[];
  /** Path of the PEM certificate chain for `tlsListen`; re-read by `reloadTls()` (SIGHUP). */
  cert?: string;
  /** Path of the PEM private key for `tlsListen`. */
  key?: string;
  /** REALM of long-term credentials. Default `'rtcd'`. */
  realm?: string;
  /** Static long-term users, name → password. Default `{}`. */
  users?: Record<string, string>;
  /** A file of `name:password` lines (`#` comments) merged into `users`. Default none. */
  usersFile?: string;
  /**
   * TURN REST API shared secrets (username `expiry:userid`, password
   * base64(HMAC-SHA1(secret, username))). Several may be given for rotation. Default `[]`.
   */
  authSecrets?: string[];
  /**
   * Addresses relay sockets bind to, at most one IPv4 and one IPv6. Default: the host of the
   * first listener of each family when it is not a wildcard, else the first non-internal
   * interface address of that family, else loopback.
   */
  relayIps?: string[];
  /**
   * Public addresses to advertise in XOR-RELAYED-ADDRESS when the server is behind 1:1 NAT,
   * each `public` or `public/private` (the private one being a `relayIps` entry). Default `[]`.
   */
  externalIps?: string[];
  /** Lowest relay port. Default 49152. */
  minPort?: number;
  /** Highest relay port. Default 65535. */
  maxPort?: number;
  /** CIDRs of peers allowed even though the default deny list covers them. Default `[]`. */
  allowPeers?: string[];
  /** Extra CIDRs of peers refused with 403. Default `[]`. */
  denyPeers?: string[];
  /** Allow relaying to 127.0.0.0/8 and ::1 (tests, single-host setups). Default `false`. */
  allowLoopbackPeers?: boolean;
  /**
   * Accept ChannelBind numbers up to 0x7FFF as RFC 5766 did, not only RFC 8656's
   * 0x4000-0x4FFF: for old clients such as coturn's `turnutils_uclient`, which picks random
   * numbers in the wider range. Default `false` (RFC 8656: anything above 0x4FFF is a 400).
   */
  legacyChannelNumbers?: boolean;
  /** Allocations one username may hold at once; 486 beyond. Default 10. */
  maxAllocationsPerUser?: number;
  /** Allocations the server holds at once; 508 beyond. Default 5000. */
  maxAllocations?: number;
  /**
   * Permissions (peer IP addresses, RFC 8656 §9) one allocation may hold at once; a
   * CreatePermission or ChannelBind that would add one more gets 508 Insufficient Capacity
   * (§10.2, §12.2: "unable to fulfill the request due to some capacity limit"). A browser's
   * allocation serves one PeerConnection and needs one per remote candidate address — rarely
   * 20; 256 leaves room for clients that reach many peers through one allocation, while
   * capping its permission state near 110 KB (~440 B each), ~1 MB per user at the default
   * `maxAllocationsPerUser`. Default 256.
   */
  maxPermissionsPerAllocation?: number;
  /** Bandwidth of one allocation, bits per second, both directions together. Default 20e6. */
  maxBps?: number;
  /** Bandwidth of all allocations together, bits per second. Default 1e9. */
  bpsCapacity?: number;
  /** Allocation lifetime when the client asks none, seconds. Default 600. */
  defaultLifetime?: number;
  /** Longest allocation lifetime granted, seconds. Default 3600. */
  maxLifetime?: number;
  /** Permission lifetime, seconds (RFC 8656 §9: 300, not configurable upward). Default 300. */
  permissionLifetime?: number;
  /** Channel binding lifetime, seconds (RFC 8656 §12: 600). Default 600. */
  channelLifetime?: number;
  /** How long a NONCE stays valid before 438 Stale Nonce, seconds. Default 600. */
  nonceLifetime?: number;
  /**
   * Password algorithms of long-term keys (RFC 8489 §9.2.4, §18.5), in order of preference.
   * Default `['sha256', 'md5']`: challenges carry PASSWORD-ALGORITHMS listing both and a nonce
   * cookie announcing them, so RFC 8489 clients derive SHA-256 keys and a bid-down to MD5 is
   * caught; clients that ignore both (browsers, coturn's tools: RFC 5389 clients) send no
   * PASSWORD-ALGORITHM and are served with MD5 as before (§9.2.4: "processed as though
   * PASSWORD-ALGORITHM were MD5"). `['md5']` offers nothing to negotiate and sends neither,
   * as RFC 5389 servers do; `['sha256']` refuses MD5 clients with 400.
   */
  passwordAlgorithms?: PasswordAlgorithm[];
  /**
   * Secret keying the NONCE MACs (any string of 16+ characters; it is hashed). Processes that
   * answer the same clients (`rtcd turn --workers N`, or several servers behind one UDP load
   * balancer) must share it, or a nonce issued by one is stale to the other (438, one extra
   * round trip). Default: random per process (the CLI's workers share one it generates).
   */
  nonceSecret?: string;
  /** SOFTWARE attribute in responses; `''` to send none. Default `'rtcd'`. */
  software?: string;
  /**
   * SO_RCVBUF/SO_SNDBUF of each UDP listening socket, bytes. Every client's packets queue
   * here, and Linux's 208 KiB default overflows in bursts at tens of thousands of packets per
   * second (coturn asks 4 MiB too). The kernel caps it at net.core.rmem_max / wmem_max.
   * Default 4194304.
   */
  listenerBufferSize?: number;
  /**
   * SO_RCVBUF/SO_SNDBUF of each relay socket (one per allocation), bytes: one peer's traffic,
   * so smaller than a listener's. Default 1048576.
   */
  relayBufferSize?: number;
  /**
   * Send relayed UDP datagrams (to clients on the listeners, to peers from relay sockets)
   * through the socket's libuv handle (lib/util/udp-send.ts) instead of `socket.send`: less
   * CPU and no garbage per datagram. Ignored where this Node does not expose the handle as
   * expected. TCP/TLS clients are unaffected. Default `true`.
   */
  fastUdpSend?: boolean;
  /** TCP/TLS client connections held at once. Default 10000. */
  maxConnections?: number;
  /**
   * A TCP/TLS connection with no traffic for this many ms and no live allocation is closed;
   * one whose allocation ends is closed at the end of its next idle period. Default 60000.
   */
  tcpIdleTimeoutMs?: number;
  /** `/metrics` and `/healthz` HTTP listener. Default none. */
  metricsListen?: ListenAddress;
  /** On `close()` (SIGTERM), wait up to this many ms for allocations to end. Default 30000. */
  drainTimeoutMs?: number;
  /**
   * Bind the UDP listeners with `reusePort` so several processes (`rtcd turn --workers N`)
   * share one port. Needs Node >= 22.12; on older Node `TurnServer` throws a clear error.
   * Default `false`.
   */
  reusePort?: boolean;
}
