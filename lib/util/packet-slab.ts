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

/**
 * Buffers for datagrams a UDP socket sends synchronously (Node's `dgram` does unless the
 * kernel's send buffer is full), reused once sent: `slots` fixed slots of `slotBytes` in one
 * ArrayBuffer, taken round robin, each keeping its last view while the size repeats (media
 * packets mostly do), so a datagram costs no allocation. Sound only for a sender that queues
 * at most `slots - 1` datagrams between sends and calls `renew` after a send that the socket
 * queued instead (`socket.getSendQueueCount() > 0`): the queued buffers keep the old memory.
 * Larger requests get a `packetSlab` buffer.
 */
export class DatagramPool {
  #memory: ArrayBuffer;
  readonly #views: (Buffer | undefined)[];
  #next = 0;

  constructor(
    readonly slots = 64,
    readonly slotBytes = 2048,
  ) {
    if (!(Number.isInteger(slots) && slots >= 2 && Number.isInteger(slotBytes) && slotBytes > 0)) {
      throw new TypeError('DatagramPool: slots >= 2 and slotBytes > 0, integers');
    }
    this.#memory = new ArrayBuffer(slots * slotBytes);
    this.#views = new Array<Buffer | undefined>(slots).fill(undefined);
  }

  /** A buffer of `size` bytes, not zeroed, valid until `slots` more are taken. */
  take(size: number): Buffer {
    if (size > this.slotBytes) return packetSlab.take(size);
    const i = this.#next;
    this.#next = i + 1 === this.slots ? 0 : i + 1;
    let view = this.#views[i];
    if (view === undefined || view.length !== size) {
      view = Buffer.from(this.#memory, i * this.slotBytes, size);
      this.#views[i] = view;
    }
    return view;
  }

  /** Leaves every buffer taken so far to its holders: later ones come from new memory. */
  renew(): void {
    this.#memory = new ArrayBuffer(this.slots * this.slotBytes);
    this.#views.fill(undefined);
    this.#next = 0;
  }
}
