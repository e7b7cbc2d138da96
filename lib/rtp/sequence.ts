/**
 * RTP sequence-number (16-bit) and timestamp (32-bit) arithmetic with wrap-around, and an
 * extended-sequence-number tracker in the style of RFC 3550 Appendix A.1.
 *
 * "Newer" is serial-number order (RFC 1982): `a` is newer than `b` when going forward from `b`
 * reaches `a` in less than half the number space. At exactly half the space the order is
 * undefined by RFC 1982; like libwebrtc we call the numerically larger one newer, so that
 * `isNewer(a, b)` and `isNewer(b, a)` are never both true.
 */

const SEQ_MOD = 0x10000;
const SEQ_HALF = 0x8000;
const TS_MOD = 0x100000000;
const TS_HALF = 0x80000000;

/** True when sequence number `a` comes after `b` (mod 2^16). */
export function seqIsNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && (d < SEQ_HALF || (d === SEQ_HALF && a > b));
}

/** Signed distance `a - b` in [-32768, 32767]: 0 - 65535 is 1, 65535 - 0 is -1. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= SEQ_HALF ? d - SEQ_MOD : d;
}

/** `a + n` mod 2^16 (`n` may be negative). */
export function seqAdd(a: number, n: number): number {
  return (((a + n) % SEQ_MOD) + SEQ_MOD) % SEQ_MOD;
}

/** True when timestamp `a` comes after `b` (mod 2^32). */
export function tsIsNewer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && (d < TS_HALF || (d === TS_HALF && a > b));
}

/** Signed distance `a - b` in [-2^31, 2^31 - 1]: 0 - (2^32 - 1) is 1. */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a + n` mod 2^32 (`n` may be negative). */
export function tsAdd(a: number, n: number): number {
  return (((a + n) % TS_MOD) + TS_MOD) % TS_MOD;
}

export interface SequenceTrackerOptions {
  /**
   * Packets in sequence needed before a new source is valid (RFC 3550 A.1 MIN_SEQUENTIAL).
   * Defaults to 0: the first packet is accepted (a DTLS-SRTP peer is already authenticated).
   */
  minSequential?: number;
  /** Largest forward jump taken as loss rather than a restart (MAX_DROPOUT). Defaults to 3000. */
  maxDropout?: number;
  /** Largest backward step taken as reordering (MAX_MISORDER). Defaults to 100. */
  maxMisorder?: number;
}

/**
 * Turns 16-bit sequence numbers into extended ones (cycles × 2^16 + seq), exact as Numbers up
 * to 2^53. `update` returns the extended number of the packet, also for late (reordered or
 * duplicate) packets, which are placed relative to the highest seen; it returns -1 while the
 * source is on probation and for the first packet of a large jump. A second packet right after
 * a large jump restarts the count there, as A.1 does (`cycles` back to 0).
 */
export class SequenceTracker {
  readonly minSequential: number;
  readonly maxDropout: number;
  readonly maxMisorder: number;
  /** Highest sequence number seen (16-bit). */
  maxSeq = 0;
  /** Sequence-number cycles × 2^16. */
  cycles = 0;
  /** Extended number of the first packet counted. */
  baseSeq = 0;
  /** Packets accepted, duplicates included (as A.1 counts them). */
  received = 0;
  /** Restarts after a large jump. */
  restarts = 0;
  private badSeq = SEQ_MOD + 1;
  private probation = 0;
  private started = false;

  constructor(options: SequenceTrackerOptions = {}) {
    this.minSequential = check('minSequential', options.minSequential ?? 0, 0, 100);
    this.maxDropout = check('maxDropout', options.maxDropout ?? 3000, 1, SEQ_HALF - 1);
    this.maxMisorder = check('maxMisorder', options.maxMisorder ?? 100, 0, SEQ_HALF - 1);
  }

  /** Extended highest sequence number (A.1 `cycles + max_seq`). */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected since the first counted one (A.3). */
  get expected(): number {
    return this.received === 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative packets lost (A.3); negative with duplicates, as in RFC 3550. */
  get lost(): number {
    return this.expected - this.received;
  }

  /** Counts `seq` and returns its extended number, or -1 if it is not (yet) accepted. */
  update(seq: number): number {
    seq &= 0xffff;
    if (!this.started) {
      this.started = true;
      this.restart(seq);
      if (this.minSequential > 0) {
        this.maxSeq = (seq - 1) & 0xffff;
        this.probation = this.minSequential;
      } else {
        this.received = 1;
        return seq;
      }
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.restart(seq);
          this.received = 1;
          return seq;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return -1;
    }
    if (udelta < this.maxDropout) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - this.maxMisorder) {
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return -1;
      }
      // Two packets in sequence after a big jump: the source restarted (A.1).
      this.restart(seq);
      this.restarts++;
    } else {
      // Late or duplicate: place it behind the highest seen, possibly in the previous cycle.
      const ext = this.extendedMax + seqDiff(seq, this.maxSeq);
      if (ext < 0) return -1;
      this.received++;
      return ext;
    }
    this.received++;
    return this.extendedMax;
  }

  private restart(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
  }
}

function check(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`SequenceTracker: ${name} must be an integer in [${min}, ${max}]`);
  }
  return v;
}
