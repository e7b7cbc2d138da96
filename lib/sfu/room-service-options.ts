import type { Logger } from '../util/logger.js';

/** Options of `SfuRoomService`; every limit is finite by default. */
export interface SfuRoomServiceOptions {
  /** Peers joined at once over all rooms; a join beyond gets `sfu-limit`. Default 10,000. */
  maxPeers?: number;
  /**
   * m-sections in one peer's subscribe offer (remote tracks it receives at once; ended tracks'
   * sections are reused). Tracks beyond wait for a free section. Default 64.
   */
  maxSubscribeSections?: number;
  /**
   * A `subscribe-offer` not answered within this time is replaced by a new one (with whatever
   * changed meanwhile), so a lost message cannot stall a peer's subscriptions. Default 15,000 ms.
   */
  subscribeAnswerTimeoutMs?: number;
  /**
   * A peer's subscribe connection that ends under it (ICE consent lost, DTLS closed, never
   * connected, closed for abuse) while it stays in the room is re-created: a new leg, offered
   * with `restart: true`. At most this many times in any minute per peer; beyond, the peer
   * gets `error sfu-internal` and no more offers. 0 never re-creates. Default 3.
   */
  maxSubscribeRestartsPerMinute?: number;
  /** Milliseconds clock for the restart budget. Default `performance.now`. */
  now?: () => number;
  /** Default: silent. */
  logger?: Logger;
}

export interface ResolvedRoomServiceOptions {
  maxPeers: number;
  maxSubscribeSections: number;
  subscribeAnswerTimeoutMs: number;
  maxSubscribeRestartsPerMinute: number;
}

const LIMITS: [keyof ResolvedRoomServiceOptions, number, number, number][] = [
  ['maxPeers', 10_000, 1, 1e6],
  ['maxSubscribeSections', 64, 1, 1000],
  ['subscribeAnswerTimeoutMs', 15_000, 10, 600_000],
  ['maxSubscribeRestartsPerMinute', 3, 0, 100],
];

/** Fills defaults and validates once (a `TypeError` names the bad option). */
export function resolveRoomServiceOptions(
  o: SfuRoomServiceOptions = {},
): ResolvedRoomServiceOptions {
  const out: ResolvedRoomServiceOptions = {
    maxPeers: 0,
    maxSubscribeSections: 0,
    subscribeAnswerTimeoutMs: 0,
    maxSubscribeRestartsPerMinute: 0,
  };
  for (const [name, def, min, max] of LIMITS) {
    const v = o[name] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new TypeError(`SfuRoomServiceOptions.${name} must be an integer in [${min}, ${max}]`);
    }
    out[name] = v;
  }
  return out;
}
