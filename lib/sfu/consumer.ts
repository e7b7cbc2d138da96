import type { SenderReport } from '../rtcp/index.js';
import { ntpTimeFromUnixMs } from '../rtcp/index.js';
import {
  ExtensionElement,
  ExtensionUri,
  encapsulateRtx,
  extensionsSize,
  findExtension,
  forEachExtension,
  type HeaderExtension,
  isOneByteProfile,
  RtpPacket,
  rewriteExtensionIds,
  seqDiff,
  seqIsNewer,
  tsAdd,
  writeRtp,
  writeTransportSequenceNumber,
  writeU32,
} from '../rtp/index.js';
import { Emitter } from './emitter.js';
import { SfuError, SfuErrorCode } from './errors.js';
import { ExtensionLayout } from './extension-layout.js';
import type { IncomingLayer } from './incoming-layer.js';
import type { Participant } from './participant.js';
import type { Producer } from './producer.js';

export interface ConsumerOptions {
  id?: string;
  /** The SSRC the subscriber receives this track on. */
  ssrc: number;
  /** The subscriber's payload type for the producer's codec. */
  payloadType: number;
  /** RTX negotiated with the subscriber (RFC 4588); else NACKs get plain retransmissions. */
  rtx?: { ssrc: number; payloadType: number };
  /** The subscriber's negotiated header extensions, URI → id; others are dropped. */
  headerExtensions?: Readonly<Record<string, number>>;
  /** Simulcast layer wanted (index, lowest 0). Defaults to the highest. */
  preferredLayer?: number;
  /**
   * The subscriber's mid for this track (RFC 8843): when given and the sdes:mid extension was
   * negotiated, every packet carries it (the header is rebuilt), so the receiver can demux
   * without `a=ssrc` lines. Defaults to none (extensions rewritten in place).
   */
  mid?: string;
}

export type ConsumerEvents = {
  close: [];
  /** The layer now forwarded (-1: none, e.g. paused). */
  layerchange: [layer: number];
  /** Paused (true) or resumed (false) because of the subscriber's bandwidth. */
  bandwidthpause: [paused: boolean];
};

const HISTORY = 1024;

/**
 * Where each subscriber's copy of a packet is made (and, for RTX, encapsulated): a copy is
 * handed to `Participant.sendRtpDownstream`, protected into its own datagram and dropped
 * before the next is made, so one buffer serves every consumer and no packet allocates.
 */
class Scratch {
  #buf = Buffer.allocUnsafeSlow(2048);

  /** The buffer, at least `size` bytes (it grows for a larger packet, never shrinks). */
  of(size: number): Buffer {
    if (this.#buf.length < size) this.#buf = Buffer.allocUnsafeSlow(size);
    return this.#buf;
  }
}

const copyScratch = new Scratch();
const rtxScratch = new Scratch();
// Extensions that name the publisher's stream, meaningless (or wrong) on the subscriber's.
const NOT_FORWARDED = new Set<string>([
  ExtensionUri.mid,
  ExtensionUri.rtpStreamId,
  ExtensionUri.repairedRtpStreamId,
]);

/**
 * A subscription: forwards one layer of a producer to a subscriber with its own SSRC, a
 * sequence-number and timestamp space that stays continuous across layer switches and
 * pauses, the subscriber's payload type and header-extension ids.
 */
export class Consumer extends Emitter<ConsumerEvents> {
  readonly id: string;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly rtx: { ssrc: number; payloadType: number } | undefined;
  closed = false;
  /** Layer being forwarded; -1 while waiting for a key frame. */
  currentLayer = -1;
  /** Layer the forwarder switches to at its next key frame. */
  targetLayer: number;
  preferredLayer: number;
  /** Paused by bandwidth allocation (the subscriber cannot take even the lowest layer). */
  bandwidthPaused = false;
  /** Paused by the application. */
  paused = false;
  packetsSent = 0;
  octetsSent = 0;
  retransmissionsSent = 0;
  nackMisses = 0;
  /** Subscriber-side extension id for each publisher id (0: drop). */
  private readonly extMap = new Uint8Array(256);
  /** The same for a one-byte-form packet: ids over 14 cannot be written there (RFC 8285). */
  private readonly extMapOneByte = new Uint8Array(256);
  private readonly twccId: number;
  private readonly midId: number;
  private readonly midValue: Buffer;
  private started = false;
  private seqOffset = 0;
  private tsOffset = 0;
  private switchSeq = 0;
  private lastOutSeq = 0;
  private lastOutTs = 0;
  private lastOutAt = 0;
  private rtxSeq = Math.floor(Math.random() * 0x10000);
  private readonly histOutSeq = new Int32Array(HISTORY).fill(-1);
  private readonly histInSeq = new Uint16Array(HISTORY);
  private readonly histLayer = new Uint8Array(HISTORY);
  private readonly histTs = new Uint32Array(HISTORY);
  private readonly view = new RtpPacket();
  private readonly el = new ExtensionElement();
  /** The last packet made for the subscriber and its transport-cc value offset (-1: none). */
  private twccOut: Buffer = copyScratch.of(0);
  private twccAt = -1;
  private readonly retransmitLayout = new ExtensionLayout();

  constructor(
    readonly producer: Producer,
    readonly participant: Participant,
    id: string,
    o: ConsumerOptions,
  ) {
    super();
    const okSsrc = (s: number) => Number.isInteger(s) && s > 0 && s <= 0xffffffff;
    const okPt = (p: number) => Number.isInteger(p) && p >= 0 && p <= 127;
    if (!okSsrc(o.ssrc) || !okPt(o.payloadType)) {
      throw new SfuError(SfuErrorCode.INVALID, 'consumer: ssrc and payloadType required');
    }
    if (o.rtx && (!okSsrc(o.rtx.ssrc) || !okPt(o.rtx.payloadType))) {
      throw new SfuError(SfuErrorCode.INVALID, 'consumer: bad rtx ssrc/payloadType');
    }
    this.id = id;
    this.ssrc = o.ssrc;
    this.payloadType = o.payloadType;
    this.rtx = o.rtx;
    const top = producer.layers.length - 1;
    this.preferredLayer = clampLayer(o.preferredLayer ?? top, top);
    this.targetLayer = this.preferredLayer;
    const sub = o.headerExtensions ?? {};
    producer.extensionUris.forEach((uri, pubId) => {
      if (uri === undefined || NOT_FORWARDED.has(uri)) return;
      const to = sub[uri];
      if (to !== undefined && to >= 1 && to <= 255) this.extMap[pubId] = to;
      if (to !== undefined && to >= 1 && to <= 14) this.extMapOneByte[pubId] = to;
    });
    this.twccId = sub[ExtensionUri.transportWideCc] ?? 0;
    this.midValue = Buffer.from(o.mid ?? '');
    this.midId = this.midValue.length > 0 ? (sub[ExtensionUri.mid] ?? 0) : 0;
    if (this.midValue.length > 255) throw new SfuError(SfuErrorCode.INVALID, 'consumer: mid');
  }

  get kind(): 'audio' | 'video' {
    return this.producer.kind;
  }

  /** Chooses the simulcast layer wanted; the switch happens at that layer's next key frame. */
  setPreferredLayer(layer: number): void {
    this.preferredLayer = clampLayer(layer, this.producer.layers.length - 1);
    this.participant.allocate();
  }

  /** Pauses or resumes forwarding (application choice); resuming asks for a key frame. */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (paused) this.stopForwarding();
    else this.requestKeyFrame();
  }

  /** Sets the layer to forward next (from allocation) and asks for its key frame. */
  setTarget(layer: number, bandwidthPaused: boolean): void {
    if (bandwidthPaused !== this.bandwidthPaused) {
      this.bandwidthPaused = bandwidthPaused;
      if (bandwidthPaused) this.stopForwarding();
      this.emit('bandwidthpause', bandwidthPaused);
    }
    if (bandwidthPaused) return;
    const changed = layer !== this.targetLayer;
    this.targetLayer = layer;
    if (changed || this.currentLayer < 0) this.requestKeyFrame();
  }

  /** Asks upstream for a key frame of the target layer (throttled per producer layer). */
  requestKeyFrame(): void {
    this.producer.requestKeyFrame(this.targetLayer, this.participant.now());
  }

  private stopForwarding(): void {
    if (this.currentLayer < 0) return;
    this.currentLayer = -1;
    this.emit('layerchange', -1);
  }

  /**
   * Called by the producer for each new packet of any of its layers: `bytes` is the packet
   * (`packet`'s bytes) and `layout` its extension elements, both found once for every
   * consumer; all are valid for this call only.
   */
  forward(
    layer: IncomingLayer,
    packet: RtpPacket,
    bytes: Uint8Array,
    layout: ExtensionLayout,
    keyFrame: boolean,
    now: number,
  ): void {
    if (this.closed || this.paused || this.bandwidthPaused) return;
    const inSeq = packet.sequenceNumber;
    if (layer.index !== this.currentLayer) {
      if (layer.index !== this.targetLayer || !keyFrame) return;
      this.switchTo(layer, packet, now);
    } else if (seqDiff(inSeq, this.switchSeq) < 0) {
      return; // from before the switch: its number would collide with the old layer's
    }
    const outSeq = (inSeq + this.seqOffset) & 0xffff;
    const outTs = tsAdd(packet.timestamp, this.tsOffset);
    const h = outSeq % HISTORY;
    this.histOutSeq[h] = outSeq;
    this.histInSeq[h] = inSeq;
    this.histLayer[h] = layer.index;
    this.histTs[h] = outTs;
    if (seqIsNewer(outSeq, this.lastOutSeq) || this.packetsSent === 0) {
      this.lastOutSeq = outSeq;
      this.lastOutTs = outTs;
      this.lastOutAt = now;
    }
    const length =
      this.midId > 0
        ? this.rebuildWithMid(packet, outSeq, outTs)
        : this.rewrite(bytes, layout, outSeq, outTs);
    this.packetsSent++;
    this.octetsSent += packet.payloadLength;
    this.participant.sendRtpDownstream(this.twccOut, length, this);
  }

  /**
   * Offsets for `layer` starting at `packet` (a key frame): the first packet of a stream gets
   * a random origin, later ones continue one past the last sequence number sent, with the
   * timestamp advanced by the wall time elapsed, so the receiver sees no gap and no jump.
   */
  private switchTo(layer: IncomingLayer, packet: RtpPacket, now: number): void {
    const inSeq = packet.sequenceNumber;
    let outSeq: number;
    let outTs: number;
    if (!this.started) {
      this.started = true;
      outSeq = Math.floor(Math.random() * 0x8000);
      outTs = Math.floor(Math.random() * 0x80000000);
    } else {
      outSeq = (this.lastOutSeq + 1) & 0xffff;
      const elapsed = Math.round(((now - this.lastOutAt) * this.producer.clockRate) / 1000);
      outTs = tsAdd(this.lastOutTs, Math.max(1, elapsed));
    }
    this.seqOffset = (outSeq - inSeq) & 0xffff;
    this.tsOffset = (outTs - packet.timestamp) >>> 0;
    this.switchSeq = inSeq;
    this.currentLayer = layer.index;
    this.emit('layerchange', layer.index);
  }

  /**
   * A copy of a packet (`bytes`, extension elements at `layout`) as the subscriber sees it, in
   * `twccOut` (the shared scratch buffer); returns its length. One copy, then the header
   * fields and extension ids written in it by offset; `twccAt` is where its transport-cc
   * sequence number goes. No per-subscriber parse unless the packet has more elements than
   * the layout holds (`this.view` is then left parsed over the copy).
   */
  private rewrite(
    bytes: Uint8Array,
    layout: ExtensionLayout,
    outSeq: number,
    outTs: number,
  ): number {
    const length = bytes.length;
    const out = copyScratch.of(length);
    out.set(bytes);
    out[1] = (out[1]! & 0x80) | this.payloadType;
    out[2] = outSeq >>> 8;
    out[3] = outSeq & 0xff;
    writeU32(out, 4, outTs);
    writeU32(out, 8, this.ssrc);
    this.twccAt = -1;
    if (layout.count > 0) {
      const map = layout.oneByte ? this.extMapOneByte : this.extMap;
      this.twccAt = layout.apply(out, map, this.twccId === 0 ? -1 : this.twccId, 2);
    }
    this.twccOut = out;
    if (layout.overflow) {
      const v = this.view;
      v.parse(out, 0, length);
      if (v.extensionProfile >= 0) {
        rewriteExtensionIds(
          v,
          isOneByteProfile(v.extensionProfile) ? this.extMapOneByte : this.extMap,
        );
        this.twccAt =
          this.twccId > 0 && findExtension(v, this.twccId, this.el) && this.el.length >= 2
            ? this.el.offset
            : -1;
      }
    }
    return length;
  }

  /**
   * The subscriber's packet with a new extension block (the mapped elements, then mid) in
   * `twccOut` (the shared scratch buffer); returns its length.
   */
  private rebuildWithMid(packet: RtpPacket, outSeq: number, outTs: number): number {
    const extensions: HeaderExtension[] = [];
    const src = packet.buffer;
    if (packet.extensionProfile >= 0) {
      forEachExtension(packet, (id, offset, length) => {
        const to = this.extMap[id]!;
        if (to !== 0 && to !== this.midId && length > 0) {
          extensions.push({ id: to, value: src.subarray(offset, offset + length) });
        }
      });
    }
    extensions.push({ id: this.midId, value: this.midValue });
    const csrcs: number[] = [];
    for (let i = 0; i < packet.csrcCount; i++) csrcs.push(packet.csrc(i)!);
    const payload = src.subarray(packet.payloadOffset, packet.payloadOffset + packet.payloadLength);
    const size = 12 + csrcs.length * 4 + extensionsSize(extensions) + payload.length;
    const out = copyScratch.of(size);
    const length = writeRtp(
      out,
      0,
      {
        payloadType: this.payloadType,
        sequenceNumber: outSeq,
        timestamp: outTs,
        ssrc: this.ssrc,
        marker: packet.marker,
        csrcs,
        extensions,
      },
      payload,
    );
    this.view.parse(out, 0, length);
    this.twccOut = out;
    this.twccAt =
      this.twccId > 0 && findExtension(this.view, this.twccId, this.el) && this.el.length >= 2
        ? this.el.offset
        : -1;
    return length;
  }

  /**
   * Writes the leg's transport-wide sequence number into the last packet made (`twccAt` is -1
   * whenever transport-cc is not negotiated: `rewrite` and `rebuildWithMid` find no id 0).
   */
  writeTransportSequence(seq: number): boolean {
    if (this.twccAt < 0) return false;
    writeTransportSequenceNumber(this.twccOut, this.twccAt, seq);
    return true;
  }

  /** Answers a subscriber's NACK for `outSeq` from the producer's cache (RTX if negotiated). */
  retransmit(outSeq: number, now: number): boolean {
    const h = outSeq % HISTORY;
    const layer = this.producer.layers[this.histLayer[h]!];
    const cached =
      this.histOutSeq[h] === outSeq ? layer?.cache.get(this.histInSeq[h]!, now) : undefined;
    if (!cached || this.view.parse(cached) !== undefined) {
      this.nackMisses++;
      return false;
    }
    const layout = this.retransmitLayout;
    layout.scan(this.view, 0);
    let length =
      this.midId > 0
        ? this.rebuildWithMid(this.view, outSeq, this.histTs[h]!)
        : this.rewrite(cached, layout, outSeq, this.histTs[h]!);
    if (this.rtx) {
      this.view.parse(this.twccOut, 0, length);
      const rtx = rtxScratch.of(length + 2);
      length = encapsulateRtx(this.view, rtx, 0, {
        ssrc: this.rtx.ssrc,
        payloadType: this.rtx.payloadType,
        sequenceNumber: this.rtxSeq,
      });
      this.rtxSeq = (this.rtxSeq + 1) & 0xffff;
      // The header (and so the transport-cc offset) is the same in the RTX packet.
      this.twccOut = rtx;
    }
    this.retransmissionsSent++;
    this.participant.sendRtpDownstream(this.twccOut, length, this);
    return true;
  }

  /** An SR for this stream (RFC 3550 §6.4.1) in the subscriber's SSRC/timestamp space. */
  senderReport(now: number, wallClockMs: number): SenderReport | undefined {
    if (this.packetsSent === 0) return undefined;
    const layer = this.producer.layers[this.currentLayer];
    const sr = layer?.lastSr;
    let ntpTime: bigint;
    let rtpTimestamp: number;
    const rate = this.producer.clockRate / 1000;
    if (sr) {
      // Keep the publisher's NTP↔RTP mapping (lip sync) in the subscriber's timestamp space.
      ntpTime = sr.ntpTime + BigInt(Math.round(((now - sr.at) / 1000) * 2 ** 32));
      rtpTimestamp = tsAdd(sr.rtpTimestamp, this.tsOffset + Math.round((now - sr.at) * rate));
    } else {
      ntpTime = ntpTimeFromUnixMs(wallClockMs);
      rtpTimestamp = tsAdd(this.lastOutTs, Math.round((now - this.lastOutAt) * rate));
    }
    return {
      kind: 'sr',
      ssrc: this.ssrc,
      ntpTime,
      rtpTimestamp,
      packetCount: this.packetsSent >>> 0,
      octetCount: this.octetsSent >>> 0,
      reports: [],
    };
  }

  /** Closes the subscription. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.producer.consumers.delete(this);
    this.producer.consumersChanged();
    this.participant.consumerClosed(this);
    this.emit('close');
    this.removeAllListeners();
  }
}

function clampLayer(layer: number, top: number): number {
  if (!Number.isInteger(layer)) throw new SfuError(SfuErrorCode.INVALID, 'layer index');
  return Math.max(0, Math.min(top, layer));
}
