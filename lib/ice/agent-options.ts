import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../util/logger.js';

/** A TURN server for relayed candidates, in the RTCIceServer shape. */
export interface IceTurnServer {
  /**
   * `turn:host[:port][?transport=udp|tcp]` or `turns:host[:port][?transport=tcp]` (TLS).
   * Default ports 3478 (turn) and 5349 (turns). One URL or several (each gathers).
   */
  urls: string | readonly string[];
  username: string;
  credential: string;
  /** `tls.connect` options for `turns:` (ca, servername…). Default: verify against system CAs. */
  tls?: ConnectionOptions;
}

/** A STUN server: `stun:host[:port]` (default port 3478) or `{ host, port }`. */
export type IceStunServer = string | { host: string; port: number };

export interface IceAgentOptions {
  /** Start as the controlling agent (the offerer in WebRTC). Default false. */
  controlling?: boolean;
  /** STUN servers for server-reflexive candidates. Default none. */
  stunServers?: readonly IceStunServer[];
  /** TURN servers for relayed candidates. Default none. */
  turnServers?: readonly IceTurnServer[];
  /** Use only these interface names (os.networkInterfaces keys). Default: all. */
  interfaces?: readonly string[];
  /** Keep a discovered address only if this returns true. Default: keep all. */
  addressFilter?: (address: string, interfaceName: string) => boolean;
  /**
   * Bind host candidates to exactly these addresses instead of discovering interfaces
   * (tests pass `['127.0.0.1']`). Default: discover.
   */
  addresses?: readonly string[];
  /** Gather IPv6 host candidates. Default true. */
  ipv6?: boolean;
  /** Include loopback interfaces when discovering. Default false. */
  includeLoopback?: boolean;
  /** Gather relay candidates only (like `iceTransportPolicy: 'relay'`). Default false. */
  relayOnly?: boolean;
  /** Pacing of checks, Ta, ms (RFC 8445 §14.2). Default 50. */
  taMs?: number;
  /** Initial retransmission timeout of a check, ms (RFC 8489 §6.2.1). Default 500. */
  checkRtoMs?: number;
  /** Sends of one check before its pair fails (Rc). Default 7. */
  checkRc?: number;
  /** Controlling: nominate the best valid pair at most this long after the first. Default 300. */
  nominationDelayMs?: number;
  /** Mean interval of consent checks, ms; each is randomized ±20% (RFC 7675 §5.1). Default 5000. */
  consentIntervalMs?: number;
  /** Consent is lost after this long without a response, ms (RFC 7675 §5.1). Default 30000. */
  consentTimeoutMs?: number;
  /** State `disconnected` after this long without a consent response, ms. Default 10000. */
  disconnectedTimeoutMs?: number;
  /** Fail if no pair is selected this long after connect(), ms. Default 30000. */
  connectTimeoutMs?: number;
  /** STUN/TURN requests while gathering: give up on a server after this long, ms. Default 5000. */
  gatherTimeoutMs?: number;
  /** Local credentials (tests); default random (ufrag 8 chars, pwd 24 chars). */
  ufrag?: string;
  pwd?: string;
  /** Tie-breaker (tests); default random 64-bit. */
  tieBreaker?: bigint;
  /** Maximum candidate pairs kept (RFC 8445 §6.1.2.5). Default 100. */
  maxPairs?: number;
  /** Try to resolve remote `.local` candidates with the system resolver. Default true. */
  resolveMdns?: boolean;
  logger?: Logger;
}

export interface ResolvedAgentOptions {
  controlling: boolean;
  taMs: number;
  checkRtoMs: number;
  checkRc: number;
  nominationDelayMs: number;
  consentIntervalMs: number;
  consentTimeoutMs: number;
  disconnectedTimeoutMs: number;
  connectTimeoutMs: number;
  gatherTimeoutMs: number;
  maxPairs: number;
}

const POSITIVE_MS = [
  'taMs',
  'checkRtoMs',
  'nominationDelayMs',
  'consentIntervalMs',
  'consentTimeoutMs',
  'disconnectedTimeoutMs',
  'connectTimeoutMs',
  'gatherTimeoutMs',
] as const;

/** Validates once, at construction; throws TypeError with the option's name. */
export function resolveAgentOptions(o: IceAgentOptions): ResolvedAgentOptions {
  for (const key of POSITIVE_MS) {
    const v = o[key];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) {
      throw new TypeError(`${key} must be a non-negative number of ms, got ${v}`);
    }
  }
  for (const key of ['checkRc', 'maxPairs'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new TypeError(`${key} must be a positive integer, got ${v}`);
    }
  }
  if (o.ufrag !== undefined && !/^[A-Za-z0-9+/]{4,256}$/.test(o.ufrag)) {
    throw new TypeError('ufrag must be 4..256 ice-chars (RFC 8839 §5.4)');
  }
  if (o.pwd !== undefined && !/^[A-Za-z0-9+/]{22,256}$/.test(o.pwd)) {
    throw new TypeError('pwd must be 22..256 ice-chars (RFC 8839 §5.4)');
  }
  for (const s of o.turnServers ?? []) {
    if (typeof s.username !== 'string' || typeof s.credential !== 'string') {
      throw new TypeError('a TURN server needs username and credential');
    }
  }
  return {
    controlling: o.controlling ?? false,
    taMs: o.taMs ?? 50,
    checkRtoMs: o.checkRtoMs ?? 500,
    checkRc: o.checkRc ?? 7,
    nominationDelayMs: o.nominationDelayMs ?? 300,
    consentIntervalMs: o.consentIntervalMs ?? 5000,
    consentTimeoutMs: o.consentTimeoutMs ?? 30_000,
    disconnectedTimeoutMs: o.disconnectedTimeoutMs ?? 10_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 30_000,
    gatherTimeoutMs: o.gatherTimeoutMs ?? 5000,
    maxPairs: o.maxPairs ?? 100,
  };
}

/** A parsed `turn:`/`turns:` URL. */
export interface TurnUrl {
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

/** Parses `turn:`/`turns:` (RFC 7065) and `stun:` (RFC 7064) URLs; throws TypeError. */
export function parseIceUrl(url: string): TurnUrl & { scheme: 'stun' | 'turn' | 'turns' } {
  const m =
    /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^:?[\]]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(
      url.trim(),
    );
  if (m === null) throw new TypeError(`not a STUN/TURN URL: ${url}`);
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'stuns') throw new TypeError(`stuns: is not supported: ${url}`);
  const secure = scheme === 'turns';
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? (secure ? 5349 : 3478) : Number(m[3]);
  if (port < 1 || port > 0xffff) throw new TypeError(`bad port in ${url}`);
  const t = m[4]?.toLowerCase();
  if (scheme === 'stun' && t !== undefined) throw new TypeError(`stun: takes no transport: ${url}`);
  if (secure && t === 'udp') throw new TypeError(`turns: runs over TCP (TLS): ${url}`);
  const transport = secure ? 'tls' : t === 'tcp' ? 'tcp' : 'udp';
  return { scheme: scheme as 'stun' | 'turn' | 'turns', host, port, transport };
}
