import {
  FEEDBACK_HEADER_LENGTH,
  type FeedbackHeader,
  readFeedbackHeader,
  writeFeedbackHeader,
} from './feedback-header.js';
import {
  PacketType,
  pad4,
  type RawRtcpPacket,
  RTCP_HEADER_LENGTH,
  RtpfbFormat,
  writeHeader,
} from './header.js';

/** Receive deltas are in multiples of 250 µs (draft-holmer-…-01 §3.1.5). */
export const DELTA_UNIT_US = 250;
/** Reference time is in multiples of 64 ms (§3.1). */
export const REFERENCE_TIME_UNIT_US = 64_000;

/** Packet status symbols (§3.1.1). */
const NOT_RECEIVED = 0;
const SMALL_DELTA = 1;
const LARGE_DELTA = 2;

const RUN_LENGTH_MAX = 0x1fff;
const FIXED_LENGTH = FEEDBACK_HEADER_LENGTH + 8;

export interface PacketStatus {
  /** Transport-wide sequence number. */
  seq: number;
  received: boolean;
  /**
   * Arrival time minus the previous received packet's (the reference time for the first one
   * in the message), in µs, a multiple of 250; 0 when not received.
   */
  arrivalDeltaUs: number;
}

/** Transport-wide congestion control feedback (RTPFB FMT 15, draft-holmer-…-01 §3.1). */
export interface TransportCcFeedback extends FeedbackHeader {
  kind: 'transport-cc';
  baseSequence: number;
  /** Signed 24-bit, in units of 64 ms. */
  referenceTime: number;
  /** Feedback packet count, 8 bits, to detect lost feedback. */
  feedbackPacketCount: number;
  /** One entry per packet from `baseSequence` on (packet status count = length). */
  packets: PacketStatus[];
}

/** Appends the symbols of one packet chunk to `symbols`, at most `want` of them. */
function readChunk(chunk: number, want: number, symbols: number[]): boolean {
  if ((chunk & 0x8000) === 0) {
    const symbol = (chunk >> 13) & 0x03;
    const n = Math.min(chunk & RUN_LENGTH_MAX, want);
    for (let i = 0; i < n; i++) symbols.push(symbol);
    return symbol !== 3 || n === 0;
  }
  if ((chunk & 0x4000) === 0) {
    const n = Math.min(14, want);
    for (let i = 0; i < n; i++) symbols.push((chunk >> (13 - i)) & 0x01);
    return true;
  }
  const n = Math.min(7, want);
  for (let i = 0; i < n; i++) {
    const symbol = (chunk >> (12 - 2 * i)) & 0x03;
    if (symbol === 3) return false; // reserved
    symbols.push(symbol);
  }
  return true;
}

/**
 * Decodes the feedback. Returns undefined when the chunks describe fewer packets than the
 * status count, a chunk uses the reserved symbol, or the receive deltas are cut short.
 * Bytes after the last delta (zero padding to 32 bits) are ignored.
 */
export function parseTransportCc(p: RawRtcpPacket): TransportCcFeedback | undefined {
  if (p.type !== PacketType.RTPFB || p.count !== RtpfbFormat.TRANSPORT_CC) return undefined;
  const v = p.view;
  const h = readFeedbackHeader(v);
  if (!h || v.length < FIXED_LENGTH) return undefined;
  const baseSequence = v.readUInt16BE(8);
  const statusCount = v.readUInt16BE(10);
  const symbols: number[] = [];
  let at = FIXED_LENGTH;
  while (symbols.length < statusCount) {
    if (at + 2 > v.length) return undefined;
    if (!readChunk(v.readUInt16BE(at), statusCount - symbols.length, symbols)) return undefined;
    at += 2;
  }
  const packets: PacketStatus[] = new Array(statusCount);
  for (let i = 0; i < statusCount; i++) {
    const symbol = symbols[i]!;
    let delta = 0;
    if (symbol === SMALL_DELTA) {
      if (at + 1 > v.length) return undefined;
      delta = v[at]!;
      at += 1;
    } else if (symbol === LARGE_DELTA) {
      if (at + 2 > v.length) return undefined;
      delta = v.readInt16BE(at);
      at += 2;
    }
    packets[i] = {
      seq: (baseSequence + i) & 0xffff,
      received: symbol !== NOT_RECEIVED,
      arrivalDeltaUs: delta * DELTA_UNIT_US,
    };
  }
  return {
    kind: 'transport-cc',
    ...h,
    baseSequence,
    referenceTime: v.readIntBE(12, 3),
    feedbackPacketCount: v[15]!,
    packets,
  };
}

/** The wire form a message will take: its symbols, chunks and delta byte count. */
interface Plan {
  symbols: number[];
  deltas: number[];
  chunks: number[];
  deltaBytes: number;
}

function symbolOf(status: PacketStatus): { symbol: number; delta: number } {
  if (!status.received) return { symbol: NOT_RECEIVED, delta: 0 };
  const delta = Math.round(status.arrivalDeltaUs / DELTA_UNIT_US);
  if (delta >= 0 && delta <= 0xff) return { symbol: SMALL_DELTA, delta };
  if (delta >= -0x8000 && delta <= 0x7fff) return { symbol: LARGE_DELTA, delta };
  throw new TypeError(`receive delta ${status.arrivalDeltaUs} µs does not fit 16 bits of 250 µs`);
}

function runLength(symbols: readonly number[], from: number): number {
  let n = 1;
  while (from + n < symbols.length && symbols[from + n] === symbols[from] && n < RUN_LENGTH_MAX) {
    n++;
  }
  return n;
}

/**
 * Chooses chunks greedily: a run-length chunk for a run of 14 or more (or one that ends the
 * message), else a 1-bit status vector when the next 14 symbols need no large delta, else a
 * run-length chunk for a run of 7 or more, else a 2-bit vector of 7.
 */
function chunksFor(symbols: readonly number[]): number[] {
  const chunks: number[] = [];
  let i = 0;
  while (i < symbols.length) {
    const run = runLength(symbols, i);
    const rest = symbols.length - i;
    if (run >= 14 || run === rest) {
      chunks.push((symbols[i]! << 13) | run);
      i += run;
      continue;
    }
    const window = symbols.slice(i, i + 14);
    if (!window.includes(LARGE_DELTA)) {
      let chunk = 0x8000;
      for (let k = 0; k < window.length; k++) chunk |= window[k]! << (13 - k);
      chunks.push(chunk);
      i += window.length;
    } else if (run >= 7) {
      chunks.push((symbols[i]! << 13) | run);
      i += run;
    } else {
      const seven = symbols.slice(i, i + 7);
      let chunk = 0xc000;
      for (let k = 0; k < seven.length; k++) chunk |= seven[k]! << (12 - 2 * k);
      chunks.push(chunk);
      i += seven.length;
    }
  }
  return chunks;
}

function plan(fb: TransportCcFeedback): Plan {
  if (fb.packets.length > 0xffff) throw new TypeError('at most 65535 packet statuses');
  const symbols: number[] = [];
  const deltas: number[] = [];
  let deltaBytes = 0;
  for (let i = 0; i < fb.packets.length; i++) {
    const status = fb.packets[i]!;
    if (status.seq !== ((fb.baseSequence + i) & 0xffff)) {
      throw new TypeError(`packet ${i} has seq ${status.seq}, not baseSequence + ${i}`);
    }
    const { symbol, delta } = symbolOf(status);
    symbols.push(symbol);
    deltas.push(delta);
    deltaBytes += symbol;
  }
  return { symbols, deltas, chunks: chunksFor(symbols), deltaBytes };
}

function sizeOf(p: Plan): number {
  return pad4(RTCP_HEADER_LENGTH + FIXED_LENGTH + p.chunks.length * 2 + p.deltaBytes);
}

export const transportCcEncoder = {
  size(fb: TransportCcFeedback): number {
    return sizeOf(plan(fb));
  },
  /** Writes the message zero-padded to 32 bits without the P bit, so it may sit anywhere. */
  write(fb: TransportCcFeedback, out: Buffer, offset: number): number {
    const p = plan(fb);
    const size = sizeOf(p);
    writeHeader(out, offset, PacketType.RTPFB, RtpfbFormat.TRANSPORT_CC, size);
    let at = offset + RTCP_HEADER_LENGTH;
    writeFeedbackHeader(fb, out, at);
    out.writeUInt16BE(fb.baseSequence & 0xffff, at + 8);
    out.writeUInt16BE(fb.packets.length, at + 10);
    out.writeIntBE((fb.referenceTime << 8) >> 8, at + 12, 3);
    out[at + 15] = fb.feedbackPacketCount & 0xff;
    at += FIXED_LENGTH;
    for (const chunk of p.chunks) {
      out.writeUInt16BE(chunk, at);
      at += 2;
    }
    for (let i = 0; i < p.symbols.length; i++) {
      if (p.symbols[i] === SMALL_DELTA) {
        out[at++] = p.deltas[i]!;
      } else if (p.symbols[i] === LARGE_DELTA) {
        out.writeInt16BE(p.deltas[i]!, at);
        at += 2;
      }
    }
    out.fill(0, at, offset + size);
    return size;
  },
};

/** What `transportCcFromArrivals` needs besides the arrival times. */
export interface TransportCcArrivals extends FeedbackHeader {
  baseSequence: number;
  feedbackPacketCount: number;
  /**
   * Arrival time in µs (any epoch, e.g. the receiver's monotonic clock) of packet
   * baseSequence + i, or undefined if it was not received. At least one must be defined.
   */
  arrivalsUs: readonly (number | undefined)[];
}

/**
 * Builds the feedback a receiver sends (draft §3.1): the reference time is the first arrival
 * floored to 64 ms, and each delta is rounded against the running sum of rounded deltas, not
 * the previous arrival, so rounding errors do not accumulate over a long message.
 */
export function transportCcFromArrivals(a: TransportCcArrivals): TransportCcFeedback {
  const first = a.arrivalsUs.find((x) => x !== undefined);
  if (first === undefined) throw new TypeError('transport-cc feedback needs a received packet');
  const reference = Math.floor(first / REFERENCE_TIME_UNIT_US);
  let clock = reference * REFERENCE_TIME_UNIT_US;
  const packets: PacketStatus[] = a.arrivalsUs.map((arrival, i) => {
    const seq = (a.baseSequence + i) & 0xffff;
    if (arrival === undefined) return { seq, received: false, arrivalDeltaUs: 0 };
    const delta = Math.round((arrival - clock) / DELTA_UNIT_US) * DELTA_UNIT_US;
    clock += delta;
    return { seq, received: true, arrivalDeltaUs: delta };
  });
  return {
    kind: 'transport-cc',
    senderSsrc: a.senderSsrc,
    mediaSsrc: a.mediaSsrc,
    baseSequence: a.baseSequence & 0xffff,
    referenceTime: (reference << 8) >> 8,
    feedbackPacketCount: a.feedbackPacketCount & 0xff,
    packets,
  };
}

/**
 * The other direction, for a sender matching feedback to what it sent: arrival time in µs of
 * each packet (undefined if lost), measured from reference time 0 of the receiver's clock.
 */
export function transportCcArrivals(fb: TransportCcFeedback): (number | undefined)[] {
  let clock = fb.referenceTime * REFERENCE_TIME_UNIT_US;
  return fb.packets.map((p) => {
    if (!p.received) return undefined;
    clock += p.arrivalDeltaUs;
    return clock;
  });
}
