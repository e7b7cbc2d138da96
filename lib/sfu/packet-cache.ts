/**
 * The retransmission cache of one incoming stream: a ring of `size` slots indexed by sequence
 * number, each holding a copy of a clear packet and its arrival time. Bounded by count (the
 * ring) and by age (`get` refuses older packets). Slot buffers are reused once warm, so the
 * hot path does not allocate.
 */
export class PacketCache {
  private readonly slots: (Buffer | undefined)[];
  private readonly lengths: Int32Array;
  private readonly seqs: Int32Array;
  private readonly times: Float64Array;
  constructor(
    readonly size: number,
    readonly maxAgeMs: number,
    private readonly slotBytes = 1500,
  ) {
    this.slots = new Array<Buffer | undefined>(size);
    this.lengths = new Int32Array(size);
    this.seqs = new Int32Array(size).fill(-1);
    this.times = new Float64Array(size);
  }

  /** Stores a copy of `packet` (its sequence number `seq`) received at `now`. */
  put(seq: number, packet: Uint8Array, now: number): void {
    const i = seq % this.size;
    let slot = this.slots[i];
    if (!slot || slot.length < packet.length) {
      slot = Buffer.allocUnsafe(Math.max(packet.length, this.slotBytes));
      this.slots[i] = slot;
    }
    slot.set(packet);
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
    return this.slots[i]!.subarray(0, this.lengths[i]);
  }

  clear(): void {
    this.seqs.fill(-1);
    this.slots.fill(undefined);
  }
}
