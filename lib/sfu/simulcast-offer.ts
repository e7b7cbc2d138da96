/**
 * A publisher's simulcast, read from its offer and our answer (sans-IO): which rid streams we
 * receive (RFC 8853 §5.3) and the producer encodings they become, lowest quality first.
 */
import {
  type MediaSection,
  type Rid,
  ridRestriction,
  ridsOf,
  type SimulcastStream,
  simulcastOf,
  ssrcGroupsOf,
} from '../sdp/index.js';
import type { EncodingOptions } from './producer.js';
import { MAX_LAYERS } from './producer.js';
import { WhipError } from './whip-error.js';

/**
 * The offered `a=simulcast:send` streams we receive, in the offer's order: one rid per
 * stream (a layer binds one rid), the first alternative that is not paused (else the first).
 * Rids with no `a=rid … send` line and repeated rids are left out. Undefined when the section
 * offers no simulcast. Throws `WhipError` 422 `too-many-layers` beyond `MAX_LAYERS` streams.
 */
export function simulcastToReceive(m: MediaSection): SimulcastStream[] | undefined {
  const send = simulcastOf(m.lines)?.send;
  if (send === undefined) return undefined;
  const declared = new Set(ridsOf(m.lines).flatMap((r) => (r.direction === 'send' ? [r.id] : [])));
  const seen = new Set<string>();
  const streams: SimulcastStream[] = [];
  for (const alts of send) {
    const usable = alts.filter((a) => declared.has(a.rid) && !seen.has(a.rid));
    const pick = usable.find((a) => !a.paused) ?? usable[0];
    if (pick === undefined) continue;
    seen.add(pick.rid);
    streams.push([pick]);
  }
  if (streams.length > MAX_LAYERS) {
    throw new WhipError(
      422,
      'too-many-layers',
      `${streams.length} simulcast streams offered, at most ${MAX_LAYERS} are received`,
    );
  }
  return streams;
}

/**
 * The encodings of an answered `recv` simulcast section, lowest quality first, each bound by
 * its rid (the router learns the SSRCs from the rid header extensions). Undefined when the
 * answer receives no simulcast.
 *
 * Order: by the rids' restrictions when every layer has the same kind — `max-br`, else the
 * pixel count (`max-fs`, or `max-width` × `max-height`), else `max-width`, else
 * `max-height` — and otherwise as the offer's `a=simulcast` lists them: publishers list
 * layers low → high, as Chromium's `sendEncodings` do when given in that order (the usual
 * `scaleResolutionDownBy` 4, 2, 1). Paused (`~rid`) layers are kept: they are received once
 * the publisher starts sending them.
 */
export function simulcastEncodingsOf(answered: MediaSection): EncodingOptions[] | undefined {
  const recv = simulcastOf(answered.lines)?.recv;
  if (recv === undefined) return undefined;
  const rids = new Map(ridsOf(answered.lines).map((r) => [r.id, r]));
  const layers = recv.flatMap((alts) => {
    const r = rids.get(alts[0]?.rid ?? '');
    return r === undefined ? [] : [r];
  });
  if (layers.length === 0) return undefined;
  return orderLowToHigh(layers).map((r) => {
    const br = ridRestriction(r, 'max-br');
    return br === undefined ? { rid: r.id } : { rid: r.id, maxBitrate: br };
  });
}

const pixels = (r: Rid): number | undefined => {
  const fs = ridRestriction(r, 'max-fs');
  if (fs !== undefined) return fs;
  const w = ridRestriction(r, 'max-width');
  const h = ridRestriction(r, 'max-height');
  return w === undefined || h === undefined ? undefined : w * h;
};

const ORDER_KEYS: ((r: Rid) => number | undefined)[] = [
  (r) => ridRestriction(r, 'max-br'),
  pixels,
  (r) => ridRestriction(r, 'max-width'),
  (r) => ridRestriction(r, 'max-height'),
];

/** Sorted by the first restriction every layer has (stable: ties keep the offer's order). */
export function orderLowToHigh(layers: readonly Rid[]): Rid[] {
  for (const key of ORDER_KEYS) {
    const values = layers.map(key);
    if (values.every((v) => v !== undefined)) {
      return layers
        .map((r, i) => ({ r, v: values[i]! }))
        .sort((a, b) => a.v - b.v)
        .map((x) => x.r);
    }
  }
  return [...layers];
}

/**
 * Legacy SSRC simulcast (`a=ssrc-group:SIM`, lowest first as libwebrtc writes it), each
 * media SSRC with its RTX SSRC from a FID group. Undefined when there is no SIM group of two
 * or more SSRCs. Throws `WhipError` 422 beyond `MAX_LAYERS`.
 */
export function ssrcSimulcastOf(offered: MediaSection): EncodingOptions[] | undefined {
  const groups = ssrcGroupsOf(offered.lines);
  const sim = groups.find((g) => g.semantics === 'SIM');
  if (sim === undefined || sim.ssrcs.length < 2) return undefined;
  if (sim.ssrcs.length > MAX_LAYERS) {
    throw new WhipError(422, 'too-many-layers', `SIM group of ${sim.ssrcs.length} SSRCs`);
  }
  return sim.ssrcs.map((ssrc) => {
    const rtx = groups.find((g) => g.semantics === 'FID' && g.ssrcs[0] === ssrc)?.ssrcs[1];
    return rtx === undefined ? { ssrc } : { ssrc, rtxSsrc: rtx };
  });
}
