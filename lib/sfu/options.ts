import { type Logger, silentLogger } from '../util/logger.js';
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
   * Malformed or unroutable packets per second from one participant before it is closed with
   * reason `abuse`. Defaults to 500.
   */
  maxBadPacketsPerSecond?: number;
  /**
   * RTP packets per second accepted from one participant; the excess is dropped (counted as
   * `rate-limit`), so one flooding publisher cannot eat the router's CPU. Defaults to 10,000.
   */
  maxRtpPacketsPerSecond?: number;
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
  ['maxBadPacketsPerSecond', 500, 1, 1e7],
  ['maxRtpPacketsPerSecond', 10_000, 1, 1e7],
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
