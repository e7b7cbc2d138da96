import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '../util/logger.js';

/**
 * Options of `IceLiteMux.bind` (the server side of ICE: RFC 8445 §2.5 lite agents on one
 * shared UDP port). Every limit is finite by default; `resolveLiteOptions` validates once and
 * throws `IceLiteOptionsError` (code `ICE_LITE_BAD_OPTION`) naming the option.
 */
export interface IceLiteOptions {
  /** UDP port to bind. Default `0` (an ephemeral port; read it back from `mux.address`). */
  port?: number;
  /** Local address to bind. Default `'0.0.0.0'`; an IPv6 literal binds a udp6 socket. */
  address?: string;
  /**
   * Addresses put in the host candidates instead of the bound one (the public address of a
   * server behind 1:1 NAT, or the machine address when bound to a wildcard). Default: the
   * bound address, unless it is a wildcard, in which case there is no candidate until this
   * is set (a wildcard is not reachable).
   */
  announcedAddress?: string | readonly string[];
  /**
   * No valid check from the selected address for this long ends consent (RFC 7675 §5.1: 30 s):
   * the session becomes `disconnected` and stops sending. Default `30_000` ms.
   */
  consentTimeoutMs?: number;
  /** How often consent expiry is swept (one timer for all sessions). Default `1_000` ms. */
  sweepIntervalMs?: number;
  /** Sessions one mux holds at most; `createSession` throws beyond. Default `100_000`. */
  maxSessions?: number;
  /** Kernel receive buffer of the UDP socket in bytes (SO_RCVBUF). Default `4 MiB`. */
  receiveBufferBytes?: number;
  /**
   * Send datagrams through the socket's libuv handle (lib/util/udp-send.ts) instead of
   * `socket.send`: less CPU and no garbage per datagram. Ignored where this Node does not
   * expose the handle as expected. Default `true`.
   */
  fastUdpSend?: boolean;
  /**
   * ICE-TCP (RFC 6544): also listen on this TCP port for a passive candidate (`0`: any free
   * port). Default: no TCP candidate.
   */
  tcpPort?: number;
  /** Largest RFC 4571 frame accepted on ICE-TCP, 20..65535. Default `65_535`. */
  tcpMaxFrameBytes?: number;
  /**
   * An ICE-TCP connection not bound to a session by a valid check within this time is
   * closed. Default `10_000` ms.
   */
  tcpHandshakeTimeoutMs?: number;
  /**
   * ICE-TCP connections still waiting for their first valid check, at most; more are closed
   * on accept (each costs a socket for up to `tcpHandshakeTimeoutMs`). Default `1_000`.
   */
  tcpMaxPendingConnections?: number;
  /** Where debug logs of drops and info logs of lifecycle go. Default: silent. */
  logger?: Logger;
}

export interface ResolvedLiteOptions {
  port: number;
  address: string;
  announcedAddresses: readonly string[];
  consentTimeoutMs: number;
  sweepIntervalMs: number;
  maxSessions: number;
  receiveBufferBytes: number;
  fastUdpSend: boolean;
  tcpPort: number | undefined;
  tcpMaxFrameBytes: number;
  tcpHandshakeTimeoutMs: number;
  tcpMaxPendingConnections: number;
}

export const LITE_DEFAULTS = {
  port: 0,
  address: '0.0.0.0',
  consentTimeoutMs: 30_000,
  sweepIntervalMs: 1_000,
  maxSessions: 100_000,
  receiveBufferBytes: 4 * 1024 * 1024,
  tcpMaxFrameBytes: 65_535,
  tcpHandshakeTimeoutMs: 10_000,
  tcpMaxPendingConnections: 1_000,
} as const;

export class IceLiteOptionsError extends TypeError {
  readonly code = 'ICE_LITE_BAD_OPTION';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'IceLiteOptionsError';
  }
}

function integer(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  dflt: number,
): number {
  const v = value ?? dflt;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new IceLiteOptionsError(name, `must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

function ipLiteral(name: string, value: string): string {
  if (typeof value !== 'string' || isIP(value) === 0) {
    throw new IceLiteOptionsError(name, `must be an IP address literal, got ${String(value)}`);
  }
  return value;
}

const WILDCARDS: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/** Validates `o` and fills in the defaults. */
export function resolveLiteOptions(o: IceLiteOptions = {}): ResolvedLiteOptions {
  const address = ipLiteral('address', o.address ?? LITE_DEFAULTS.address);
  const announced =
    o.announcedAddress === undefined
      ? WILDCARDS.has(address)
        ? []
        : [address]
      : typeof o.announcedAddress === 'string'
        ? [o.announcedAddress]
        : [...o.announcedAddress];
  for (const a of announced) ipLiteral('announcedAddress', a);
  return {
    port: integer('port', o.port, 0, 65535, LITE_DEFAULTS.port),
    address,
    announcedAddresses: announced,
    consentTimeoutMs: integer(
      'consentTimeoutMs',
      o.consentTimeoutMs,
      1,
      3_600_000,
      LITE_DEFAULTS.consentTimeoutMs,
    ),
    sweepIntervalMs: integer(
      'sweepIntervalMs',
      o.sweepIntervalMs,
      1,
      60_000,
      LITE_DEFAULTS.sweepIntervalMs,
    ),
    maxSessions: integer('maxSessions', o.maxSessions, 1, 10_000_000, LITE_DEFAULTS.maxSessions),
    receiveBufferBytes: integer(
      'receiveBufferBytes',
      o.receiveBufferBytes,
      0,
      1 << 30,
      LITE_DEFAULTS.receiveBufferBytes,
    ),
    fastUdpSend: o.fastUdpSend !== false,
    tcpPort: o.tcpPort === undefined ? undefined : integer('tcpPort', o.tcpPort, 0, 65535, 0),
    tcpMaxFrameBytes: integer(
      'tcpMaxFrameBytes',
      o.tcpMaxFrameBytes,
      20,
      65_535,
      LITE_DEFAULTS.tcpMaxFrameBytes,
    ),
    tcpHandshakeTimeoutMs: integer(
      'tcpHandshakeTimeoutMs',
      o.tcpHandshakeTimeoutMs,
      1,
      600_000,
      LITE_DEFAULTS.tcpHandshakeTimeoutMs,
    ),
    tcpMaxPendingConnections: integer(
      'tcpMaxPendingConnections',
      o.tcpMaxPendingConnections,
      1,
      1_000_000,
      LITE_DEFAULTS.tcpMaxPendingConnections,
    ),
  };
}

/** Credentials of one lite session (RFC 8445 §5.3; `createSession` generates what is absent). */
export interface LiteSessionOptions {
  /** 4..256 ice-chars, unique in the mux. Default: 8 random ice-chars (48 bits). */
  localUfrag?: string;
  /** 22..256 ice-chars. Default: 24 random ice-chars (144 bits; RFC wants ≥ 128). */
  localPwd?: string;
  /**
   * The peer's ufrag, from its offer. When known, checks whose USERNAME names another remote
   * ufrag are refused (a stale peer after an ICE restart). Default: accept any.
   */
  remoteUfrag?: string;
  /** The peer's password. A lite agent sends no checks, so it is only kept for the caller. */
  remotePwd?: string;
}

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4)
const ICE_CHARS = /^[A-Za-z0-9+/]+$/;

/** Throws IceLiteOptionsError unless `value` is `min..256` ice-chars (RFC 8839 §5.4). */
export function checkIceCredential(name: string, value: string, min: number): string {
  if (
    typeof value !== 'string' ||
    value.length < min ||
    value.length > 256 ||
    !ICE_CHARS.test(value)
  ) {
    throw new IceLiteOptionsError(name, `must be ${min}..256 ice-chars (A-Z a-z 0-9 + /)`);
  }
  return value;
}

/** `n` random ice-chars (n a multiple of 4: base64 of 3n/4 bytes has no padding). */
export function randomIceChars(n: number): string {
  return randomBytes((n / 4) * 3).toString('base64');
}
