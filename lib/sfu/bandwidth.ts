import { type TransportCcFeedback, transportCcArrivals } from '../rtcp/index.js';

const RING = 4096;

/**
 * A deliberately simple send-side estimate of one subscriber leg's bandwidth: REMB (the
 * receiver's own estimate) is taken as is; transport-wide-cc feedback gives the delivered rate
 * and loss of the packets it covers, and the estimate follows a loss-based AIMD (as in the
 * loss controller of draft-ietf-rmcat-gcc §6): loss over 10% cuts it to the delivered rate
 * scaled by (1 - loss/2), loss under 2% lets it grow 8% per feedback, bounded by 1.5× what
 * was actually delivered so an application-limited leg does not inflate it.
 */
export class BandwidthEstimator {
  /** Current estimate, bit/s. */
  estimate: number;
  /** Loss fraction of the last transport-cc feedback. */
  lastLoss = 0;
  private readonly sizes = new Uint16Array(RING);
  private readonly seqs = new Int32Array(RING).fill(-1);

  constructor(initial: number) {
    this.estimate = initial;
  }

  /** Records a packet sent on the leg with transport-wide sequence number `seq`. */
  onSent(seq: number, bytes: number): void {
    const i = seq % RING;
    this.seqs[i] = seq;
    this.sizes[i] = Math.min(bytes, 0xffff);
  }

  onRemb(bitrate: number): void {
    this.estimate = bitrate;
  }

  onTransportCc(fb: TransportCcFeedback): void {
    const arrivals = transportCcArrivals(fb);
    let lost = 0;
    let bytes = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < fb.packets.length; k++) {
      const at = arrivals[k];
      if (at === undefined) {
        lost++;
        continue;
      }
      const seq = fb.packets[k]!.seq;
      if (this.seqs[seq % RING] === seq) bytes += this.sizes[seq % RING]!;
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    const total = fb.packets.length;
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
  }
}
