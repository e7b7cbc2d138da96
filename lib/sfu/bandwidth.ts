import { type TransportCcFeedback, TransportCcReader } from '../rtcp/index.js';

const RING = 4096;

/**
 * Where feedback given in object form is loaded, so both forms go through one loop: shared by
 * every estimator of the thread (it is filled and read within one call).
 */
const objectForm = new TransportCcReader();

/** Clean feedback (loss < 2%) needed before a probe, ms. */
const PROBE_CLEAN_MS = 1000;
/** Wait after the first failed probe, ms; doubles per failure up to PROBE_BACKOFF_MAX_MS. */
const PROBE_BACKOFF_MS = 3000;
const PROBE_BACKOFF_MAX_MS = 30_000;
/** A cut (loss > 10%) this soon after a probe started fails the probe, ms. */
const PROBE_WINDOW_MS = 4000;

/**
 * A deliberately simple send-side estimate of one subscriber leg's bandwidth: REMB (the
 * receiver's own estimate) is taken as is; transport-wide-cc feedback gives the delivered rate
 * and loss of the packets it covers, and the estimate follows a loss-based AIMD (as in the
 * loss controller of draft-ietf-rmcat-gcc §6): loss over 10% cuts it to the delivered rate
 * scaled by (1 - loss/2), loss under 2% lets it grow 8% per feedback, bounded by 1.5× what
 * was actually delivered so an application-limited leg does not inflate it.
 *
 * That bound alone would keep a leg cut down to its lowest layer there for good (the lowest
 * layer's 1.5× is below the next layer), so the estimator probes: when the allocator says the
 * leg wants more (`want`) and feedback has been clean for a second, the estimate is raised
 * optimistically to what is wanted; the allocator then switches up at the next key frame and
 * transport-cc measures the real traffic. A cut within 4 s fails the probe: the estimate goes
 * back to what it was before, and the next probe waits 3 s, doubling per failure up to 30 s;
 * a probe that survives at (or above) the failed target resets the back-off. (A
 * timed raise instead of padding probes: no extra bytes, nothing for the browser to discard,
 * and all of it sans-IO in this class; the cost is that a failed probe costs the subscriber a
 * few hundred ms of a layer too high, bounded by the back-off.)
 */
export class BandwidthEstimator {
  /** Current estimate, bit/s. */
  estimate: number;
  /** Loss fraction of the last transport-cc feedback. */
  lastLoss = 0;
  private readonly sizes = new Uint16Array(RING);
  private readonly seqs = new Int32Array(RING).fill(-1);
  /** What the leg's consumers would use one step up, bit/s (0: nothing more wanted). */
  private wanted = 0;
  private cleanSince: number | undefined;
  private backoffMs = PROBE_BACKOFF_MS;
  private nextProbeAt = 0;
  private probeStartedAt: number | undefined;
  /** The estimate before the running probe (validated), and the lowest target that failed. */
  private probeFrom = 0;
  private failedTarget = Number.POSITIVE_INFINITY;
  private probeFailed = false;
  /** Probes started and failed, for stats and tests. */
  probes = 0;
  failedProbes = 0;

  constructor(initial: number) {
    this.estimate = initial;
  }

  /** Records a packet sent on the leg with transport-wide sequence number `seq`. */
  onSent(seq: number, bytes: number): void {
    const i = seq % RING;
    this.seqs[i] = seq;
    this.sizes[i] = Math.min(bytes, 0xffff);
  }

  /**
   * The bitrate the leg would use with its next layer up (0 when every consumer has what it
   * prefers): the target of the next probe. Called by the allocator.
   */
  want(bitrate: number): void {
    this.wanted = bitrate;
  }

  onRemb(bitrate: number): void {
    this.estimate = bitrate;
  }

  /**
   * A transport-cc feedback from the leg's receiver: a decoded message, or (allocation-free,
   * the SFU's path) a `TransportCcReader` holding the message just read. `now` (ms, any
   * monotonic clock) enables probing; without it the estimate only follows.
   */
  onTransportCc(fb: TransportCcFeedback | TransportCcReader, now?: number): void {
    let r: TransportCcReader;
    if (fb instanceof TransportCcReader) {
      r = fb;
    } else {
      objectForm.load(fb);
      r = objectForm;
    }
    const arrivals = r.arrivalsUs;
    const total = r.count;
    let lost = 0;
    let bytes = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < total; k++) {
      if (!r.received(k)) {
        lost++;
        continue;
      }
      const at = arrivals[k]!;
      const seq = r.seq(k);
      if (this.seqs[seq % RING] === seq) bytes += this.sizes[seq % RING]!;
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    if (total === 0) return;
    const loss = lost / total;
    this.lastLoss = loss;
    const spanUs = last - first;
    const delivered = spanUs > 0 ? (bytes * 8 * 1e6) / spanUs : 0;
    if (loss > 0.1) {
      const base = delivered > 0 ? Math.min(this.estimate, delivered) : this.estimate;
      this.estimate = Math.max(10_000, base * (1 - loss / 2));
    } else if (loss < 0.02) {
      const grown = this.estimate * 1.08;
      const cap = delivered > 0 ? Math.max(this.estimate, delivered * 1.5) : this.estimate;
      this.estimate = Math.min(grown, cap);
    }
    if (now !== undefined) this.probe(loss, now);
  }

  private probe(loss: number, now: number): void {
    const inProbe =
      this.probeStartedAt !== undefined && now - this.probeStartedAt < PROBE_WINDOW_MS;
    if (loss > 0.1) {
      this.cleanSince = undefined;
      if (!inProbe) return;
      if (!this.probeFailed) {
        this.probeFailed = true;
        this.failedProbes++;
        this.nextProbeAt = now + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, PROBE_BACKOFF_MAX_MS);
        this.failedTarget = Math.min(this.failedTarget, this.wanted);
      }
      // The cuts measure the probe's overload (until the leg is back down), not the leg: back
      // to the estimate that held before the probe.
      this.estimate = Math.max(this.estimate, this.probeFrom);
      return;
    }
    if (loss >= 0.02) {
      this.cleanSince = undefined;
      return;
    }
    this.cleanSince ??= now;
    if (inProbe) return;
    if (this.probeStartedAt !== undefined) {
      this.probeStartedAt = undefined;
      // A success below the target that failed says nothing about that target.
      if (!this.probeFailed && this.estimate >= this.failedTarget) {
        this.backoffMs = PROBE_BACKOFF_MS;
        this.failedTarget = Number.POSITIVE_INFINITY;
      }
    }
    if (
      this.wanted > this.estimate &&
      now - this.cleanSince >= PROBE_CLEAN_MS &&
      now >= this.nextProbeAt
    ) {
      this.probes++;
      this.probeStartedAt = now;
      this.probeFailed = false;
      this.probeFrom = this.estimate;
      this.estimate = this.wanted;
    }
  }
}
