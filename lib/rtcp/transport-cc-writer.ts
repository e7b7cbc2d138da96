import { PacketType, pad4, RTCP_HEADER_LENGTH, RtpfbFormat, writeHeader } from './header.js';
import { DELTA_UNIT_US, REFERENCE_TIME_UNIT_US } from './transport-cc.js';

const NOT_RECEIVED = 0;
const SMALL_DELTA = 1;
const LARGE_DELTA = 2;
const RUN_LENGTH_MAX = 0x1fff;
const MAX_STATUSES = 0xffff;
/** SSRCs, base sequence, status count, reference time, feedback packet count. */
const FIXED_LENGTH = 16;

/**
 * Writes the transport-cc feedback a receiver sends (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §3.1) from arrival times pushed one by one, into reused typed arrays and the
 * caller's buffer: the same bytes as `encodeRtcp([transportCcFromArrivals(...)])` (same
 * reference time, same rounding against the running sum, same greedy chunk choice) without a
 * `PacketStatus` object, a plan object or an array per packet status. An SFU acknowledges
 * every packet its publishers send this way, every 50 ms.
 *
 * Use: `reset()`, `push(arrivalUs)` per packet from the base sequence on (NaN: not received),
 * then `size()` and `write(...)`. The arrays grow (once) to the largest message written.
 */
export class TransportCcWriter {
  /** Statuses pushed since `reset`. */
  count = 0;
  /** Of which received. */
  received = 0;
  private arrivals: Float64Array;
  private symbols: Uint8Array;
  private deltas: Int16Array;
  private chunks: Uint16Array;
  /** The plan below is for the statuses pushed (false after `push` or `reset`). */
  private planned = false;
  private chunkCount = 0;
  private deltaBytes = 0;
  private referenceTime = 0;

  constructor(initialCapacity = 512) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new TypeError(`initialCapacity ${initialCapacity} is not a positive integer`);
    }
    const n = Math.min(initialCapacity, MAX_STATUSES);
    this.arrivals = new Float64Array(n);
    this.symbols = new Uint8Array(n);
    this.deltas = new Int16Array(n);
    this.chunks = new Uint16Array(n);
  }

  reset(): void {
    this.count = 0;
    this.received = 0;
    this.planned = false;
  }

  /** The next packet's arrival time in µs (any epoch, the receiver's clock); NaN if lost. */
  push(arrivalUs: number): void {
    if (this.count >= MAX_STATUSES) throw new TypeError('at most 65535 packet statuses');
    if (this.count === this.arrivals.length) this.grow();
    this.arrivals[this.count++] = arrivalUs;
    if (!Number.isNaN(arrivalUs)) this.received++;
    this.planned = false;
  }

  /** Bytes the message will take, zero-padded to 32 bits. Throws TypeError as `write`. */
  size(): number {
    this.plan();
    return pad4(RTCP_HEADER_LENGTH + FIXED_LENGTH + this.chunkCount * 2 + this.deltaBytes);
  }

  /**
   * Writes the message at `offset` (zero-padded to 32 bits without the P bit, as the
   * encoder does); returns its size. TypeError when no packet was received or a delta does
   * not fit 16 bits of 250 µs, RangeError when `out` is too small.
   */
  write(
    out: Buffer,
    offset: number,
    senderSsrc: number,
    mediaSsrc: number,
    baseSequence: number,
    feedbackPacketCount: number,
  ): number {
    const size = this.size();
    writeHeader(out, offset, PacketType.RTPFB, RtpfbFormat.TRANSPORT_CC, size);
    let at = offset + RTCP_HEADER_LENGTH;
    out.writeUInt32BE(senderSsrc >>> 0, at);
    out.writeUInt32BE(mediaSsrc >>> 0, at + 4);
    out.writeUInt16BE(baseSequence & 0xffff, at + 8);
    out.writeUInt16BE(this.count, at + 10);
    out.writeIntBE(this.referenceTime, at + 12, 3);
    out[at + 15] = feedbackPacketCount & 0xff;
    at += FIXED_LENGTH;
    for (let c = 0; c < this.chunkCount; c++) {
      out.writeUInt16BE(this.chunks[c]!, at);
      at += 2;
    }
    for (let i = 0; i < this.count; i++) {
      const symbol = this.symbols[i];
      if (symbol === SMALL_DELTA) {
        out[at++] = this.deltas[i]!;
      } else if (symbol === LARGE_DELTA) {
        out.writeInt16BE(this.deltas[i]!, at);
        at += 2;
      }
    }
    out.fill(0, at, offset + size);
    return size;
  }

  /** Symbols, deltas (in 250 µs units), reference time and chunks, as the encoder picks them. */
  private plan(): void {
    if (this.planned) return;
    if (this.received === 0) throw new TypeError('transport-cc feedback needs a received packet');
    const n = this.count;
    const arrivals = this.arrivals;
    const symbols = this.symbols;
    let first = 0;
    while (Number.isNaN(arrivals[first]!)) first++;
    // As transportCcFromArrivals: the first arrival floored to 64 ms, then each delta rounded
    // against the running sum of rounded deltas, so rounding does not drift.
    const reference = Math.floor(arrivals[first]! / REFERENCE_TIME_UNIT_US);
    let clock = reference * REFERENCE_TIME_UNIT_US;
    let deltaBytes = 0;
    for (let i = 0; i < n; i++) {
      const arrival = arrivals[i]!;
      if (Number.isNaN(arrival)) {
        symbols[i] = NOT_RECEIVED;
        continue;
      }
      const units = Math.round((arrival - clock) / DELTA_UNIT_US);
      clock += units * DELTA_UNIT_US;
      if (units >= 0 && units <= 0xff) {
        symbols[i] = SMALL_DELTA;
        deltaBytes += 1;
      } else if (units >= -0x8000 && units <= 0x7fff) {
        symbols[i] = LARGE_DELTA;
        deltaBytes += 2;
      } else {
        throw new TypeError(
          `receive delta ${units * DELTA_UNIT_US} µs does not fit 16 bits of 250 µs`,
        );
      }
      this.deltas[i] = units;
    }
    this.referenceTime = (reference << 8) >> 8;
    this.deltaBytes = deltaBytes;
    this.chunkCount = this.chunk();
    this.planned = true;
  }

  /**
   * The encoder's greedy choice: a run-length chunk for a run of 14 or more (or one that ends
   * the message), else a 1-bit vector when the next 14 symbols need no large delta, else a
   * run-length chunk for a run of 7 or more, else a 2-bit vector of 7.
   */
  private chunk(): number {
    const symbols = this.symbols;
    const chunks = this.chunks;
    const n = this.count;
    let c = 0;
    let i = 0;
    while (i < n) {
      const symbol = symbols[i]!;
      let run = 1;
      while (i + run < n && symbols[i + run] === symbol && run < RUN_LENGTH_MAX) run++;
      if (run >= 14 || run === n - i) {
        chunks[c++] = (symbol << 13) | run;
        i += run;
        continue;
      }
      const window = Math.min(14, n - i);
      let large = false;
      for (let k = 0; k < window && !large; k++) large = symbols[i + k] === LARGE_DELTA;
      if (!large) {
        let chunk = 0x8000;
        for (let k = 0; k < window; k++) chunk |= symbols[i + k]! << (13 - k);
        chunks[c++] = chunk;
        i += window;
      } else if (run >= 7) {
        chunks[c++] = (symbol << 13) | run;
        i += run;
      } else {
        const seven = Math.min(7, n - i);
        let chunk = 0xc000;
        for (let k = 0; k < seven; k++) chunk |= symbols[i + k]! << (12 - 2 * k);
        chunks[c++] = chunk;
        i += seven;
      }
    }
    return c;
  }

  private grow(): void {
    const size = Math.min(this.arrivals.length * 2, MAX_STATUSES);
    const arrivals = new Float64Array(size);
    arrivals.set(this.arrivals);
    this.arrivals = arrivals;
    this.symbols = new Uint8Array(size);
    this.deltas = new Int16Array(size);
    this.chunks = new Uint16Array(size);
  }
}
