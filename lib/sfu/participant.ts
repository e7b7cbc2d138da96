import { randomUUID } from 'node:crypto';
import {
  decodeRtcp,
  decodeRtcpPacket,
  encodeRtcp,
  nackPairsFromSequences,
  PacketType,
  parseCompound,
  type RawRtcpPacket,
  type RtcpPacket,
  RtpfbFormat,
  sequencesFromNackPairs,
  TransportCcReader,
} from '../rtcp/index.js';
import {
  decapsulateRtx,
  ExtensionElement,
  ExtensionUri,
  RtpPacket,
  readSdesString,
  readTransportSequenceNumber,
  rtxOriginalSequenceNumber,
} from '../rtp/index.js';
import { packetSlab } from '../util/packet-slab.js';
import { BandwidthEstimator } from './bandwidth.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { Emitter } from './emitter.js';
import { SfuError, SfuErrorCode } from './errors.js';
import { ExtensionLayout } from './extension-layout.js';
import type { IncomingLayer } from './incoming-layer.js';
import { IngressLimits } from './ingress-limits.js';
import { newParticipantStats, type ParticipantStats } from './metrics.js';
import { limitError, type ResolvedRouterOptions } from './options.js';
import { Producer, type ProducerOptions } from './producer.js';
import type { Room } from './room.js';
import { TransportCcFeedbackGenerator } from './transport-cc-feedback.js';

/** The two send functions of one participant's leg (the endpoint protects and sends). */
export interface ParticipantOptions {
  id?: string;
  /**
   * Sends a clear RTP packet to this participant: the first `length` bytes of `packet`. The
   * buffer is the router's and valid for this call only (it is reused for the next packet:
   * copy what must outlive the call).
   */
  sendRtp: (packet: Buffer, length: number) => void;
  /** Sends a clear RTCP datagram to this participant. */
  sendRtcp: (packet: Buffer) => void;
}

export type ParticipantEvents = {
  /**
   * Reason: `closed` (by the application), `room-closed`, `abuse` (too many bad packets per
   * second), `flood` (over the packet rate limit for `maxRateLimitedSeconds` seconds running).
   */
  close: [reason: string];
  producer: [producer: Producer];
  consumer: [consumer: Consumer];
};

interface Route {
  producer: Producer;
  layer: IncomingLayer;
  rtx: boolean;
}

/** NACK pairs processed per feedback packet: a bound on the work one datagram can cause. */
const MAX_NACK_PAIRS = 64;

/**
 * Transport-cc feedback from subscribers is read into this instead of objects per packet
 * status (a browser's every 50-100 ms covers every packet sent to it): shared by every
 * participant of the thread, as each datagram is read and handled within one call.
 */
const transportCcReader = new TransportCcReader();

function isTransportCc(p: RawRtcpPacket): boolean {
  return p.type === PacketType.RTPFB && p.count === RtpfbFormat.TRANSPORT_CC;
}

/** One participant: its published tracks (producers) and its subscriptions (consumers). */
export class Participant extends Emitter<ParticipantEvents> {
  readonly id: string;
  readonly producers = new Map<string, Producer>();
  readonly consumers = new Map<string, Consumer>();
  /** SSRC of the SFU's RTCP toward this participant (RR, NACK, PLI sender). */
  readonly rtcpSsrc = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
  readonly bandwidth: BandwidthEstimator;
  closed = false;
  /** Counters (they only grow); `SfuServer.stats()` sums them over the router. */
  readonly stats: ParticipantStats = newParticipantStats();
  private readonly routes = new Map<number, Route>();
  private readonly consumersBySsrc = new Map<number, Consumer>();
  private readonly view = new RtpPacket();
  /** The extension elements of the packet being handled, found once for every reader of it. */
  private readonly layout = new ExtensionLayout();
  private readonly el = new ExtensionElement();
  /**
   * Transport-cc feedback to this participant as a publisher, on its transport-wide ids: made
   * by the first publish that negotiated it (its rings are 48 kB; most legs only subscribe).
   */
  private transportCc: TransportCcFeedbackGenerator | undefined;
  private transportCcId = 0;
  private readonly sendRtp: (packet: Buffer, length: number) => void;
  private readonly sendRtcp: (packet: Buffer) => void;
  private twccSeq = 0;
  private readonly limits: IngressLimits;
  private nextReportAt = Number.NEGATIVE_INFINITY;
  private nextAllocateAt = Number.NEGATIVE_INFINITY;
  /** `consumers` as an array for `allocate` (run per feedback: no Map iterators). */
  private consumerList: Consumer[] = [];
  private consumerListStale = false;

  constructor(
    readonly room: Room,
    o: ParticipantOptions,
    private readonly opts: ResolvedRouterOptions,
  ) {
    super();
    if (typeof o.sendRtp !== 'function' || typeof o.sendRtcp !== 'function') {
      throw new TypeError('participant: sendRtp and sendRtcp functions are required');
    }
    this.id = o.id ?? randomUUID();
    this.sendRtp = o.sendRtp;
    this.sendRtcp = o.sendRtcp;
    this.bandwidth = new BandwidthEstimator(opts.initialBandwidth);
    this.limits = new IngressLimits(opts);
    this.onListenerError = (err, event) => opts.logger.warn({ err, event }, 'sfu listener threw');
  }

  now(): number {
    return this.opts.now();
  }

  /** Publishes a track. Throws `SfuError` (LIMIT, DUPLICATE, INVALID, CLOSED). */
  publish(o: ProducerOptions): Producer {
    if (this.closed) throw new SfuError(SfuErrorCode.CLOSED, 'participant closed');
    if (this.producers.size >= this.opts.maxProducersPerParticipant) {
      throw limitError('producers per participant', this.opts.maxProducersPerParticipant);
    }
    const id = o.id ?? randomUUID();
    if (this.producers.has(id)) throw new SfuError(SfuErrorCode.DUPLICATE, `producer ${id}`);
    const producer = new Producer(this, id, o, this.opts);
    producer.onListenerError = this.onListenerError;
    for (const l of producer.layers) {
      for (const s of [l.ssrc, l.rtxSsrc]) {
        if (s !== 0 && this.routes.has(s)) {
          throw new SfuError(SfuErrorCode.DUPLICATE, `ssrc ${s} already published`);
        }
      }
    }
    for (const l of producer.layers) {
      if (l.ssrc !== 0) this.routes.set(l.ssrc, { producer, layer: l, rtx: false });
      if (l.rtxSsrc !== 0) this.routes.set(l.rtxSsrc, { producer, layer: l, rtx: true });
    }
    this.producers.set(id, producer);
    this.transportCcId ||= o.headerExtensions?.[ExtensionUri.transportWideCc] ?? 0;
    if (this.transportCcId > 0) this.transportCc ??= new TransportCcFeedbackGenerator();
    this.emit('producer', producer);
    this.room.producerAdded(producer);
    return producer;
  }

  /** Subscribes this participant to `producer`; a key frame is requested for it at once. */
  subscribe(producer: Producer, o: ConsumerOptions): Consumer {
    if (this.closed) throw new SfuError(SfuErrorCode.CLOSED, 'participant closed');
    if (producer.closed) throw new SfuError(SfuErrorCode.CLOSED, 'producer closed');
    if (producer.participant.room !== this.room) {
      throw new SfuError(SfuErrorCode.INVALID, 'producer is in another room');
    }
    if (this.consumers.size >= this.opts.maxConsumersPerParticipant) {
      throw limitError('consumers per participant', this.opts.maxConsumersPerParticipant);
    }
    const id = o.id ?? randomUUID();
    if (this.consumers.has(id)) throw new SfuError(SfuErrorCode.DUPLICATE, `consumer ${id}`);
    for (const s of [o.ssrc, o.rtx?.ssrc]) {
      if (s !== undefined && this.consumersBySsrc.has(s)) {
        throw new SfuError(SfuErrorCode.DUPLICATE, `ssrc ${s} already used toward ${this.id}`);
      }
    }
    const consumer = new Consumer(producer, this, id, o);
    consumer.onListenerError = this.onListenerError;
    this.consumers.set(id, consumer);
    this.consumerListStale = true;
    this.consumersBySsrc.set(consumer.ssrc, consumer);
    if (consumer.rtx) this.consumersBySsrc.set(consumer.rtx.ssrc, consumer);
    producer.consumers.add(consumer);
    this.emit('consumer', consumer);
    this.allocate();
    return consumer;
  }

  /** A clear RTP packet from this participant (after SRTP unprotect). Never throws. */
  receiveRtp(buf: Buffer): void {
    if (this.closed) return;
    const now = this.opts.now();
    this.stats.rtpReceived++;
    this.stats.rtpBytesReceived += buf.length;
    if (!this.withinRate(now)) return;
    if (buf.length > this.opts.maxPacketSize) {
      this.bad('too-large', now);
      return;
    }
    const v = this.view;
    const reason = v.parse(buf);
    if (reason !== undefined) {
      this.bad(reason, now);
      return;
    }
    const layout = this.layout;
    layout.scan(v, v.offset);
    // Every packet of the transport is acknowledged, padding and RTX included (probes).
    const transportCc = this.transportCc;
    if (transportCc !== undefined && layout.find(v, this.transportCcId, this.el)) {
      const seq = readTransportSequenceNumber(v.buffer, this.el.offset, this.el.length);
      transportCc.record(seq, v.ssrc, now);
    }
    const route = this.routes.get(v.ssrc) ?? this.learnSsrc(v);
    if (!route) {
      this.bad('unknown-ssrc', now);
      return;
    }
    const { producer, layer } = route;
    if (route.rtx) {
      if (v.payloadType !== producer.rtxPayloadType) {
        this.drop('unknown-payload-type');
        return;
      }
      if (rtxOriginalSequenceNumber(v) < 0) {
        this.drop('rtx-padding');
        return;
      }
      const out = packetSlab.take(v.length);
      const len = decapsulateRtx(v, out, 0, {
        ssrc: layer.ssrc,
        payloadType: producer.payloadType,
      });
      layer.retransmissionsReceived++;
      if (v.parse(out, 0, len) !== undefined) {
        this.drop('bad-rtx');
        return;
      }
      layout.scan(v, 0);
    } else if (v.payloadType !== producer.payloadType) {
      this.drop('unknown-payload-type');
      return;
    }
    producer.handleRtp(layer, v, layout, now);
  }

  /**
   * The packet rate limit (RTP and RTCP together): the excess of each one-second window is
   * dropped (`rate-limit`); a sender over the limit in `maxRateLimitedSeconds` windows running
   * is closed (`flood`).
   */
  private withinRate(now: number): boolean {
    const v = this.limits.packet(now);
    if (v === 'ok') return true;
    this.drop('rate-limit');
    if (v === 'flood') {
      this.opts.logger.info(
        { participant: this.id, room: this.room.id, reason: 'flood' },
        'sfu participant closed: over the packet rate limit',
      );
      this.close('flood');
    }
    return false;
  }

  /** Binds an unknown SSRC to a simulcast layer by its rid (or repaired rid) extension. */
  private learnSsrc(v: RtpPacket): Route | undefined {
    if (v.extensionProfile < 0) return undefined;
    for (const producer of this.producers.values()) {
      for (const [id, rtx] of [
        [producer.ridId, false],
        [producer.repairedRidId, true],
      ] as const) {
        if (id === 0 || !this.layout.find(v, id, this.el)) continue;
        const rid = readSdesString(v.buffer, this.el.offset, this.el.length);
        const layer = producer.layerByRid(rid);
        if (!layer) continue;
        if (rtx ? layer.rtxSsrc !== 0 : layer.ssrc !== 0) continue;
        if (rtx) layer.rtxSsrc = v.ssrc;
        else layer.ssrc = v.ssrc;
        const route = { producer, layer, rtx };
        this.routes.set(v.ssrc, route);
        return route;
      }
    }
    return undefined;
  }

  /** A clear RTCP datagram from this participant. Never throws. */
  receiveRtcp(buf: Buffer): void {
    if (this.closed) return;
    const now = this.opts.now();
    this.stats.rtcpReceived++;
    if (!this.withinRate(now)) return;
    // Browsers send transport-cc feedback alone in a reduced-size datagram every 50-100 ms:
    // read in place, no split and no objects.
    if (transportCcReader.readAlone(buf) === undefined) {
      this.bandwidth.onTransportCc(transportCcReader, now);
      this.allocate();
      return;
    }
    const split = parseCompound(buf);
    if (!split.ok) {
      this.bad(split.reason, now);
      return;
    }
    // As decodeRtcp: every packet is decoded before any is handled, and one malformed packet
    // refuses the datagram; transport-cc feedback goes to the shared reader instead of an
    // object per packet status (undefined in `decoded`).
    const raws = split.packets;
    const decoded: (RtcpPacket | undefined)[] = [];
    let transportCcs = 0;
    for (const raw of raws) {
      let p: RtcpPacket | undefined;
      if (isTransportCc(raw)) {
        transportCcs++;
        if (transportCcReader.read(raw) !== undefined) break;
      } else {
        p = decodeRtcpPacket(raw);
        if (p === undefined) break;
      }
      decoded.push(p);
    }
    if (decoded.length < raws.length) {
      this.malformedRtcp(buf, now);
      return;
    }
    let reallocate = false;
    for (let i = 0; i < raws.length; i++) {
      const p = decoded[i];
      if (p !== undefined) {
        reallocate = this.handleRtcpPacket(p, now) || reallocate;
        continue;
      }
      // The reader still holds the datagram's only transport-cc packet (the common case).
      if (transportCcs > 1) transportCcReader.read(raws[i]!);
      this.bandwidth.onTransportCc(transportCcReader, now);
      reallocate = true;
    }
    if (reallocate) this.allocate();
  }

  /** A datagram with a packet that does not hold together: counted under decodeRtcp's name. */
  private malformedRtcp(buf: Buffer, now: number): void {
    const r = decodeRtcp(buf);
    this.bad(r.ok ? 'malformed-transport-cc' : r.reason, now);
  }

  private handleRtcpPacket(p: RtcpPacket, now: number): boolean {
    switch (p.kind) {
      case 'sr': {
        const route = this.routes.get(p.ssrc);
        if (route && !route.rtx) {
          route.layer.lastSr = { ntpTime: p.ntpTime, rtpTimestamp: p.rtpTimestamp, at: now };
        }
        return false;
      }
      case 'nack': {
        this.stats.nacksReceived++;
        const c = this.consumersBySsrc.get(p.mediaSsrc);
        if (!c) return false;
        const seqs = sequencesFromNackPairs(p.pairs.slice(0, MAX_NACK_PAIRS));
        for (const seq of seqs) {
          if (!this.limits.retransmit(now)) {
            this.drop('nack-rate-limit');
            continue;
          }
          if (c.retransmit(seq, now)) this.stats.retransmissionsSent++;
        }
        return false;
      }
      case 'pli':
        this.stats.plisReceived++;
        this.consumersBySsrc.get(p.mediaSsrc)?.requestKeyFrame();
        return false;
      case 'fir':
        this.stats.firsReceived++;
        for (const e of p.entries.slice(0, 16)) this.consumersBySsrc.get(e.ssrc)?.requestKeyFrame();
        return false;
      case 'remb':
        this.bandwidth.onRemb(p.bitrate);
        return true;
      case 'transport-cc': // read by receiveRtcp with no object per packet status
        this.bandwidth.onTransportCc(p, now);
        return true;
      default:
        return false;
    }
  }

  /**
   * Sends a packet `consumer` made to this participant, stamping the leg's transport-cc number
   * in it (when the consumer negotiated transport-cc).
   */
  sendRtpDownstream(packet: Buffer, length: number, consumer: Consumer): void {
    if (this.closed) return;
    if (consumer.writeTransportSequence(this.twccSeq)) {
      this.bandwidth.onSent(this.twccSeq, length);
      this.twccSeq = (this.twccSeq + 1) & 0xffff;
    }
    this.stats.rtpSent++;
    this.stats.rtpBytesSent += length;
    try {
      this.sendRtp(packet, length);
    } catch (err) {
      this.sendThrew(err);
    }
  }

  sendNackUpstream(mediaSsrc: number, seqs: number[]): void {
    const nack = {
      kind: 'nack' as const,
      senderSsrc: this.rtcpSsrc,
      mediaSsrc,
      pairs: nackPairsFromSequences(seqs),
    };
    this.stats.nacksSent++;
    this.callSend(this.sendRtcp, encodeRtcp([nack]));
  }

  sendPliUpstream(mediaSsrc: number): void {
    const pli = { kind: 'pli' as const, senderSsrc: this.rtcpSsrc, mediaSsrc };
    this.stats.keyFrameRequestsSent++;
    this.callSend(this.sendRtcp, encodeRtcp([pli]));
  }

  private callSend(fn: (b: Buffer) => void, b: Buffer): void {
    try {
      fn(b);
    } catch (err) {
      this.sendThrew(err);
    }
  }

  private sendThrew(err: unknown): void {
    this.drop('send-error');
    this.opts.logger.debug({ err, participant: this.id }, 'sfu send threw');
  }

  /**
   * Splits the leg's estimated bandwidth over its subscriptions: audio first, then each video
   * consumer in subscription order gets the highest layer up to its preference that fits what
   * is left; one that cannot fit even its lowest layer is paused rather than flooded.
   */
  allocate(): void {
    if (this.closed) return;
    const now = this.opts.now();
    let budget = this.bandwidth.estimate;
    // The estimate plus the step up of the first consumer below its preference: the next
    // probe's target (BandwidthEstimator.want), 0 when every consumer has what it prefers.
    let wanted = 0;
    if (this.consumerListStale || this.consumerList.length !== this.consumers.size) {
      this.consumerList = [...this.consumers.values()];
      this.consumerListStale = false;
    }
    const consumers = this.consumerList;
    for (let k = 0; k < consumers.length; k++) {
      const c = consumers[k]!;
      if (c.kind === 'audio') budget -= c.producer.layers[0]!.bitrate;
    }
    for (let k = 0; k < consumers.length; k++) {
      const c = consumers[k]!;
      // A snapshot: a listener of an earlier consumer's change may have closed this one.
      if (c.kind !== 'video' || c.paused || c.closed) continue;
      const layers = c.producer.layers;
      let anyActive = false; // a loop, not layers.some: no closure per feedback
      for (let i = 0; i < layers.length && !anyActive; i++) anyActive = layers[i]!.isActive(now);
      let chosen = -1;
      for (let i = c.preferredLayer; i >= 0; i--) {
        const l = layers[i]!;
        if (anyActive && !l.isActive(now) && i !== c.currentLayer) continue;
        if (l.bitrate <= budget) {
          chosen = i;
          break;
        }
      }
      if (chosen < 0) {
        if (wanted === 0) wanted = this.bandwidth.estimate - budget + layers[0]!.bitrate;
        c.setTarget(c.targetLayer, true);
        continue;
      }
      const up = layers[chosen + 1];
      if (wanted === 0 && chosen < c.preferredLayer && up?.isActive(now)) {
        wanted = this.bandwidth.estimate - budget + up.bitrate;
      }
      budget -= layers[chosen]!.bitrate;
      c.setTarget(chosen, false);
    }
    this.bandwidth.want(wanted);
  }

  /** Periodic work: NACK retries, key-frame requests, SR/RR. */
  tick(now: number): void {
    if (this.closed) return;
    for (const p of this.producers.values()) p.tick(now);
    const feedback = this.transportCc?.pollRtcp(now, this.rtcpSsrc);
    if (feedback !== undefined) this.callSend(this.sendRtcp, feedback);
    if (now >= this.nextReportAt) {
      // RFC 3550 §6.3.1: a random 0.5-1.5 × interval, so legs that joined together do not
      // all report in the same tick (500 legs' SRs in one synchronous block held every
      // packet arriving meanwhile for ~10 ms).
      this.nextReportAt = now + this.opts.reportIntervalMs * (0.5 + Math.random());
      this.sendReports(now);
    }
    if (now >= this.nextAllocateAt) {
      this.nextAllocateAt = now + this.opts.reportIntervalMs;
      this.allocate();
    }
  }

  /** SR for each stream sent to this participant, RR for each stream received from it. */
  sendReports(now: number): void {
    const wall = this.opts.wallClock();
    for (const c of this.consumers.values()) {
      const sr = c.senderReport(now, wall);
      if (sr) this.callSend(this.sendRtcp, encodeRtcp([sr]));
    }
    const blocks = [];
    for (const p of this.producers.values()) {
      for (const l of p.layers) if (l.ssrc !== 0 && l.packetsReceived > 0) blocks.push(l);
    }
    for (let i = 0; i < blocks.length; i += 31) {
      const reports = blocks.slice(i, i + 31).map((l) => l.reportBlock(now));
      const rr = { kind: 'rr' as const, ssrc: this.rtcpSsrc, reports };
      this.callSend(this.sendRtcp, encodeRtcp([rr]));
    }
  }

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  /** A malformed or unroutable packet: counted, and too many per second close the participant. */
  private bad(reason: string, now: number): void {
    this.drop(reason);
    if (this.limits.badPacket(now)) {
      this.opts.logger.info(
        { participant: this.id, room: this.room.id, reason: 'abuse', last: reason },
        'sfu participant closed: too many bad packets',
      );
      this.close('abuse');
    }
  }

  producerClosed(p: Producer): void {
    this.producers.delete(p.id);
    for (const [ssrc, r] of this.routes) if (r.producer === p) this.routes.delete(ssrc);
  }

  consumerClosed(c: Consumer): void {
    this.consumers.delete(c.id);
    this.consumerListStale = true;
    this.consumersBySsrc.delete(c.ssrc);
    if (c.rtx) this.consumersBySsrc.delete(c.rtx.ssrc);
  }

  /** Leaves the room: closes its producers (and their consumers) and its consumers. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    for (const p of [...this.producers.values()]) p.close();
    for (const c of [...this.consumers.values()]) c.close();
    this.closed = true;
    this.room.participantClosed(this, reason);
    this.emit('close', reason);
    this.removeAllListeners();
  }
}
