/**
 * Buffers for packets, carved from 64 kB ArrayBuffers: the same idea as Node's own
 * `Buffer.allocUnsafe` pool, whose 8 kB slabs hold only six 1,200-byte packets, so a media
 * forwarder made one ArrayBuffer (a native allocation and a GC-tracked backing store) every
 * six packets it copied or protected. Here one serves ~50.
 *
 * Each buffer returned is its own: no other `take` overlaps it, and it stays valid for as long
 * as it is referenced (a slab lives while any of its buffers does). Its content is not
 * initialised. Requests over a quarter of a slab get a buffer of their own.
 */
export class PacketSlab {
  #slab: ArrayBuffer;
  #used = 0;

  constructor(readonly slabBytes = 64 * 1024) {
    if (!(Number.isInteger(slabBytes) && slabBytes >= 1024)) {
      throw new TypeError('PacketSlab: slabBytes must be an integer >= 1024');
    }
    this.#slab = new ArrayBuffer(slabBytes);
  }

  /** A buffer of `size` bytes, not zeroed. */
  take(size: number): Buffer {
    if (size > this.slabBytes >>> 2) return Buffer.allocUnsafe(size);
    let at = this.#used;
    if (at + size > this.slabBytes) {
      this.#slab = new ArrayBuffer(this.slabBytes);
      at = 0;
    }
    // 8-byte alignment, as Node's pool keeps, so word-sized reads stay aligned.
    this.#used = (at + size + 7) & ~7;
    return Buffer.from(this.#slab, at, size);
  }
}

/** The process's shared slab for per-packet buffers (the hot paths are single-threaded). */
export const packetSlab = new PacketSlab();
