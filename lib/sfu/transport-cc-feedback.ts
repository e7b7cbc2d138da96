import {
  type TransportCcFeedback,
  TransportCcWriter,
  transportCcFromArrivals,
} from '../rtcp/index.js';
import { seqDiff } from '../rtp/index.js';

const RING = 4096;
/** Packet statuses per feedback message: keeps one message well under an MTU. */
const MAX_STATUSES = 400;
/** A receive delta must fit 16 bits of 250 µs (draft-holmer-…-01 §3.1.5): about ±8.19 s. */
const MAX_DELTA_US = 8_000_000;

/**
 * Where `pollRtcp` builds its messages: shared by every generator of the thread (each poll
 * writes and copies out within one call). Sized for a full ring: 11 messages of at most 400
 * statuses, each under 20 + 800 + 800 bytes.
 */
const writer = new TransportCcWriter(MAX_STATUSES);
const scratch = Buffer.alloc(Math.ceil(RING / MAX_STATUSES) * (20 + 4 * MAX_STATUSES + 4));
/** One message's arrival times, clamped (`clampArrivals`): shared the same way. */
const clamped = new Float64Array(MAX_STATUSES);

/**
 * The receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-
 * cc-extensions-01 §3) for one publisher's transport: records the arrival time of each
 * transport-wide sequence number and, every `intervalMs`, turns what arrived since the last
 * feedback into transport-cc messages. Without it a publisher that negotiated transport-cc
 * (Chromium always offers it) gets no feedback, and its send-side estimate sinks instead of
 * growing: a simulcast publisher then never sends its upper layers. Sans-IO: times in ms from
 * the caller's clock; allocates nothing per recorded packet.
 */
export class TransportCcFeedbackGenerator {
  private readonly arrivals = new Float64Array(RING);
  private readonly seqs = new Int32Array(RING).fill(-1);
  /** Extended sequence number of the next packet to report; -1 before the first packet. */
  private base = -1;
  /** Highest extended sequence number recorded. */
  private highest = -1;
  private feedbackCount = 0;
  private mediaSsrc = 0;
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(readonly intervalMs = 50) {}

  /** A packet of `ssrc` carrying transport-wide sequence number `seq` arrived at `now` ms. */
  record(seq: number, ssrc: number, now: number): void {
    let ext: number;
    if (this.highest < 0) {
      // Start high enough that reordered packets before the first one stay positive.
      ext = (seq & 0xffff) + 0x10000;
      this.base = ext;
      this.highest = ext;
    } else {
      ext = this.highest + seqDiff(seq & 0xffff, this.highest & 0xffff);
      if (ext < this.base) return; // already reported as lost: too late
      if (ext > this.highest) this.highest = ext;
    }
    const i = ext % RING;
    this.seqs[i] = ext;
    this.arrivals[i] = now;
    this.mediaSsrc = ssrc >>> 0;
    // Never keep more unreported packets than the ring holds.
    if (this.highest - this.base >= RING) this.base = this.highest - RING + 1;
  }

  /**
   * The feedback due at `now` (an empty list if it is not time yet or nothing arrived since
   * the last one): statuses from the last reported packet on, split into messages of at most
   * 400 statuses.
   */
  poll(now: number, senderSsrc: number): TransportCcFeedback[] {
    if (!this.due(now)) return [];
    const out: TransportCcFeedback[] = [];
    while (this.base <= this.highest) {
      const n = Math.min(MAX_STATUSES, this.highest - this.base + 1);
      if (this.clampArrivals(n) > 0) {
        const arrivalsUs = Array.from(clamped.subarray(0, n), (us) =>
          Number.isNaN(us) ? undefined : us,
        );
        out.push(
          transportCcFromArrivals({
            senderSsrc,
            mediaSsrc: this.mediaSsrc,
            baseSequence: this.base & 0xffff,
            feedbackPacketCount: this.feedbackCount++ & 0xff,
            arrivalsUs,
          }),
        );
      }
      this.base += n;
    }
    return out;
  }

  /**
   * What `poll` returns, already encoded as one datagram (`encodeRtcp(poll(...))`, byte for
   * byte), or undefined: written by a shared TransportCcWriter with no object per packet
   * status (the objects `poll` makes were ~260 B of garbage per packet a publisher sent).
   */
  pollRtcp(now: number, senderSsrc: number): Buffer | undefined {
    if (!this.due(now)) return undefined;
    let length = 0;
    while (this.base <= this.highest) {
      const n = Math.min(MAX_STATUSES, this.highest - this.base + 1);
      if (this.clampArrivals(n) > 0) {
        writer.reset();
        for (let k = 0; k < n; k++) writer.push(clamped[k]!);
        const count = this.feedbackCount++ & 0xff;
        length += writer.write(scratch, length, senderSsrc, this.mediaSsrc, this.base, count);
      }
      this.base += n;
    }
    if (length === 0) return undefined;
    // Byte by byte: Buffer#copy from part of a buffer makes a view to copy from.
    const datagram = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) datagram[i] = scratch[i]!;
    return datagram;
  }

  /**
   * The arrival times of the `n` statuses from `base` into `clamped` (µs; NaN: not received),
   * each within a receive delta's reach of the previous one received; returns how many were
   * received. One walk for both `poll` and `pollRtcp`.
   */
  private clampArrivals(n: number): number {
    let previous = Number.NaN;
    let received = 0;
    for (let k = 0; k < n; k++) {
      const ext = this.base + k;
      const i = ext % RING;
      if (this.seqs[i] !== ext) {
        clamped[k] = Number.NaN;
        continue;
      }
      let us = this.arrivals[i]! * 1000;
      if (received > 0) {
        us = Math.min(Math.max(us, previous - MAX_DELTA_US), previous + MAX_DELTA_US);
      }
      previous = us;
      clamped[k] = us;
      received++;
    }
    return received;
  }

  /** Whether feedback is due at `now` (and if so, the next one's time is set). */
  private due(now: number): boolean {
    if (now < this.nextAt || this.highest < this.base || this.base < 0) return false;
    this.nextAt = now + this.intervalMs;
    return true;
  }
}
