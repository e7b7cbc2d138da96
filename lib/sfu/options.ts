import type { IncomingMessage } from 'node:http';
import type { DtlsCertificate } from '../dtls/certificate.js';
import { type Logger, silentLogger } from '../util/logger.js';
import type { TestIngressDrop } from './endpoint-leg.js';
import { SfuError, SfuErrorCode } from './errors.js';

/** Options of a `Router`; every limit is finite by default. */
export interface RouterOptions {
  /** Monotonic clock in ms. Defaults to `performance.now`. */
  now?: () => number;
  /** Wall clock in Unix ms, for the NTP time in sender reports. Defaults to `Date.now`. */
  wallClock?: () => number;
  /** Defaults to 1,000. */
  maxRooms?: number;
  /** Defaults to 100. */
  maxParticipantsPerRoom?: number;
  /** Published tracks per participant. Defaults to 16. */
  maxProducersPerParticipant?: number;
  /** Subscriptions per participant. Defaults to 500. */
  maxConsumersPerParticipant?: number;
  /** Packets kept per incoming stream for retransmission. Defaults to 1,000. */
  packetCacheSize?: number;
  /** Age beyond which a cached packet is not retransmitted. Defaults to 2,000 ms. */
  packetCacheMaxAgeMs?: number;
  /** At most one key-frame request per stream per interval. Defaults to 500 ms. */
  keyFrameRequestIntervalMs?: number;
  /** Interval between NACKs upstream for the same missing packet. Defaults to 100 ms. */
  nackRetryIntervalMs?: number;
  /** NACKs sent upstream per missing packet before giving up. Defaults to 3. */
  nackMaxRetries?: number;
  /** A forward jump larger than this is a restart, not loss to NACK. Defaults to 200. */
  nackMaxGap?: number;
  /** Interval of SR/RR generation per leg. Defaults to 1,000 ms. */
  reportIntervalMs?: number;
  /** Interval of the active-speaker decision. Defaults to 300 ms. */
  activeSpeakerIntervalMs?: number;
  /**
   * Longest stretch of one timer-driven pass (`tickSliced`, which `startTicking` and
   * `SfuServer` use) before it yields to I/O, ms; the rest of the participants tick in later
   * turns of the event loop. A pass over 500 legs took ~0.4 ms, and up to 3 ms when many
   * reports fell due together, holding every packet that arrived meanwhile. Defaults to 0.25.
   */
  tickSliceMs?: number;
  /**
   * Malformed or unroutable packets per second from one participant before it is closed with
   * reason `abuse`. Defaults to 500.
   */
  maxBadPacketsPerSecond?: number;
  /**
   * RTP and RTCP packets per second accepted from one participant; the excess is dropped
   * (counted as `rate-limit`), so one flooding publisher cannot eat the router's CPU. Also
   * the retransmissions one subscriber's NACKs may cause per second (the excess counted as
   * `nack-rate-limit`). Defaults to 10,000.
   */
  maxRtpPacketsPerSecond?: number;
  /**
   * A participant over `maxRtpPacketsPerSecond` in this many one-second windows running is
   * closed with reason `flood` (a short burst is only trimmed). Defaults to 5.
   */
  maxRateLimitedSeconds?: number;
  /** Largest RTP packet accepted. Defaults to 1,500 bytes. */
  maxPacketSize?: number;
  /** Bandwidth assumed for a subscriber leg before any feedback, bit/s. Defaults to 1.5 Mbit/s. */
  initialBandwidth?: number;
  logger?: Logger;
}

export type ResolvedRouterOptions = Required<RouterOptions>;

const LIMITS: [keyof RouterOptions, number, number, number][] = [
  ['maxRooms', 1000, 1, 1e6],
  ['maxParticipantsPerRoom', 100, 1, 1e5],
  ['maxProducersPerParticipant', 16, 1, 1000],
  ['maxConsumersPerParticipant', 500, 1, 1e5],
  ['packetCacheSize', 1000, 16, 32768],
  ['packetCacheMaxAgeMs', 2000, 10, 60000],
  ['keyFrameRequestIntervalMs', 500, 0, 60000],
  ['nackRetryIntervalMs', 100, 1, 10000],
  ['nackMaxRetries', 3, 0, 100],
  ['nackMaxGap', 200, 0, 10000],
  ['reportIntervalMs', 1000, 10, 60000],
  ['activeSpeakerIntervalMs', 300, 10, 60000],
  ['tickSliceMs', 0.25, 0.01, 10000],
  ['maxBadPacketsPerSecond', 500, 1, 1e7],
  ['maxRtpPacketsPerSecond', 10_000, 1, 1e7],
  ['maxRateLimitedSeconds', 5, 1, 3600],
  ['maxPacketSize', 1500, 64, 65535],
  ['initialBandwidth', 1_500_000, 1000, 1e10],
];

/** Fills defaults and validates once (a `TypeError` names the bad option). */
export function resolveRouterOptions(o: RouterOptions = {}): ResolvedRouterOptions {
  const out: Record<string, unknown> = {
    now: o.now ?? (() => performance.now()),
    wallClock: o.wallClock ?? (() => Date.now()),
    logger: o.logger ?? silentLogger,
  };
  for (const [name, def, min, max] of LIMITS) {
    const v = o[name] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new TypeError(`RouterOptions.${name} must be a number in [${min}, ${max}]`);
    }
    out[name] = v;
  }
  return out as ResolvedRouterOptions;
}

export function limitError(what: string, limit: number): SfuError {
  return new SfuError(SfuErrorCode.LIMIT, `${what} limit of ${limit} reached`);
}

/**
 * Options of an `SfuServer` (WHIP/WHEP over HTTP, media on one UDP port). Every limit is
 * finite by default; `new SfuServer()` validates them once (a `TypeError` names the option).
 */
export interface SfuServerOptions {
  /** HTTP listen address. Default `127.0.0.1`. */
  host?: string;
  /** HTTP port. Default 0 (any free port). */
  port?: number;
  /** Address of the ICE-lite UDP port. Default `127.0.0.1`. */
  udpAddress?: string;
  /** ICE-lite UDP port. Default 0. */
  udpPort?: number;
  /**
   * Addresses written into the ICE candidates instead of `udpAddress` (behind 1:1 NAT, or
   * when bound to a wildcard). Default: `udpAddress` (see `IceLiteOptions.announcedAddress`).
   */
  announcedAddress?: string | readonly string[];
  /**
   * Send media through the UDP socket's libuv handle rather than `socket.send` (see
   * `IceLiteOptions.fastUdpSend`). Default `true`.
   */
  fastUdpSend?: boolean;
  /** Default: a fresh ECDSA certificate. */
  certificate?: DtlsCertificate;
  /** Interval of the router's timed work (`router.tickSliced()`), ms. Default 20. */
  tickIntervalMs?: number;
  /** Largest SDP body accepted, bytes (413 `too-large` above). Default 65,536. */
  maxBodyBytes?: number;
  /** WHIP/WHEP sessions on this server (503 `server-full` beyond). Default 1,000. */
  maxSessions?: number;
  /** Sessions in one room, WHIP and WHEP together (503 `room-full` beyond). Default 100. */
  maxSessionsPerRoom?: number;
  /**
   * Requests per second per client address (IPv6: per /64), with bursts up to
   * `requestBurst`; beyond, 429 `rate-limited` with `Retry-After`. Default 5.
   */
  requestsPerSecond?: number;
  /** Requests one address may make at once before `requestsPerSecond` applies. Default 20. */
  requestBurst?: number;
  /**
   * The client address a request is counted against. Default: the TCP peer's address. Behind
   * a reverse proxy every request comes from the proxy: pass a function that reads the
   * address the proxy adds (e.g. the last `X-Forwarded-For` entry it appends).
   */
  clientAddress?: (req: IncomingMessage) => string;
  /**
   * A session whose client has not completed ICE and DTLS this long after its POST ends
   * (its endpoint, participant and empty room go), so offers without media cost nothing
   * for long. Default 15,000 ms.
   */
  pendingTimeoutMs?: number;
  /**
   * A request must arrive whole (headers and SDP body) within this time, or it is answered
   * 408 and its connection closed: a client trickling bytes cannot hold a socket. Default
   * 10,000 ms.
   */
  requestTimeoutMs?: number;
  /** HTTP connections held at once; more are refused at accept. Default 1,024. */
  maxConnections?: number;
  /** Serve `GET /metrics` (Prometheus text) on the HTTP port. Default `true`. */
  metrics?: boolean;
  /** `Access-Control-Allow-Origin` value (browsers POST from another origin). Default `*`. */
  corsOrigin?: string;
  /**
   * The router's limits: rooms, participants per room, tracks per publisher
   * (`maxProducersPerParticipant`, 422 `SFU_ERR_LIMIT` beyond), packet rate and bad packets
   * per participant (also applied to SRTP/DTLS drops of its endpoint). See `RouterOptions`.
   */
  router?: RouterOptions;
  logger?: Logger;
  /**
   * Told when a WHIP/WHEP session ends (DELETE, its client gone or timed out, `close()`),
   * with its resource id (the last segment of its Location) and its room: how a front that
   * routes rooms over several SfuServer processes (`SfuWorkerFront`) learns which rooms a
   * worker still holds. Default: none.
   */
  onSessionEnded?: (resource: string, room: string) => void;
  /**
   * TEST ONLY: drop a share of each WHIP publisher's media RTP at ingress, before the router
   * (forced loss that the router must repair with NACKs upstream). Default: off.
   */
  testIngressDrop?: TestIngressDrop;
}

type ServerLimit =
  | 'port'
  | 'udpPort'
  | 'tickIntervalMs'
  | 'maxBodyBytes'
  | 'maxSessions'
  | 'maxSessionsPerRoom'
  | 'requestsPerSecond'
  | 'requestBurst'
  | 'pendingTimeoutMs'
  | 'requestTimeoutMs'
  | 'maxConnections';

const SERVER_LIMITS: [ServerLimit, number, number, number][] = [
  ['port', 0, 0, 65535],
  ['udpPort', 0, 0, 65535],
  ['tickIntervalMs', 20, 1, 10_000],
  ['maxBodyBytes', 65_536, 1024, 16 * 1024 * 1024],
  ['maxSessions', 1000, 1, 1e6],
  ['maxSessionsPerRoom', 100, 1, 1e5],
  ['requestsPerSecond', 5, 0.01, 1e6],
  ['requestBurst', 20, 1, 1e6],
  ['pendingTimeoutMs', 15_000, 1, 3_600_000],
  ['requestTimeoutMs', 10_000, 100, 600_000],
  ['maxConnections', 1024, 1, 1e6],
];

export type ResolvedSfuServerLimits = Record<ServerLimit, number>;

/** The numeric `SfuServerOptions` with their defaults, validated (a `TypeError` names one). */
export function resolveSfuServerLimits(o: SfuServerOptions): ResolvedSfuServerLimits {
  const out = {} as ResolvedSfuServerLimits;
  for (const [name, def, min, max] of SERVER_LIMITS) {
    const v = o[name] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new TypeError(`SfuServerOptions.${name} must be a number in [${min}, ${max}]`);
    }
    out[name] = v;
  }
  return out;
}
