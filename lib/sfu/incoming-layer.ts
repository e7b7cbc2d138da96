import { compactNtp, type ReportBlock } from '../rtcp/index.js';
import { SequenceTracker, seqAdd, seqDiff } from '../rtp/index.js';
import { PacketCache } from './packet-cache.js';

/** One missing packet the SFU asks the publisher for again. */
interface MissingPacket {
  tries: number;
  nextAt: number;
}

/**
 * The receive side of one encoding (simulcast layer) of a producer: retransmission cache,
 * loss tracking for NACKs upstream and receiver reports, bitrate and the publisher's last SR.
 */
export class IncomingLayer {
  /** 0 until the first packet binds it (rid-based simulcast learns SSRCs from the wire). */
  ssrc: number;
  rtxSsrc: number;
  readonly cache: PacketCache;
  readonly tracker = new SequenceTracker();
  /** Highest sequence number received, -1 before the first packet. */
  highestSeq = -1;
  readonly missing = new Map<number, MissingPacket>();
  lastKeyFrameRequestAt = Number.NEGATIVE_INFINITY;
  /** A key frame was asked for before the SSRC was known: send once it is. */
  keyFrameRequestPending = false;
  lastPacketAt = Number.NEGATIVE_INFINITY;
  packetsReceived = 0;
  bytesReceived = 0;
  retransmissionsReceived = 0;
  /** Measured bit/s over the last full window. */
  measuredBitrate = 0;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowBytes = 0;
  /** The publisher's last SR on this stream: NTP/RTP pair and local arrival time. */
  lastSr: { ntpTime: bigint; rtpTimestamp: number; at: number } | undefined;
  private reportExpected = 0;
  private reportReceived = 0;
  private jitter = 0;
  private lastTransit = Number.NaN;

  constructor(
    readonly index: number,
    readonly rid: string | undefined,
    ssrc: number,
    rtxSsrc: number,
    /** Declared bit/s (from SDP or the application), 0 when unknown. */
    readonly maxBitrate: number,
    readonly clockRate: number,
    cacheSize: number,
    cacheMaxAgeMs: number,
  ) {
    this.ssrc = ssrc;
    this.rtxSsrc = rtxSsrc;
    this.cache = new PacketCache(cacheSize, cacheMaxAgeMs);
  }

  /** The bitrate used for allocation: declared if given, else measured. */
  get bitrate(): number {
    return this.maxBitrate > 0 ? this.maxBitrate : this.measuredBitrate;
  }

  isActive(now: number): boolean {
    return now - this.lastPacketAt < 2000;
  }

  /**
   * Accounts a packet; returns false for a duplicate (already cached: e.g. both the original
   * and its retransmission arrived). New gaps up to `maxGap` become missing packets.
   */
  receive(seq: number, timestamp: number, bytes: number, now: number, maxGap: number): boolean {
    if (this.cache.has(seq)) return false;
    this.tracker.update(seq);
    if (this.highestSeq < 0) {
      this.highestSeq = seq;
    } else {
      const d = seqDiff(seq, this.highestSeq);
      if (d > 0) {
        if (d - 1 <= maxGap) {
          for (let i = 1; i < d; i++) {
            this.missing.set(seqAdd(this.highestSeq, i), { tries: 0, nextAt: now });
          }
        } else {
          this.missing.clear();
        }
        this.highestSeq = seq;
      } else {
        this.missing.delete(seq);
      }
    }
    this.packetsReceived++;
    this.bytesReceived += bytes;
    this.lastPacketAt = now;
    this.updateBitrate(bytes, now);
    this.updateJitter(timestamp, now);
    return true;
  }

  /** Missing packets due for a NACK at `now` (counting the try); drops exhausted ones. */
  dueNacks(now: number, retryIntervalMs: number, maxRetries: number): number[] {
    const due: number[] = [];
    for (const [seq, m] of this.missing) {
      if (m.tries >= maxRetries) {
        this.missing.delete(seq);
        continue;
      }
      if (m.nextAt > now) continue;
      m.tries++;
      m.nextAt = now + retryIntervalMs;
      due.push(seq);
    }
    return due;
  }

  /** An RFC 3550 §6.4.1 report block on this stream, advancing the interval counters. */
  reportBlock(now: number): ReportBlock {
    const t = this.tracker;
    const expected = t.expected;
    const expectedInterval = expected - this.reportExpected;
    const receivedInterval = t.received - this.reportReceived;
    this.reportExpected = expected;
    this.reportReceived = t.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const sr = this.lastSr;
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      cumulativeLost: t.lost,
      highestSequence: t.extendedMax >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lastSenderReport: sr ? compactNtp(sr.ntpTime) : 0,
      delaySinceLastSenderReport: sr ? Math.floor(((now - sr.at) / 1000) * 65536) >>> 0 : 0,
    };
  }

  private updateBitrate(bytes: number, now: number): void {
    if (now - this.windowStart >= 1000) {
      if (Number.isFinite(this.windowStart)) {
        const seconds = (now - this.windowStart) / 1000;
        this.measuredBitrate = seconds < 2 ? (this.windowBytes * 8) / seconds : 0;
      }
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
  }

  // Interarrival jitter, RFC 3550 §6.4.1 and A.8, in timestamp units.
  private updateJitter(timestamp: number, now: number): void {
    const arrival = (now * this.clockRate) / 1000;
    const transit = arrival - timestamp;
    if (!Number.isNaN(this.lastTransit)) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > 0x80000000) d = 0x100000000 - d;
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }
}
