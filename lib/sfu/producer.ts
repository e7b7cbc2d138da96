import {
  ExtensionElement,
  ExtensionUri,
  type RtpPacket,
  readAudioLevelDbov,
} from '../rtp/index.js';
import type { Consumer } from './consumer.js';
import { Emitter } from './emitter.js';
import { SfuError, SfuErrorCode } from './errors.js';
import type { ExtensionLayout } from './extension-layout.js';
import { IncomingLayer } from './incoming-layer.js';
import {
  type CodecName,
  codecFromMimeType,
  isDependencyDescriptorKeyFrame,
  isKeyFrame,
} from './keyframe.js';
import type { ResolvedRouterOptions } from './options.js';
import type { Participant } from './participant.js';

/** One encoding of a published track; simulcast lists them lowest quality first. */
export interface EncodingOptions {
  /** The media SSRC, if signaled (`a=ssrc`); else learned from the rid header extension. */
  ssrc?: number;
  /** The RTX SSRC (`a=ssrc-group:FID`), if any. */
  rtxSsrc?: number;
  /** The RTP stream id (`a=rid`), for rid-based simulcast. */
  rid?: string;
  /** Bit/s the layer is expected to use, for bandwidth allocation; else measured. */
  maxBitrate?: number;
}

export interface ProducerOptions {
  id?: string;
  kind: 'audio' | 'video';
  /** e.g. `video/VP8`, `video/H264`, `audio/opus`. */
  mimeType: string;
  payloadType: number;
  clockRate: number;
  /** The publisher's RTX payload type, if RTX was negotiated. */
  rtxPayloadType?: number;
  /** One to four encodings (simulcast layers), lowest first. */
  encodings: readonly EncodingOptions[];
  /** The publisher's negotiated header extensions: URI → id (`a=extmap`). */
  headerExtensions?: Readonly<Record<string, number>>;
}

export const MAX_LAYERS = 4;

export type ProducerEvents = {
  close: [];
  /** A key frame request was sent upstream for `layer`. */
  keyframerequest: [layer: number];
};

/** A track a participant publishes. */
export class Producer extends Emitter<ProducerEvents> {
  readonly id: string;
  readonly kind: 'audio' | 'video';
  readonly mimeType: string;
  readonly codec: CodecName;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly rtxPayloadType: number;
  readonly layers: IncomingLayer[];
  /** The publisher's extension ids: index = id, value = URI, for mapping to subscribers. */
  readonly extensionUris: (string | undefined)[] = [];
  readonly consumers = new Set<Consumer>();
  readonly audioLevelId: number;
  readonly ridId: number;
  readonly repairedRidId: number;
  readonly dependencyDescriptorId: number;
  closed = false;
  /** Audio level accumulated since the last active-speaker decision. */
  levelSum = 0;
  levelCount = 0;
  private readonly el = new ExtensionElement();
  /** Fan-out snapshot of `consumers`, and where the next packet's fan-out starts in it. */
  private list: Consumer[] = [];
  private listStale = false;
  private fanoutStart = 0;

  constructor(
    readonly participant: Participant,
    id: string,
    o: ProducerOptions,
    private readonly opts: ResolvedRouterOptions,
  ) {
    super();
    validate(o);
    this.id = id;
    this.kind = o.kind;
    this.mimeType = o.mimeType;
    this.codec = codecFromMimeType(o.mimeType);
    this.payloadType = o.payloadType;
    this.clockRate = o.clockRate;
    this.rtxPayloadType = o.rtxPayloadType ?? -1;
    this.layers = o.encodings.map(
      (e, i) =>
        new IncomingLayer(
          i,
          e.rid,
          e.ssrc ?? 0,
          e.rtxSsrc ?? 0,
          e.maxBitrate ?? 0,
          o.clockRate,
          opts.packetCacheSize,
          opts.packetCacheMaxAgeMs,
        ),
    );
    const ext = o.headerExtensions ?? {};
    for (const [uri, extId] of Object.entries(ext)) this.extensionUris[extId] = uri;
    this.audioLevelId = ext[ExtensionUri.audioLevel] ?? 0;
    this.ridId = ext[ExtensionUri.rtpStreamId] ?? 0;
    this.repairedRidId = ext[ExtensionUri.repairedRtpStreamId] ?? 0;
    this.dependencyDescriptorId = ext[ExtensionUri.dependencyDescriptor] ?? 0;
  }

  /** The layer whose rid is `rid`, if any. */
  layerByRid(rid: string): IncomingLayer | undefined {
    return this.layers.find((l) => l.rid === rid);
  }

  /**
   * A clear media packet of `layer` (a retransmission already restored): caches it, tracks
   * loss and forwards it to every consumer. `packet` is a view valid for this call only and
   * `layout` its extension elements (scanned once by the participant, for it and every
   * consumer).
   */
  handleRtp(layer: IncomingLayer, packet: RtpPacket, layout: ExtensionLayout, now: number): void {
    const seq = packet.sequenceNumber;
    const buf = packet.buffer;
    // The endpoint's packet is a whole buffer: no view of it needed.
    const whole = packet.offset === 0 && packet.length === buf.length;
    const bytes = whole ? buf : buf.subarray(packet.offset, packet.offset + packet.length);
    if (!layer.receive(seq, packet.timestamp, packet.length, now, this.opts.nackMaxGap)) return;
    layer.cache.put(seq, bytes, now);
    if (this.audioLevelId > 0 && layout.find(packet, this.audioLevelId, this.el)) {
      this.levelSum += 127 - readAudioLevelDbov(packet.buffer, this.el.offset, this.el.length);
      this.levelCount++;
    }
    const keyFrame = this.isKeyFrame(packet, layout);
    // Each packet's fan-out starts one consumer further on, so no subscriber is always the
    // last one served (the one whose packet waits for every other's protect and send).
    const list = this.consumerList();
    const n = list.length;
    if (n > 0) {
      let i = this.fanoutStart < n ? this.fanoutStart : 0;
      this.fanoutStart = i + 1;
      for (let k = 0; k < n; k++) {
        list[i]!.forward(layer, packet, bytes, layout, keyFrame, now);
        if (++i === n) i = 0;
      }
    }
    if (layer.missing.size > 0) this.sendNacks(layer, now);
  }

  /**
   * `consumers` as an array, remade when it changed: consumers are added to the set by the
   * participant and removed by `Consumer.close`, which calls `consumersChanged`.
   */
  private consumerList(): Consumer[] {
    if (this.listStale || this.list.length !== this.consumers.size) {
      this.list = [...this.consumers];
      this.listStale = false;
    }
    return this.list;
  }

  /** The consumer set changed: the next packet's fan-out takes a fresh snapshot of it. */
  consumersChanged(): void {
    this.listStale = true;
  }

  private isKeyFrame(packet: RtpPacket, layout: ExtensionLayout): boolean {
    if (this.kind === 'audio') return true;
    if (packet.payloadLength === 0) return false;
    if (
      this.dependencyDescriptorId > 0 &&
      layout.find(packet, this.dependencyDescriptorId, this.el)
    ) {
      const dd = packet.buffer.subarray(this.el.offset, this.el.offset + this.el.length);
      if (isDependencyDescriptorKeyFrame(dd)) return true;
    }
    return isKeyFrame(this.codec, packet.payload());
  }

  /** NACKs upstream whatever is due on `layer`. */
  sendNacks(layer: IncomingLayer, now: number): void {
    if (layer.ssrc === 0) return;
    const due = layer.dueNacks(now, this.opts.nackRetryIntervalMs, this.opts.nackMaxRetries);
    if (due.length > 0) this.participant.sendNackUpstream(layer.ssrc, due);
  }

  /**
   * Asks the publisher for a key frame on `layerIndex`, at most once per
   * `keyFrameRequestIntervalMs` (subscribers' PLI/FIR storms collapse into one). Returns true
   * if a request went out (or will once the layer's SSRC is known).
   */
  requestKeyFrame(layerIndex: number, now: number): boolean {
    if (this.kind === 'audio' || this.closed) return false;
    const layer = this.layers[layerIndex];
    if (!layer) return false;
    if (now - layer.lastKeyFrameRequestAt < this.opts.keyFrameRequestIntervalMs) return false;
    if (layer.ssrc === 0) {
      layer.keyFrameRequestPending = true;
      return true;
    }
    layer.lastKeyFrameRequestAt = now;
    layer.keyFrameRequestPending = false;
    this.participant.sendPliUpstream(layer.ssrc);
    this.emit('keyframerequest', layerIndex);
    return true;
  }

  /** Periodic work: NACK retries and pending key-frame requests. */
  tick(now: number): void {
    for (const layer of this.layers) {
      if (layer.missing.size > 0) this.sendNacks(layer, now);
      if (layer.keyFrameRequestPending && layer.ssrc !== 0) {
        layer.lastKeyFrameRequestAt = Number.NEGATIVE_INFINITY;
        this.requestKeyFrame(layer.index, now);
      }
    }
    // A consumer waiting for its target layer's key frame (a start or a switch) asks again,
    // throttled per layer: a publisher may drop a request — Chromium answered only some of
    // the PLIs of mid-stream simulcast switches, and the switch then waited for ever.
    if (this.kind === 'video') {
      for (const c of this.consumers) {
        if (c.currentLayer !== c.targetLayer && !c.paused && !c.bandwidthPaused) {
          this.requestKeyFrame(c.targetLayer, now);
        }
      }
    }
  }

  /** Closes the producer and, in cascade, its consumers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.consumers]) c.close();
    for (const layer of this.layers) layer.cache.clear();
    this.participant.producerClosed(this);
    this.emit('close');
    this.removeAllListeners();
  }
}

function validate(o: ProducerOptions): void {
  const bad = (what: string): never => {
    throw new SfuError(SfuErrorCode.INVALID, `producer: ${what}`);
  };
  if (o.kind !== 'audio' && o.kind !== 'video') bad('kind must be audio or video');
  if (!(Number.isInteger(o.payloadType) && o.payloadType >= 0 && o.payloadType <= 127)) {
    bad('payloadType 0-127');
  }
  if (!(Number.isInteger(o.clockRate) && o.clockRate > 0)) bad('clockRate must be positive');
  if (!Array.isArray(o.encodings) || o.encodings.length < 1) bad('at least one encoding');
  if (o.encodings.length > MAX_LAYERS) bad(`at most ${MAX_LAYERS} encodings`);
  for (const e of o.encodings) {
    if (e.ssrc === undefined && e.rid === undefined) bad('an encoding needs an ssrc or a rid');
    for (const s of [e.ssrc, e.rtxSsrc]) {
      if (s !== undefined && !(Number.isInteger(s) && s > 0 && s <= 0xffffffff)) bad('ssrc');
    }
  }
  for (const id of Object.values(o.headerExtensions ?? {})) {
    if (!(Number.isInteger(id) && id >= 1 && id <= 255)) bad('header extension id 1-255');
  }
}
