/**
 * The subscribe side of a room peer, sans-IO: which m-section of the SFU's offer carries which
 * remote track, the offers themselves (RFC 8829 §5.2: BUNDLE, ICE-lite, our candidates,
 * `sendonly` with `a=msid:<peerId> <trackId>`, SSRC + FID RTX) and the subscriptions an answer
 * implies (payload types and header-extension ids as the subscriber answered).
 *
 * Sections are never removed: mids and m-line order stay fixed across re-offers (RFC 8829
 * §5.2.2). A section whose track ended is offered `a=inactive` (the receiver's track mutes and
 * leaves its stream); once that state is answered, a new track of the same kind may reuse the
 * section, so their number stays at the most tracks of each kind seen at once.
 */
import { randomInt } from 'node:crypto';
import { ExtensionUri } from '../rtp/index.js';
import {
  type Codec,
  codecsOf,
  createOffer,
  DEFAULT_AUDIO_CODECS,
  DEFAULT_AUDIO_FEEDBACK,
  DEFAULT_VIDEO_CODECS,
  DEFAULT_VIDEO_FEEDBACK,
  directionOf,
  type Extmap,
  extmapsOf,
  midOf,
  type OfferMedia,
  type OfferOptions,
  parseFmtpParameters,
  type SessionDescription,
  sameFormat,
  sameName,
  serialize,
} from '../sdp/index.js';
import type { SfuTrackInfo, SfuTrackSource } from '../signal/room-service.js';
import type { ConsumerOptions } from './consumer.js';
import type { Producer } from './producer.js';
import { codecNameOf, randomSsrc } from './whip.js';

/** How a publisher's codec is described in offers: the publisher's fmtp when known. */
export interface ProducerCodec {
  name: string;
  clockRate: number;
  channels?: number;
  /** `a=fmtp` parameters as the publisher negotiated them ('' when none). */
  fmtp: string;
}

/** One m-section of the subscribe offer. */
export interface SubscribeSlot {
  readonly mid: string;
  readonly kind: 'audio' | 'video';
  /** The track carried; undefined while the section is inactive. */
  producer: Producer | undefined;
  /** `ending`: its track ended and the inactive state is not answered yet (not reusable). */
  state: 'active' | 'ending' | 'inactive' | 'rejected';
  ssrc: number;
  rtxSsrc: number;
  /** The codec of `producer`, with this leg's payload types. */
  codec: Codec;
  /** Preferred simulcast layer from `set-layer` before the subscription started. */
  preferredLayer?: number;
}

/** A subscription an answer made possible: `participant.subscribe(producer, options)`. */
export interface PlannedSubscription {
  slot: SubscribeSlot;
  producer: Producer;
  options: ConsumerOptions;
}

export type AnswerReadResult =
  | { ok: true; subscriptions: PlannedSubscription[]; rejected: SubscribeSlot[] }
  | { ok: false; reason: string };

// Ids fixed per URI for the whole BUNDLE group (RFC 8843 §9.1: one id per URI).
const AUDIO_EXTENSIONS: readonly Extmap[] = [
  { id: 1, uri: ExtensionUri.audioLevel },
  { id: 2, uri: ExtensionUri.absSendTime },
  { id: 3, uri: ExtensionUri.transportWideCc },
  { id: 4, uri: ExtensionUri.mid },
];
const VIDEO_EXTENSIONS: readonly Extmap[] = [
  { id: 2, uri: ExtensionUri.absSendTime },
  { id: 3, uri: ExtensionUri.transportWideCc },
  { id: 4, uri: ExtensionUri.mid },
  { id: 5, uri: ExtensionUri.dependencyDescriptor },
  { id: 13, uri: ExtensionUri.videoOrientation },
];

/** The publisher's codec from a producer alone (WHIP publishers): the default fmtp by name. */
export function defaultProducerCodec(p: Producer): ProducerCodec {
  const name = codecNameOf(p);
  const caps = p.kind === 'audio' ? DEFAULT_AUDIO_CODECS : DEFAULT_VIDEO_CODECS;
  const cap = caps.find((c) => sameName(c.name, name) && c.clockRate === p.clockRate);
  const params = Object.entries(cap?.parameters ?? {}).map(([k, v]) => `${k}=${v}`);
  if (sameName(name, 'opus')) params.push('minptime=10', 'useinbandfec=1');
  const out: ProducerCodec = { name, clockRate: p.clockRate, fmtp: params.join(';') };
  if (cap?.channels !== undefined) out.channels = cap.channels;
  return out;
}

/**
 * One subscriber's sections and offers. `sync()` with the tracks it should receive, then
 * `offer()` when `changed()`; `readAnswer()` with the subscriber's answer to that offer.
 */
export class SubscribePlan {
  readonly slots: SubscribeSlot[] = [];
  private nextMid = 0;
  private version = 0;
  private readonly sessionId = `${randomInt(1, 2 ** 47)}`;
  private readonly payloadTypes = new Map<string, { pt: number; rtx?: number }>();
  private readonly usedPayloadTypes = new Set<number>();
  /** What the last offer said, section by section (`mid=trackId|-|x`). */
  private offeredKey = '';
  /** The slots' producers as offered, for the answer. */
  private offered: { slot: SubscribeSlot; producer: Producer | undefined }[] = [];

  constructor(
    /** The publisher's codec of a producer (fmtp as negotiated); default by name. */
    private readonly codecOf: (p: Producer) => ProducerCodec = defaultProducerCodec,
    /** Most m-sections offered; tracks beyond wait for a free section. */
    private readonly maxSections = 64,
    /** What a producer carries, where its publisher said; listed in `tracks`. */
    private readonly sourceOf: (p: Producer) => SfuTrackSource | undefined = () => undefined,
  ) {}

  /** Offers sent so far (the `o=` version of the last one). */
  get offers(): number {
    return this.version;
  }

  /**
   * Makes the sections carry exactly `producers` (those still open): ended tracks' sections
   * become inactive, new tracks take an answered-inactive section of their kind or a new one.
   */
  sync(producers: Iterable<Producer>): void {
    const want = new Map<string, Producer>();
    for (const p of producers) if (!p.closed) want.set(p.id, p);
    for (const s of this.slots) {
      if (s.producer === undefined) continue;
      if (want.get(s.producer.id) === s.producer) want.delete(s.producer.id);
      else {
        s.producer = undefined;
        s.state = 'ending';
        delete s.preferredLayer;
      }
    }
    for (const p of want.values()) {
      const free = this.slots.find((s) => s.state === 'inactive' && s.kind === p.kind);
      if (free) this.assign(free, p);
      else if (this.slots.length < this.maxSections) {
        const slot: SubscribeSlot = {
          mid: `${this.nextMid++}`,
          kind: p.kind,
          producer: undefined,
          state: 'inactive',
          ssrc: 0,
          rtxSsrc: 0,
          codec: this.codecFor(p),
        };
        this.slots.push(slot);
        this.assign(slot, p);
      }
    }
  }

  private assign(slot: SubscribeSlot, p: Producer): void {
    slot.producer = p;
    slot.state = 'active';
    slot.codec = this.codecFor(p);
    slot.ssrc = randomSsrc();
    slot.rtxSsrc = slot.codec.rtxPayloadType === undefined ? 0 : randomSsrc();
  }

  /** True when the sections differ from what the last offer said. */
  changed(): boolean {
    return this.key() !== this.offeredKey;
  }

  private key(): string {
    return this.slots
      .map((s) => `${s.mid}=${s.state === 'rejected' ? 'x' : (s.producer?.id ?? '-')}`)
      .join(',');
  }

  /** The tracks the current sections carry, as `subscribe-offer` lists them. */
  tracks(): SfuTrackInfo[] {
    const out: SfuTrackInfo[] = [];
    for (const s of this.slots) {
      const p = s.producer;
      if (p === undefined || s.state !== 'active') continue;
      const info: SfuTrackInfo = {
        mid: s.mid,
        trackId: p.id,
        peerId: p.participant.id,
        kind: p.kind,
      };
      const source = this.sourceOf(p);
      if (source !== undefined) info.source = source;
      out.push(info);
    }
    return out;
  }

  /**
   * The next offer: our transport (`ice`, `fingerprints`, `candidates`, `setup`: `actpass`
   * first, then the role in use, RFC 8842 §5.5) and every section.
   */
  offer(transport: Pick<OfferOptions, 'ice' | 'fingerprints' | 'candidates' | 'setup'>): {
    sdp: string;
    tracks: SfuTrackInfo[];
  } {
    this.version++;
    const media: OfferMedia[] = this.slots.map((s) => this.section(s));
    const desc = createOffer({
      ...transport,
      sessionId: this.sessionId,
      sessionVersion: this.version,
      media,
    });
    this.offeredKey = this.key();
    this.offered = this.slots.map((slot) => ({ slot, producer: slot.producer }));
    return { sdp: serialize(desc), tracks: this.tracks() };
  }

  private section(s: SubscribeSlot): OfferMedia {
    const base = {
      mid: s.mid,
      kind: s.kind,
      codecs: [s.codec],
      extensions: s.kind === 'audio' ? AUDIO_EXTENSIONS : VIDEO_EXTENSIONS,
    };
    if (s.state === 'rejected') return { ...base, rejected: true };
    const p = s.producer;
    if (p === undefined || s.state !== 'active') return { ...base, direction: 'inactive' };
    const streamId = p.participant.id;
    const cname = `rtcd-${streamId}`;
    const ssrcs = [s.ssrc, ...(s.rtxSsrc === 0 ? [] : [s.rtxSsrc])];
    return {
      ...base,
      direction: 'sendonly',
      msid: { streamId, trackId: p.id },
      ssrcs: ssrcs.flatMap((ssrc) => [
        { ssrc, attribute: 'cname', value: cname },
        { ssrc, attribute: 'msid', value: `${streamId} ${p.id}` },
      ]),
      ssrcGroups: s.rtxSsrc === 0 ? [] : [{ semantics: 'FID', ssrcs }],
    };
  }

  /**
   * The subscriber's answer to the last offer: one section per offered one, same mids. Live
   * sections give subscriptions (its payload types and extension ids); sections it rejected
   * (port 0) are never used again. Ended tracks' sections become reusable.
   */
  readAnswer(answer: SessionDescription): AnswerReadResult {
    if (answer.media.length !== this.offered.length) {
      return {
        ok: false,
        reason: `answer has ${answer.media.length} sections, offer had ${this.offered.length}`,
      };
    }
    for (const [i, { slot }] of this.offered.entries()) {
      if (midOf(answer.media[i]!) !== slot.mid) {
        return { ok: false, reason: `section ${i} is not mid ${slot.mid}` };
      }
    }
    const subscriptions: PlannedSubscription[] = [];
    const rejected: SubscribeSlot[] = [];
    for (const [i, { slot, producer }] of this.offered.entries()) {
      const m = answer.media[i]!;
      if (m.port === 0) {
        if (slot.state !== 'rejected') rejected.push(slot);
        continue;
      }
      if (producer === undefined) {
        if (slot.state === 'ending' && slot.producer === undefined) slot.state = 'inactive';
        continue;
      }
      const d = directionOf(m, answer.session);
      if (d !== 'recvonly' && d !== 'sendrecv') continue;
      // The offered format, by the same rule as negotiation (H.264 profile and packetization
      // mode, VP9 profile-id…): two H.264 publishers of one room are two formats.
      const codec = codecsOf(m).find((c) => sameFormat(c, slot.codec));
      if (codec === undefined) continue;
      const options: ConsumerOptions = {
        ssrc: slot.ssrc,
        payloadType: codec.payloadType,
        headerExtensions: Object.fromEntries(extmapsOf(m.lines).map((e) => [e.uri, e.id])),
      };
      if (slot.rtxSsrc !== 0 && codec.rtxPayloadType !== undefined) {
        options.rtx = { ssrc: slot.rtxSsrc, payloadType: codec.rtxPayloadType };
      }
      if (slot.preferredLayer !== undefined) options.preferredLayer = slot.preferredLayer;
      subscriptions.push({ slot, producer, options });
    }
    for (const slot of rejected) {
      slot.state = 'rejected';
      slot.producer = undefined;
    }
    return { ok: true, subscriptions, rejected };
  }

  /** The codec of `p` with this leg's payload types (stable per codec across the bundle). */
  private codecFor(p: Producer): Codec {
    const c = this.codecOf(p);
    const key = `${p.kind}/${c.name.toLowerCase()}/${c.clockRate}/${c.channels ?? 1}/${c.fmtp}`;
    let pts = this.payloadTypes.get(key);
    if (pts === undefined) {
      const pt = this.freePayloadType(sameName(c.name, 'opus') ? 111 : 96);
      pts = p.kind === 'video' ? { pt, rtx: this.freePayloadType(pt + 1) } : { pt };
      this.payloadTypes.set(key, pts);
    }
    const codec: Codec = {
      payloadType: pts.pt,
      name: c.name,
      clockRate: c.clockRate,
      fmtp: c.fmtp,
      parameters: parseFmtpParameters(c.fmtp),
      rtcpFb: [...(p.kind === 'video' ? DEFAULT_VIDEO_FEEDBACK : DEFAULT_AUDIO_FEEDBACK)],
    };
    if (c.channels !== undefined) codec.channels = c.channels;
    if (pts.rtx !== undefined) codec.rtxPayloadType = pts.rtx;
    return codec;
  }

  /** A dynamic payload type (96-127, then 35-63, RFC 3551 §6 / RFC 5761 §4) not yet used. */
  private freePayloadType(preferred: number): number {
    const candidates = [preferred];
    for (let pt = 96; pt <= 127; pt++) candidates.push(pt);
    for (let pt = 35; pt <= 63; pt++) candidates.push(pt);
    const pt = candidates.find((x) => x >= 35 && x <= 127 && !this.usedPayloadTypes.has(x));
    if (pt === undefined) throw new RangeError('no free payload type');
    this.usedPayloadTypes.add(pt);
    return pt;
  }
}
