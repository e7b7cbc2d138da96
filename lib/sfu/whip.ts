/**
 * WHIP (RFC 9725) and WHEP SDP handling for the SFU, sans-IO: the answer to a publisher's
 * offer and the producers it describes; the answer to a viewer's `recvonly` offer carrying a
 * room's producers, and the consumers it implies (SSRCs chosen per consumer, payload types and
 * header-extension ids as the viewer negotiated). Errors carry an HTTP status and a code.
 */
import { randomInt } from 'node:crypto';
import {
  type AnswerOptions,
  type Codec,
  type CodecCapability,
  codecsOf,
  createAnswer,
  DEFAULT_AUDIO_CODECS,
  DEFAULT_VIDEO_CODECS,
  directionOf,
  extmapsOf,
  type MediaAnswerChoice,
  type MediaSection,
  midOf,
  parse,
  type SessionDescription,
  sameName,
  serialize,
  ssrcGroupsOf,
  ssrcsOf,
} from '../sdp/index.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import { remoteParametersOf } from '../webrtc/remote-description.js';
import type { ConsumerOptions } from './consumer.js';
import type { EncodingOptions, Producer, ProducerOptions } from './producer.js';
import { simulcastEncodingsOf, simulcastToReceive, ssrcSimulcastOf } from './simulcast-offer.js';
import { WhipError } from './whip-error.js';

export { WhipError } from './whip-error.js';

/** Our transport for the answer (from `answerTransportOf`). */
export type AnswerTransport = Pick<AnswerOptions, 'ice' | 'fingerprints' | 'setup' | 'candidates'>;

/** A parsed offer and the peer's transport parameters. Throws `WhipError` 400. */
export function readOffer(sdp: string): {
  offer: SessionDescription;
  remote: WebRtcRemoteParameters;
} {
  const parsed = parse(sdp);
  if (!parsed.ok) throw new WhipError(400, 'bad-sdp', `offer: ${parsed.error.code}`);
  const remote = remoteParametersOf(parsed.value);
  if (!remote.ok) throw new WhipError(400, 'bad-sdp', `offer: ${remote.error}`);
  return { offer: parsed.value, remote: remote.value };
}

const RTP_STREAM_ID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';

const headerExtensions = (m: MediaSection): Record<string, number> =>
  Object.fromEntries(extmapsOf(m.lines).map((e) => [e.uri, e.id]));

function answer(
  offer: SessionDescription,
  transport: AnswerTransport,
  extra: {
    audioCodecs?: readonly CodecCapability[];
    videoCodecs?: readonly CodecCapability[];
    media?: (m: MediaSection, mid: string) => MediaAnswerChoice;
  },
): SessionDescription {
  const r = createAnswer(offer, {
    ...transport,
    dataChannels: false,
    ...extra,
  });
  if (!r.ok) throw new WhipError(422, r.error.code, r.error.message);
  return r.value;
}

export interface AnswerPublishOptions {
  /**
   * Answer an offer that publishes nothing (a room peer that only watches, or that removed its
   * last track) with a transport alone, instead of throwing `nothing-published`: its audio and
   * video sections that do not send are answered `inactive` rather than rejected, and the
   * producers are none. Default false (WHIP: 422 `nothing-published`).
   */
  allowEmpty?: boolean;
}

/**
 * The answer to a WHIP publisher's offer and one `ProducerOptions` per accepted `sendonly`
 * (or `sendrecv`) audio/video section: the first negotiated codec, its RTX, the answered
 * extension ids, and its encodings —
 * - rid simulcast (`a=simulcast:send` with `a=rid … send`, RFC 8853): one encoding per
 *   received rid, lowest quality first (see `simulcastEncodingsOf`), answered with
 *   `a=rid:<id> recv` and `a=simulcast:recv` in the offer's order; the router binds each
 *   layer's SSRC (and RTX SSRC) from the rid (repaired rid) header extension, so the
 *   sdes:rtp-stream-id and repaired-rtp-stream-id extensions must be offered (else 422
 *   `rid-extension-required`);
 * - legacy `a=ssrc-group:SIM`: one encoding per SSRC with its FID RTX;
 * - otherwise one encoding: the offer's SSRC and FID group.
 * Rids without `a=simulcast` are not simulcast: not answered, the section needs an `a=ssrc`.
 * Throws `WhipError` 422: `nothing-published` (unless `allowEmpty`), `too-many-layers` (more
 * than `MAX_LAYERS` streams), `rid-extension-required`; or the answer's own codes.
 */
export function answerPublish(
  offer: SessionDescription,
  transport: AnswerTransport,
  options: AnswerPublishOptions = {},
): { sdp: string; producers: ProducerOptions[] } {
  const allowEmpty = options.allowEmpty === true;
  const desc = answer(offer, transport, {
    media: (m) => {
      const d = directionOf(m, offer.session);
      if (d !== 'sendonly' && d !== 'sendrecv') {
        // Kept in the BUNDLE group: libwebrtc cannot move the BUNDLE tag off a section
        // rejected in a re-answer ("Failed to setup RTCP mux"), and a peer that sends nothing
        // yet keeps the transport for tracks it adds later.
        const av = m.kind === 'audio' || m.kind === 'video';
        return allowEmpty && av ? { direction: 'inactive' } : { reject: true };
      }
      // Simulcast is for video; an audio section's rids are not answered (one SSRC stream).
      const streams = m.kind === 'video' ? simulcastToReceive(m) : [];
      return streams === undefined
        ? { direction: 'recvonly' }
        : { direction: 'recvonly', simulcastRecv: streams };
    },
  });
  const producers: ProducerOptions[] = [];
  for (const [i, m] of desc.media.entries()) {
    if (m.port === 0 || (m.kind !== 'audio' && m.kind !== 'video')) continue;
    if (directionOf(m, desc.session) !== 'recvonly') continue; // kept inactive: sends nothing
    const codec = codecsOf(m)[0];
    const encodings = encodingsOf(offer.media[i]!, m);
    if (codec === undefined || encodings === undefined) continue;
    producers.push({
      kind: m.kind,
      mimeType: `${m.kind}/${codec.name}`,
      payloadType: codec.payloadType,
      clockRate: codec.clockRate,
      ...(codec.rtxPayloadType === undefined ? {} : { rtxPayloadType: codec.rtxPayloadType }),
      encodings,
      headerExtensions: headerExtensions(m),
    });
  }
  if (producers.length === 0 && !allowEmpty) {
    throw new WhipError(
      422,
      'nothing-published',
      'no audio or video section with an SSRC or rid simulcast',
    );
  }
  return { sdp: serialize(desc), producers };
}

/** The encodings an answered publish section receives; undefined if it names no stream. */
function encodingsOf(offered: MediaSection, answered: MediaSection): EncodingOptions[] | undefined {
  const layers = simulcastEncodingsOf(answered);
  if (layers !== undefined) {
    const uris = extmapsOf(answered.lines).map((e) => e.uri);
    if (!uris.includes(RTP_STREAM_ID)) {
      throw new WhipError(
        422,
        'rid-extension-required',
        `rid simulcast needs the ${RTP_STREAM_ID} header extension`,
      );
    }
    return layers;
  }
  const sim = ssrcSimulcastOf(offered);
  if (sim !== undefined) return sim;
  const ssrcs = [...new Set(ssrcsOf(offered.lines).map((s) => s.ssrc))];
  if (ssrcs.length === 0) return undefined;
  const fid = ssrcGroupsOf(offered.lines).find((g) => g.semantics === 'FID');
  const ssrc = fid?.ssrcs[0] ?? ssrcs[0]!;
  return [{ ssrc, ...(fid?.ssrcs[1] === undefined ? {} : { rtxSsrc: fid.ssrcs[1] }) }];
}

/** A subscription a WHEP answer promised: subscribe `producer` with `options` once connected. */
export interface PlannedConsumer {
  producer: Producer;
  options: ConsumerOptions;
}

/** A random nonzero SSRC for a stream the SFU sends. */
export const randomSsrc = (): number => randomInt(1, 0xffffffff);

/** The codec name of a producer's `mimeType` (`video/VP8` → `VP8`). */
export const codecNameOf = (p: Pick<Producer, 'mimeType'>): string =>
  p.mimeType.split('/')[1] ?? '';

function capabilityFor(p: Producer): CodecCapability[] {
  const name = codecNameOf(p);
  const defaults = p.kind === 'audio' ? DEFAULT_AUDIO_CODECS : DEFAULT_VIDEO_CODECS;
  return defaults.filter((c) => sameName(c.name, name));
}

/**
 * The answer to a WHEP viewer's offer: each `recvonly` audio/video section gets the next
 * producer of its kind (sendonly, its own SSRC and RTX SSRC, `a=msid`); sections left over are
 * rejected. Codecs are limited to the producers' (one codec per kind in this version).
 * Throws `WhipError` 422 when no section could carry a producer.
 */
export function answerView(
  offer: SessionDescription,
  transport: AnswerTransport,
  producers: readonly Producer[],
  streamId: string,
): { sdp: string; consumers: PlannedConsumer[] } {
  const free = [...producers];
  const planned = new Map<string, { producer: Producer; ssrc: number; rtxSsrc: number }>();
  const audio = free.find((p) => p.kind === 'audio');
  const video = free.find((p) => p.kind === 'video');
  const desc = answer(offer, transport, {
    audioCodecs: audio ? capabilityFor(audio) : [],
    videoCodecs: video ? capabilityFor(video) : [],
    media: (m, mid) => {
      const d = directionOf(m, offer.session);
      if (d !== 'recvonly' && d !== 'sendrecv') return { reject: true };
      const i = free.findIndex((p) => p.kind === m.kind && sameCodec(p, codecsOf(m)));
      if (i < 0) return { reject: true };
      const producer = free.splice(i, 1)[0]!;
      const ssrc = randomSsrc();
      const rtxSsrc = producer.kind === 'video' ? randomSsrc() : 0;
      planned.set(mid, { producer, ssrc, rtxSsrc });
      const cname = { ssrc, attribute: 'cname', value: streamId };
      return {
        direction: 'sendonly',
        msid: { streamId, trackId: producer.id },
        ssrcs: rtxSsrc ? [cname, { ...cname, ssrc: rtxSsrc }] : [cname],
        ssrcGroups: rtxSsrc ? [{ semantics: 'FID', ssrcs: [ssrc, rtxSsrc] }] : [],
      };
    },
  });
  const consumers: PlannedConsumer[] = [];
  for (const m of desc.media) {
    const mid = midOf(m);
    const plan = mid === undefined || m.port === 0 ? undefined : planned.get(mid);
    if (plan === undefined) continue;
    const codec = codecsOf(m).find((c) => sameCodec(plan.producer, [c]));
    if (codec === undefined) continue;
    const options: ConsumerOptions = {
      ssrc: plan.ssrc,
      payloadType: codec.payloadType,
      headerExtensions: headerExtensions(m),
    };
    if (plan.rtxSsrc !== 0 && codec.rtxPayloadType !== undefined) {
      options.rtx = { ssrc: plan.rtxSsrc, payloadType: codec.rtxPayloadType };
    }
    consumers.push({ producer: plan.producer, options });
  }
  if (consumers.length === 0) {
    throw new WhipError(422, 'nothing-to-view', 'no recvonly section matches a published track');
  }
  return { sdp: serialize(desc), consumers };
}

function sameCodec(p: Producer, codecs: readonly Codec[]): boolean {
  const name = codecNameOf(p);
  return codecs.some((c) => sameName(c.name, name) && c.clockRate === p.clockRate);
}
