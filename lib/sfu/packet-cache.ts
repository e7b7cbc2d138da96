/** Slots per storage chunk: one buffer serves this many packets. */
const CHUNK_SLOTS = 32;

/**
 * The retransmission cache of one incoming stream: a ring of `size` slots indexed by sequence
 * number, each holding a copy of a clear packet and its arrival time. Bounded by count (the
 * ring) and by age (`get` refuses older packets).
 *
 * Packets are copied into chunks of `CHUNK_SLOTS` slots of `slotBytes` each, made when first
 * needed and then reused: filling the ring makes one buffer per 32 packets, not one per
 * packet. (A Buffer per slot meant a thousand objects per stream promoted to the old
 * generation while a new stream warmed its cache, and the mark-sweeps that freed the last
 * stream's were in the forwarded packets' latency.) A packet longer than `slotBytes` gets a
 * buffer of its own.
 */
export class PacketCache {
  private readonly chunks: (Buffer | undefined)[];
  /** Packets longer than `slotBytes`, by slot (rare: RTP packets fit a 1,500 B MTU). */
  private readonly oversize = new Map<number, Buffer>();
  private readonly lengths: Int32Array;
  private readonly seqs: Int32Array;
  private readonly times: Float64Array;
  constructor(
    readonly size: number,
    readonly maxAgeMs: number,
    private readonly slotBytes = 1500,
  ) {
    this.chunks = new Array<Buffer | undefined>(Math.ceil(size / CHUNK_SLOTS));
    this.lengths = new Int32Array(size);
    this.seqs = new Int32Array(size).fill(-1);
    this.times = new Float64Array(size);
  }

  /** Stores a copy of `packet` (its sequence number `seq`) received at `now`. */
  put(seq: number, packet: Uint8Array, now: number): void {
    const i = seq % this.size;
    if (packet.length > this.slotBytes) {
      this.oversize.set(i, Buffer.from(packet));
    } else {
      if (this.oversize.size > 0) this.oversize.delete(i);
      const c = (i / CHUNK_SLOTS) | 0;
      let chunk = this.chunks[c];
      if (chunk === undefined) {
        chunk = Buffer.allocUnsafeSlow(CHUNK_SLOTS * this.slotBytes);
        this.chunks[c] = chunk;
      }
      chunk.set(packet, (i - c * CHUNK_SLOTS) * this.slotBytes);
    }
    this.lengths[i] = packet.length;
    this.seqs[i] = seq;
    this.times[i] = now;
  }

  has(seq: number): boolean {
    return this.seqs[seq % this.size] === seq;
  }

  /** A view of the cached packet, valid until the slot is reused; undefined if absent or old. */
  get(seq: number, now: number): Buffer | undefined {
    const i = seq % this.size;
    if (this.seqs[i] !== seq || now - this.times[i]! > this.maxAgeMs) return undefined;
    const length = this.lengths[i]!;
    if (length > this.slotBytes) return this.oversize.get(i);
    const c = (i / CHUNK_SLOTS) | 0;
    const at = (i - c * CHUNK_SLOTS) * this.slotBytes;
    return this.chunks[c]!.subarray(at, at + length);
  }

  clear(): void {
    this.seqs.fill(-1);
    this.chunks.fill(undefined);
    this.oversize.clear();
  }
}
