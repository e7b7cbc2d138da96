import type { Cipher } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Slot, viewOf } from './views.js';

/**
 * SRTP packets whose keystream one ECB call makes ahead, per SSRC. A stream's indices come in
 * order (the sender's are consecutive; a receiver's mostly so), so one native call and one
 * result buffer serve this many packets instead of one: the per-call cost of node:crypto
 * (~450 ns) and the per-packet allocation are what dominate AES-CM here, not AES itself.
 * 16 rather than 8: the same CPU per packet (sfu core bench, 3 alternating pairs, plain and
 * with results released), half the JS garbage of the ECB calls (the router's JS heap per
 * forwarded packet 26 -> 15 B; 37 -> 20 B with release()), for twice the run memory per SSRC.
 */
export const RUN_PACKETS = 16; // a power of two: runs end where (index + ssrc) % RUN_PACKETS is 0
/** SSRCs with a keystream run kept, per session key (a run of 1,200 B packets is ~20 kB). */
export const MAX_RUNS = 64;
const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Counter blocks are written and consumed by one synchronous ECB call, so every KeystreamRuns
 * of the thread shares one scratch (as large as the largest run, ~24 kB for 1,500 B packets)
 * instead of holding one each; `views` are its prefixes by length, so a run makes no subarray.
 */
const scratch = {
  counters: Buffer.alloc(1536),
  /** A DataView over `counters` (its whole ArrayBuffer), for 32-bit counter stores. */
  words: new DataView(new ArrayBuffer(0)),
  views: new Map<number, Buffer>(),
};
scratch.words = new DataView(scratch.counters.buffer);

/**
 * Writes the first counter block of packet `index` of `ssrc` into `block` (16 bytes); `words`
 * is a DataView over the same 16 bytes, for writing it as four big-endian 32-bit words.
 */
export type FirstBlock = (block: Buffer, ssrc: number, index: number, words: DataView) => void;

/**
 * Keystream for SRTP indices [first, first + count) of one SSRC, `stride` bytes each (a
 * multiple of 16, at least the largest packet seen when it was made). Keystream is a function
 * of key, SSRC and index only, so using it later, for either direction, is the same as making
 * it then; holding it is no weaker than holding the key.
 */
interface Run {
  first: number;
  count: number;
  stride: number;
  /** Largest request served from this run: the next run's stride. */
  largest: number;
  keystream: Buffer;
  /** A DataView over `keystream`'s ArrayBuffer, made with it (once per run, not per packet). */
  view: DataView;
  /**
   * views[p]: packet p's keystream from byte `viewSkip` to the end of its stride, for
   * `payload`; made when first needed and kept while the buffer and the stride stay (no view
   * per packet).
   */
  views: (Uint8Array | undefined)[];
  viewsStride: number;
}

/**
 * Counter-mode keystream (AES-CM, RFC 3711 §4.1.1; GCM's CTR part, RFC 7714 §8) from an AES
 * ECB cipher kept open for the session: block b of a packet is its first block with
 * b added to the last 16 bits (a packet has far fewer than 2^16 blocks, and both profiles
 * leave room there). `keystream` returns a buffer holding the packet's keystream and sets
 * `view`/`viewOffset` to a DataView over that buffer's ArrayBuffer and where the keystream
 * starts in it; all stay valid until the next call. Not reentrant.
 */
export class KeystreamRuns {
  /** A DataView over the last result's ArrayBuffer (kept per run: no view per packet). */
  view: DataView = EMPTY_VIEW;
  /** Where the last result's keystream starts in `view`. */
  viewOffset = 0;
  /** The run and packet of the last result; no run for a packet made alone (`single`). */
  private lastRun: Run | undefined = undefined;
  private lastAt = 0;
  private readonly runs = new Map<number, Run>();
  private readonly first = Buffer.alloc(16);
  private readonly firstWords = new DataView(this.first.buffer, this.first.byteOffset, 16);

  /**
   * `viewSkip`: where `payload` starts in a packet's keystream (GCM: 16, after E_K(J0)).
   */
  constructor(
    private readonly cipher: Cipher,
    private readonly firstBlock: FirstBlock,
    private readonly viewSkip = 0,
  ) {}

  /**
   * The last result's keystream from byte `viewSkip` on, as a Uint8Array at least as long as
   * was asked for minus `viewSkip` (its stride's end), when it came from a run; undefined for
   * a packet made alone. Found only when asked for (GCM protect); valid until the next call.
   */
  get payload(): Uint8Array | undefined {
    return this.lastRun === undefined ? undefined : this.payloadOf(this.lastRun, this.lastAt);
  }

  /**
   * `bytes` of keystream for packet `index` of `ssrc`: from the SSRC's run when the index is
   * in it or just past it (then a new run is made from `index`), else (a late, reordered
   * packet from before the run) made for this packet alone.
   */
  keystream(ssrc: number, index: number, bytes: number): Buffer {
    let run = this.runs.get(ssrc);
    if (run === undefined) {
      if (this.runs.size >= MAX_RUNS) {
        const oldest = this.runs.keys().next();
        if (oldest.done !== true) this.runs.delete(oldest.value);
      }
      run = {
        first: 0,
        count: 0,
        stride: 0,
        largest: 0,
        keystream: EMPTY,
        view: EMPTY_VIEW,
        views: [],
        viewsStride: 0,
      };
      this.runs.set(ssrc, run);
    }
    const at = index - run.first;
    if (at < 0) return this.single(ssrc, index, bytes);
    if (at < run.count && bytes <= run.stride) {
      if (bytes > run.largest) run.largest = bytes;
      this.lastRun = run;
      this.lastAt = at;
      return this.result(run.keystream, run.view, at * run.stride);
    }
    // A new run from `index`, each packet as long as the largest of the last run. It ends
    // where (index + ssrc) is a multiple of RUN_PACKETS, so runs of different SSRCs end on
    // different packets: the streams a fan-out sends start together (every subscriber of a
    // track gets its packets at once, every room's publisher starts on a join), and runs of a
    // fixed length from the first packet made every stream's ECB call fall due in the same
    // millisecond, one burst of hundreds of calls every RUN_PACKETS packets.
    const count = RUN_PACKETS - ((index + ssrc) & (RUN_PACKETS - 1));
    const stride = (Math.max(bytes, run.largest) + 15) & ~15;
    const perPacket = stride >>> 4;
    const counters = this.counterBlocks(perPacket * count);
    for (let p = 0; p < count; p++) {
      this.firstBlock(this.first, ssrc, index + p, this.firstWords);
      writeCounters(counters.byteOffset + p * stride, this.firstWords, perPacket);
    }
    // The run keeps its own buffer and the ECB result is copied into it: the result dies in
    // this call, while a run lives ~160 ms at 100 packets/s, long enough for a fresh buffer to
    // survive two scavenges into the old generation, whose ArrayBuffers only mark-sweeps
    // free (external memory then climbed to V8's limit and forced 10–25 ms full GCs).
    const fresh = this.cipher.update(this.counterView(stride * count));
    if (run.keystream.length < fresh.length) {
      run.keystream = Buffer.allocUnsafeSlow(fresh.length);
      run.view = new DataView(run.keystream.buffer);
      run.views = [];
    }
    run.keystream.set(fresh);
    release(fresh);
    const keystream = run.keystream;
    run.first = index;
    run.count = count;
    run.stride = stride;
    run.largest = bytes;
    this.lastRun = run;
    this.lastAt = 0;
    return this.result(keystream, run.view, 0);
  }

  /** Packet `p` of `run`'s keystream from `viewSkip` to its stride's end (cached). */
  private payloadOf(run: Run, p: number): Uint8Array {
    if (run.viewsStride !== run.stride) {
      run.views = [];
      run.viewsStride = run.stride;
    }
    let v = run.views[p];
    if (v === undefined) {
      const start = p * run.stride + this.viewSkip;
      v = run.keystream.subarray(start, (p + 1) * run.stride);
      run.views[p] = v;
    }
    return v;
  }

  /**
   * Drops the run of `ssrc`: after a packet failed authentication whose keystream was needed
   * to check it (GCM), so forged indices cannot push a stream's run ahead of its real packets.
   */
  forget(ssrc: number): void {
    this.runs.delete(ssrc);
  }

  /** Keystream for one packet, outside any run. */
  single(ssrc: number, index: number, bytes: number): Buffer {
    const blocks = (bytes + 15) >>> 4;
    const counters = this.counterBlocks(blocks);
    this.firstBlock(this.first, ssrc, index, this.firstWords);
    writeCounters(counters.byteOffset, this.firstWords, blocks);
    const keystream = this.cipher.update(this.counterView(blocks * 16));
    this.lastRun = undefined;
    return this.result(keystream, new DataView(keystream.buffer), 0);
  }

  private result(keystream: Buffer, view: DataView, offset: number): Buffer {
    this.view = view;
    this.viewOffset = keystream.byteOffset + offset;
    return keystream;
  }

  /** The shared counter scratch's first `bytes` as a Buffer. */
  private counterView(bytes: number): Buffer {
    let v = scratch.views.get(bytes);
    if (v === undefined) {
      if (scratch.views.size >= 16) scratch.views.clear();
      v = scratch.counters.subarray(0, bytes);
      scratch.views.set(bytes, v);
    }
    return v;
  }

  /** The counter-block scratch, at least `blocks` blocks long. */
  private counterBlocks(blocks: number): Buffer {
    if (scratch.counters.length < blocks * 16) {
      scratch.counters = Buffer.alloc(blocks * 16);
      scratch.words = new DataView(scratch.counters.buffer);
      scratch.views.clear();
    }
    return scratch.counters;
  }
}

/** ArrayBuffer.prototype.transfer's signature (ES2024; lib ES2023 does not declare it). */
type Transfer = (this: ArrayBuffer, newLength: number) => ArrayBuffer;

function asTransfer(f: unknown): Transfer | undefined {
  return typeof f === 'function' ? (f as Transfer) : undefined;
}

/**
 * ArrayBuffer.prototype.transfer when this Node has it (Node 22; Node 20 under the V8 flag
 * `--harmony-rab-gsab-transfer`), or the one enableEcbResultRelease() found.
 */
let transfer = asTransfer(Reflect.get(ArrayBuffer.prototype, 'transfer'));

/**
 * Frees the memory of an ECB result that was copied out, now instead of at the next scavenge:
 * detaching its ArrayBuffer (transfer(0)) drops node:crypto's backing store at once. Without
 * it every result (~20 kB per run) waits for a GC, tens of MB of them between scavenges, so
 * each ECB call writes fresh, cold memory (malloc, zero-fill, AES output, copy): measured
 * 11-17% less CPU per protected 1,200 B GCM packet at 200 keys on Node 22, 7-14% on Node 20
 * with the flag (interleaved A/B, 2026-11-29). It costs one empty ArrayBuffer per run (~10 B
 * of JS garbage per packet). A no-op where transfer is missing (Node 20 by default, unless
 * enableEcbResultRelease() ran); turned off for good if a transfer ever throws.
 */
function release(result: Buffer): void {
  if (transfer === undefined) return;
  // Only a result that is its whole ArrayBuffer (node:crypto's are): never a pooled slice.
  if (result.byteOffset !== 0 || result.buffer.byteLength !== result.length) return;
  try {
    transfer.call(result.buffer as ArrayBuffer, 0);
  } catch {
    transfer = undefined;
  }
}

/**
 * Turns on release() on a Node without ArrayBuffer.prototype.transfer in this realm (Node 20):
 * sets V8's `--harmony-rab-gsab-transfer` (which only new contexts see) and takes transfer from
 * a new vm context; it works on this realm's ArrayBuffers. A process-wide V8 flag change, so
 * it is for the program's entry point to call (like node's own flags), not done at import.
 * Returns whether results are now released; idempotent.
 */
export function enableEcbResultRelease(): boolean {
  if (transfer !== undefined) return true;
  try {
    setFlagsFromString('--harmony-rab-gsab-transfer');
    transfer = asTransfer(runInNewContext('ArrayBuffer.prototype.transfer'));
  } catch {
    transfer = undefined;
  }
  return transfer !== undefined;
}

/** Whether ECB results are released at once (see release()). */
export function ecbResultReleaseEnabled(): boolean {
  return transfer !== undefined;
}

/**
 * Writes `blocks` counter blocks first, first + 1, … (+1 in the last 16 bits, wrapping there)
 * at byte `at` of the counter scratch's ArrayBuffer, in 32-bit stores: the first three words
 * of every block are the first block's, the fourth counts.
 */
function writeCounters(at: number, first: DataView, blocks: number): void {
  const w = scratch.words;
  const w0 = first.getInt32(0);
  const w1 = first.getInt32(4);
  const w2 = first.getInt32(8);
  const w3 = first.getInt32(12);
  const high = w3 & ~0xffff;
  for (let b = 0, i = at; b < blocks; b++, i += 16) {
    w.setInt32(i, w0);
    w.setInt32(i + 4, w1);
    w.setInt32(i + 8, w2);
    w.setInt32(i + 12, high | ((w3 + b) & 0xffff));
  }
}

/**
 * out[at + i] = src[at + i] ^ keystream[ksAt + i] for i < n, four bytes at a time; `ks` is a
 * DataView over the keystream's ArrayBuffer and `ksAt` counted in it (KeystreamRuns.view and
 * viewOffset).
 */
export function xorInto(
  out: Uint8Array,
  at: number,
  src: Uint8Array,
  ks: DataView,
  ksAt: number,
  n: number,
): void {
  if (n <= 0) return;
  const o = viewOf(out, Slot.out);
  const s = viewOf(src, Slot.src);
  const oa = out.byteOffset + at;
  const sa = src.byteOffset + at;
  const words = n & ~3;
  for (let i = 0; i < words; i += 4) o.setInt32(oa + i, s.getInt32(sa + i) ^ ks.getInt32(ksAt + i));
  for (let i = words; i < n; i++) o.setUint8(oa + i, s.getUint8(sa + i) ^ ks.getUint8(ksAt + i));
}
