import type tls from 'node:tls';
import type { PasswordAlgorithmName, TransportAddress } from '../stun/index.js';
import type { AutoRefreshOptions } from './client-refresh.js';

export interface TurnClientOptions {
  /** The TURN server. `host` may be a name; it is resolved once. */
  server: { host: string; port: number };
  /** Transport to the server. Default `'udp'`. */
  transport?: 'udp' | 'tcp' | 'tls';
  /** Long-term credentials; without them a 401 fails with `RTCD_TURN_CLIENT_NO_CREDENTIALS`. */
  username?: string;
  password?: string;
  /**
   * The password algorithms the client supports (RFC 8489 §18.5), in any order. When a 401
   * carries PASSWORD-ALGORITHMS, the client takes the first algorithm on the server's list
   * that is in this one and signs with MESSAGE-INTEGRITY-SHA256 under that algorithm's key
   * (§9.2.5); if none is, the request fails with `RTCD_TURN_CLIENT_PASSWORD_ALGORITHMS`.
   * Without PASSWORD-ALGORITHMS (classic servers such as coturn 4.6) the key is MD5 and the
   * attribute MESSAGE-INTEGRITY, which needs `'md5'` here: `['sha256']` refuses such servers
   * (same error) instead of letting a stripped offer bid it down to MD5.
   * Default `['md5', 'sha256']`.
   */
  passwordAlgorithms?: readonly PasswordAlgorithmName[];
  /** Options of `tls.connect` (ca, servername, rejectUnauthorized…) for `transport: 'tls'`. */
  tls?: tls.ConnectionOptions;
  /** Local address to bind or connect from (tests pass 127.0.0.1). Default: any. */
  localAddress?: string;
  /** Local port to bind or connect from. Default 0 (ephemeral). */
  localPort?: number;
  /** Initial UDP retransmission timeout, ms (RFC 8489 §6.2.1). Default 500. */
  rtoMs?: number;
  /** UDP sends per request (Rc). Default 7. */
  rc?: number;
  /** After the last UDP send wait `rm × rtoMs` (Rm). Default 16. */
  rm?: number;
  /** Response timeout on TCP/TLS, ms. Default 39500. */
  timeoutMs?: number;
  /** Give up connecting (DNS, TCP, TLS) after this many ms. Default 10000. */
  connectTimeoutMs?: number;
  /** `close()` waits at most this long for its Refresh (lifetime 0), ms. Default 2000. */
  closeTimeoutMs?: number;
  /** SOFTWARE attribute added to requests. Default none. */
  software?: string;
  /**
   * Refresh the allocation, permissions and channel bindings before they expire (60 s
   * early by default). Failures are reported as 'error' events and that item is not
   * refreshed again. Default false.
   */
  autoRefresh?: boolean | AutoRefreshOptions;
}

export interface AllocateOptions {
  /** Requested LIFETIME, seconds. Default: none (the server's default, 600 s per RFC 8656). */
  lifetime?: number;
  /** REQUESTED-ADDRESS-FAMILY of the relayed address (RFC 8656 §7.1). Default: none (IPv4). */
  family?: 4 | 6;
  /** EVEN-PORT: ask for an even relayed port. Default false. */
  evenPort?: boolean;
  /** EVEN-PORT with R set: also reserve the next port; implies `evenPort`. Default false. */
  reserve?: boolean;
  /** RESERVATION-TOKEN from an earlier `reserve` allocation (8 bytes). */
  reservationToken?: Uint8Array;
  /** DONT-FRAGMENT. Default false. */
  dontFragment?: boolean;
}

export interface Allocation {
  relayed: TransportAddress;
  mapped: TransportAddress;
  /** Granted lifetime, seconds. */
  lifetime: number;
  reservationToken?: Buffer;
}

export interface TurnClientEvents {
  /** Data from `peer`, from a Data indication or ChannelData. `data` is a view of the
   * received datagram or stream chunk; it is not reused by the client. */
  data: [peer: TransportAddress, data: Buffer];
  /** Socket errors after connecting, and listener exceptions. Emitted only if listened to. */
  error: [Error];
  /** The client closed (by `close()` or because the TCP/TLS connection ended). Once. */
  close: [];
}

/** Throws TypeError on a misuse of the options, before any socket is opened. */
export function validateOptions(o: TurnClientOptions): void {
  if (typeof o?.server?.host !== 'string' || o.server.host === '') {
    throw new TypeError('server.host is required');
  }
  const port = o.server.port;
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw new TypeError(`server.port must be 1..65535, got ${port}`);
  }
  if (o.transport !== undefined && !['udp', 'tcp', 'tls'].includes(o.transport)) {
    throw new TypeError(`transport must be udp, tcp or tls, got ${String(o.transport)}`);
  }
  if ((o.username === undefined) !== (o.password === undefined)) {
    throw new TypeError('username and password go together');
  }
  for (const key of [
    'rtoMs',
    'rc',
    'rm',
    'timeoutMs',
    'connectTimeoutMs',
    'closeTimeoutMs',
  ] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
      throw new TypeError(`${key} must be a positive number, got ${v}`);
    }
  }
  if (
    o.localPort !== undefined &&
    (!Number.isInteger(o.localPort) || o.localPort < 0 || o.localPort > 0xffff)
  ) {
    throw new TypeError(`localPort must be 0..65535, got ${o.localPort}`);
  }
  const algorithms = o.passwordAlgorithms;
  if (
    algorithms !== undefined &&
    (!Array.isArray(algorithms) ||
      algorithms.length === 0 ||
      !algorithms.every(isAlgorithmName) ||
      new Set(algorithms).size !== algorithms.length)
  ) {
    throw new TypeError(
      `passwordAlgorithms must list md5 and/or sha256 once each, got ${String(algorithms)}`,
    );
  }
}

function isAlgorithmName(v: unknown): v is PasswordAlgorithmName {
  return v === 'md5' || v === 'sha256';
}
