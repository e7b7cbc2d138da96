/**
 * The publish side of a room peer, sans-IO: which offered m-section each producer of
 * `answerPublish` came from (re-offers add and remove tracks by mid), the publisher's codec
 * as negotiated (its fmtp, for subscribers' offers), and whether a re-offer keeps the transport.
 */
import {
  type Codec,
  codecsOf,
  midOf,
  parse,
  ridsOf,
  type SessionDescription,
  ssrcsOf,
} from '../sdp/index.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import type { ProducerOptions } from './producer.js';
import type { ProducerCodec } from './subscribe-offer.js';
import { codecNameOf } from './whip.js';

/** A producer of the publish answer with the mid of its section and its negotiated codec. */
export interface PublishedTrack {
  mid: string;
  options: ProducerOptions;
  codec: ProducerCodec;
}

/**
 * Pairs each producer `answerPublish` returned (in section order) with its offered section:
 * the first not yet taken audio/video section of its kind whose SSRCs include the producer's
 * first encoding's, or whose rids include its first rid. Producers with no such section are
 * left out (they cannot be tracked across re-offers).
 */
export function publishedTracks(
  offer: SessionDescription,
  answerSdp: string,
  producers: readonly ProducerOptions[],
): PublishedTrack[] {
  const answer = parse(answerSdp);
  const answered = answer.ok ? answer.value.media : [];
  const taken = new Set<number>();
  const out: PublishedTrack[] = [];
  for (const p of producers) {
    const first = p.encodings[0];
    const i = offer.media.findIndex((m, j) => {
      if (taken.has(j) || m.kind !== p.kind || m.port === 0) return false;
      if (first?.ssrc !== undefined) return ssrcsOf(m.lines).some((s) => s.ssrc === first.ssrc);
      return first?.rid !== undefined && ridsOf(m.lines).some((r) => r.id === first.rid);
    });
    const mid = i < 0 ? undefined : midOf(offer.media[i]!);
    if (mid === undefined) continue;
    taken.add(i);
    const section = answered.find((m) => midOf(m) === mid);
    const negotiated = section ? codecsOf(section) : [];
    const c = negotiated.find((x) => x.payloadType === p.payloadType);
    out.push({ mid, options: p, codec: producerCodec(p, c) });
  }
  return out;
}

function producerCodec(p: ProducerOptions, c: Codec | undefined): ProducerCodec {
  const name = codecNameOf(p);
  const out: ProducerCodec = { name: c?.name ?? name, clockRate: p.clockRate, fmtp: c?.fmtp ?? '' };
  if (c?.channels !== undefined) out.channels = c.channels;
  return out;
}

/** The primary SSRC (or rid) of a producer: a section whose changes means a new track. */
export function trackKey(p: ProducerOptions): string {
  const e = p.encodings[0];
  return `${p.kind}:${e?.ssrc ?? ''}:${e?.rid ?? ''}:${p.mimeType}:${p.payloadType}`;
}

/** True when a re-offer keeps the ICE ufrag and a DTLS fingerprint: no new endpoint. */
export function sameTransport(a: WebRtcRemoteParameters, b: WebRtcRemoteParameters): boolean {
  if (a.iceUfrag !== b.iceUfrag) return false;
  const key = (f: { algorithm: string; value: string }) =>
    `${f.algorithm.toLowerCase()} ${f.value.toLowerCase()}`;
  const known = new Set(a.fingerprints.map(key));
  return b.fingerprints.some((f) => known.has(key(f)));
}
