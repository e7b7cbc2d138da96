import { FEEDBACK_HEADER_LENGTH } from './feedback-header.js';
import {
  PacketType,
  type RawRtcpPacket,
  RTCP_HEADER_LENGTH,
  RTCP_VERSION,
  RtpfbFormat,
} from './header.js';
import { DELTA_UNIT_US, REFERENCE_TIME_UNIT_US, type TransportCcFeedback } from './transport-cc.js';

/**
 * Why `TransportCcReader.read` rejected a message. Stable codes, for counters:
 * - `not-transport-cc`: not RTPFB FMT 15;
 * - `too-short`: no room for the fixed fields (SSRCs, base sequence, count, reference time);
 * - `chunks-short`: the packet chunks describe fewer packets than the status count;
 * - `reserved-symbol`: a chunk uses status symbol 11, reserved (draft §3.1.1);
 * - `deltas-short`: the receive deltas are cut short.
 * Exactly the messages `parseTransportCc` refuses (it returns undefined for each).
 */
export type TransportCcReadError =
  | 'not-transport-cc'
  | 'too-short'
  | 'chunks-short'
  | 'reserved-symbol'
  | 'deltas-short';

/** Packet status symbols (§3.1.1): the values of `TransportCcReader.symbols`. */
export const TransportCcSymbol = { NOT_RECEIVED: 0, SMALL_DELTA: 1, LARGE_DELTA: 2 } as const;

const FIXED_LENGTH = FEEDBACK_HEADER_LENGTH + 8;
const RUN_LENGTH_MAX = 0x1fff;
/** The status count is 16 bits: no message describes more. */
const MAX_STATUSES = 0xffff;

/**
 * Reads transport-wide-cc feedback (RTPFB FMT 15, draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §3.1) into reusable typed arrays instead of an object per packet status: a
 * browser subscriber sends one every 50-100 ms covering every packet sent to it, and
 * `parseTransportCc`'s `PacketStatus` objects were most of an SFU's young garbage at a few
 * hundred subscriber tracks. Entry `i` of the arrays is packet `baseSequence + i` (mod 2^16),
 * for `i < count`; they hold the last message read and are overwritten by the next `read`.
 *
 * The arrays start at `initialCapacity` statuses and are replaced by larger ones (powers of
 * two, up to 65,536) the first time a message needs it: after warm-up, `read` allocates
 * nothing. Never throws on network input: a refused message leaves `count` 0, says why, and
 * is counted in `rejected`.
 */
export class TransportCcReader {
  senderSsrc = 0;
  mediaSsrc = 0;
  baseSequence = 0;
  /** Signed 24-bit, in units of 64 ms. */
  referenceTime = 0;
  feedbackPacketCount = 0;
  /** Packet statuses of the last message read (0 after a refused one). */
  count = 0;
  /** Status symbol of each packet: `TransportCcSymbol` (0 not received, 1 small, 2 large). */
  symbols: Uint8Array;
  /**
   * Receive delta of each packet in µs, as `PacketStatus.arrivalDeltaUs`: arrival minus the
   * previous received packet's (the reference time for the first), 0 when not received.
   */
  deltasUs: Float64Array;
  /**
   * Arrival time of each packet in µs from reference time 0 of the receiver's clock (what
   * `transportCcArrivals` returns); NaN when not received. Reference times are signed, so
   * an arrival time may be negative.
   */
  arrivalsUs: Float64Array;
  /** Messages refused since construction, and the reason of the last one. */
  rejected = 0;
  lastError: TransportCcReadError | undefined;

  constructor(initialCapacity = 256) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new TypeError(`initialCapacity ${initialCapacity} is not a positive integer`);
    }
    const n = Math.min(initialCapacity, MAX_STATUSES + 1);
    this.symbols = new Uint8Array(n);
    this.deltasUs = new Float64Array(n);
    this.arrivalsUs = new Float64Array(n);
  }

  /** Transport-wide sequence number of status `i`. */
  seq(i: number): number {
    return (this.baseSequence + i) & 0xffff;
  }

  received(i: number): boolean {
    return this.symbols[i] !== TransportCcSymbol.NOT_RECEIVED;
  }

  /**
   * Reads one raw packet (from `parseCompound`). Returns undefined when it was read, else why
   * not. Bytes after the last delta (zero padding to 32 bits) are ignored, as the parser does.
   */
  read(p: RawRtcpPacket): TransportCcReadError | undefined {
    if (p.type !== PacketType.RTPFB || p.count !== RtpfbFormat.TRANSPORT_CC) {
      return this.refuse('not-transport-cc');
    }
    return this.readBody(p.view);
  }

  /**
   * Reads a datagram that is one transport-cc packet and nothing else: what a browser sends
   * between its compound reports once rtcp-rsize is negotiated (RFC 5506 reduced-size RTCP),
   * read in place with no split. `not-alone` (nothing read, nothing counted) for any other
   * datagram, a compound one or one whose header does not hold together (padding included):
   * those are for `parseCompound`, which says why.
   */
  readAlone(datagram: Uint8Array): TransportCcReadError | 'not-alone' | undefined {
    const d = datagram;
    const length = d.length;
    if (length < RTCP_HEADER_LENGTH || d[0]! >> 6 !== RTCP_VERSION) return 'not-alone';
    if (d[1] !== PacketType.RTPFB || (d[0]! & 0x1f) !== RtpfbFormat.TRANSPORT_CC) {
      return 'not-alone';
    }
    if ((((d[2]! << 8) | d[3]!) + 1) * 4 !== length) return 'not-alone';
    let end = length;
    if (d[0]! & 0x20) {
      // RFC 3550 §6.4.1: the last octet counts the padding, itself included.
      const padding = d[length - 1]!;
      if (padding === 0 || padding > length - RTCP_HEADER_LENGTH) return 'not-alone';
      end -= padding;
    }
    return this.readBody(d, RTCP_HEADER_LENGTH, end);
  }

  /**
   * Reads a transport-cc packet's body, `v[start, end)`: the bytes after the 4-byte RTCP
   * common header, padding excluded.
   */
  readBody(v: Uint8Array, start = 0, end = v.length): TransportCcReadError | undefined {
    if (start < 0 || end > v.length || end - start < FIXED_LENGTH) {
      return this.refuse('too-short');
    }
    const statusCount = (v[start + 10]! << 8) | v[start + 11]!;
    this.reserve(statusCount);
    const symbols = this.symbols;
    let have = 0;
    let at = start + FIXED_LENGTH;
    while (have < statusCount) {
      if (at + 2 > end) return this.refuse('chunks-short');
      const chunk = (v[at]! << 8) | v[at + 1]!;
      at += 2;
      const want = statusCount - have;
      if ((chunk & 0x8000) === 0) {
        // Run-length chunk (§3.1.3): a symbol and a 13-bit run. A run of 0 says nothing.
        const symbol = (chunk >> 13) & 0x03;
        const n = Math.min(chunk & RUN_LENGTH_MAX, want);
        if (symbol === 3 && n > 0) return this.refuse('reserved-symbol');
        symbols.fill(symbol, have, have + n);
        have += n;
      } else if ((chunk & 0x4000) === 0) {
        // Status vector of 14 one-bit symbols (§3.1.4): received with a small delta, or not.
        const n = Math.min(14, want);
        for (let k = 0; k < n; k++) symbols[have + k] = (chunk >> (13 - k)) & 0x01;
        have += n;
      } else {
        // Status vector of 7 two-bit symbols; symbols past the status count are not read.
        const n = Math.min(7, want);
        for (let k = 0; k < n; k++) {
          const symbol = (chunk >> (12 - 2 * k)) & 0x03;
          if (symbol === 3) return this.refuse('reserved-symbol');
          symbols[have + k] = symbol;
        }
        have += n;
      }
    }
    const deltas = this.deltasUs;
    const arrivals = this.arrivalsUs;
    const s = start;
    const referenceTime = (((v[s + 12]! << 16) | (v[s + 13]! << 8) | v[s + 14]!) << 8) >> 8;
    let clock = referenceTime * REFERENCE_TIME_UNIT_US;
    for (let i = 0; i < statusCount; i++) {
      const symbol = symbols[i]!;
      if (symbol === TransportCcSymbol.NOT_RECEIVED) {
        deltas[i] = 0;
        arrivals[i] = Number.NaN;
        continue;
      }
      let delta: number;
      if (symbol === TransportCcSymbol.SMALL_DELTA) {
        if (at + 1 > end) return this.refuse('deltas-short');
        delta = v[at]!;
        at += 1;
      } else {
        if (at + 2 > end) return this.refuse('deltas-short');
        delta = (((v[at]! << 8) | v[at + 1]!) << 16) >> 16;
        at += 2;
      }
      const us = delta * DELTA_UNIT_US;
      deltas[i] = us;
      clock += us;
      arrivals[i] = clock;
    }
    this.senderSsrc = ((v[s]! << 24) | (v[s + 1]! << 16) | (v[s + 2]! << 8) | v[s + 3]!) >>> 0;
    this.mediaSsrc = ((v[s + 4]! << 24) | (v[s + 5]! << 16) | (v[s + 6]! << 8) | v[s + 7]!) >>> 0;
    this.baseSequence = (v[s + 8]! << 8) | v[s + 9]!;
    this.referenceTime = referenceTime;
    this.feedbackPacketCount = v[s + 15]!;
    this.count = statusCount;
    this.lastError = undefined;
    return undefined;
  }

  /**
   * Loads an already-decoded feedback (for callers holding the object form), so one consumer
   * serves both. Status `i` is taken as packet `baseSequence + i`, as the encoder requires;
   * the symbol of a received packet is the one its delta would be written with.
   */
  load(fb: TransportCcFeedback): void {
    const n = fb.packets.length;
    if (n > MAX_STATUSES) throw new TypeError('at most 65535 packet statuses');
    this.reserve(n);
    let clock = fb.referenceTime * REFERENCE_TIME_UNIT_US;
    for (let i = 0; i < n; i++) {
      const p = fb.packets[i]!;
      if (!p.received) {
        this.symbols[i] = TransportCcSymbol.NOT_RECEIVED;
        this.deltasUs[i] = 0;
        this.arrivalsUs[i] = Number.NaN;
        continue;
      }
      const units = Math.round(p.arrivalDeltaUs / DELTA_UNIT_US);
      this.symbols[i] =
        units >= 0 && units <= 0xff ? TransportCcSymbol.SMALL_DELTA : TransportCcSymbol.LARGE_DELTA;
      this.deltasUs[i] = p.arrivalDeltaUs;
      clock += p.arrivalDeltaUs;
      this.arrivalsUs[i] = clock;
    }
    this.senderSsrc = fb.senderSsrc;
    this.mediaSsrc = fb.mediaSsrc;
    this.baseSequence = fb.baseSequence & 0xffff;
    this.referenceTime = fb.referenceTime;
    this.feedbackPacketCount = fb.feedbackPacketCount;
    this.count = n;
    this.lastError = undefined;
  }

  private refuse(reason: TransportCcReadError): TransportCcReadError {
    this.count = 0;
    this.rejected++;
    this.lastError = reason;
    return reason;
  }

  /** Makes the arrays hold at least `n` statuses (n ≤ 65535). */
  private reserve(n: number): void {
    if (n <= this.symbols.length) return;
    let size = this.symbols.length;
    while (size < n) size *= 2;
    size = Math.min(size, MAX_STATUSES + 1);
    this.symbols = new Uint8Array(size);
    this.deltasUs = new Float64Array(size);
    this.arrivalsUs = new Float64Array(size);
  }
}
