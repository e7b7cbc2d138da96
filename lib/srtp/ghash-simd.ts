import { Code, encodeModule, ValType } from '../util/wasm-encoder.js';
import { fillProducts, Ghash, powersOfH, tagWordsEqual, writeTagWords } from './ghash.js';
import { xorInto } from './keystream-runs.js';
import { Slot, viewOf } from './views.js';

/**
 * GHASH (NIST SP 800-38D §6.4) in WebAssembly SIMD with every key's table RESIDENT in one
 * shared linear memory: the same methods and semantics as `Ghash` (lib/srtp/ghash.ts) as
 * transform-gcm.ts uses it, so either class can seal and open AES-GCM SRTP (RFC 7714).
 *
 * The kernel (built from TypeScript with lib/util/wasm-encoder.ts when first needed; no .wasm
 * file): X·H = XOR over the 16 bytes X_i of X of M[X_i]·x^(8i), M[b] = b·H (Shoup's 8-bit
 * table, 4 kB per key: row b at table + 16b). Values are kept byte-reversed (little-endian
 * 128-bit integers, where ·x is a right shift): M[X_i]·x^(8i) before reduction is the row moved
 * i bytes across a 256-bit value, two constant i8x16.shuffle of the row with zero (the low and
 * the high half; x64 `palignr`). A block is 16 independent row loads, 30 shuffles and XORs into
 * 4 + 4 accumulators; the high part folds back as hi·(1 + x + x^2 + x^7) (x^128 mod P) with
 * 64-bit lane shifts. Per protected 1,200 B packet, ~1.5-1.8x faster than the JS Ghash at 1 to
 * 1,000 keys (bench/RESULTS.md, SRTP). The round-6 experiment's layout (each row padded with 16
 * zero bytes, two unaligned loads per byte, no shuffles; removed from bench/) measured
 * the same at 30 keys but ~10-25% slower per packet at 300-1,000 keys: 8 kB per key no longer
 * fits in L2 (interleaved runs, 2026-11-29).
 *
 * Memory: page 0 is the scratch (Y at 0, the data to absorb at DATA_AT, up to CHUNK bytes;
 * then seal's plaintext/ciphertext and keystream, CHUNK bytes each);
 * from page 1 on, fixed slots of SLOT_BYTES (4 kB, the table, 64-byte aligned), one per live
 * key, handed out from a free list. When the list is empty the memory grows (slots doubled, at
 * least 64) up to MAX_KEYS live keys (65,536: 256 MB of linear memory at most; a 500-track
 * SFU with one RTP and one RTCP key per transport uses ~1,000 slots, ~4 MB); the next key
 * past that throws
 * `GhashSimdError('ghash-simd-full')`. WebAssembly memory never shrinks: freed slots are
 * reused, so the memory is the peak of live keys, not the number ever made. `release()` frees
 * the slot (idempotent); a FinalizationRegistry frees it if the object is collected unreleased
 * (a safety net: collection may come late or, at exit, never).
 *
 * Calls are batched: update and blocks copy their blocks into the scratch (word stores, each
 * block reversed; no view made per call), seal has the kernel's `seal` put its ciphertext
 * there (v128 XOR, blocks reversed by a shuffle), and `absorb` runs once, at finish() or when
 * Y is read (y0…y3, writeTag, tagEquals), when the scratch is full, or when another key
 * starts using the scratch (its pending blocks are absorbed first). A protected packet is two
 * calls into WebAssembly (seal, then absorb at finish).
 */

/** Why a GhashSimd could not be made or used (stable codes). */
export type GhashSimdErrorCode =
  /** This runtime has no WebAssembly (e.g. `node --jitless`) or no SIMD: use `Ghash`. */
  | 'ghash-simd-unavailable'
  /** MAX_KEYS keys are live, or the memory could not grow: release some (or use `Ghash`). */
  | 'ghash-simd-full'
  /** The object was released; its slot may serve another key now. */
  | 'ghash-simd-released';

export class GhashSimdError extends Error {
  readonly code: GhashSimdErrorCode;
  constructor(code: GhashSimdErrorCode, message: string) {
    super(message);
    this.name = 'GhashSimdError';
    this.code = code;
  }
}

/** Live keys at most (slots of linear memory); the memory's maximum is sized from it. */
export const MAX_KEYS = 65536;
/** Bytes of linear memory per key (its table). */
export const SLOT_BYTES = 4096;
const PAGE = 65536;
/** Y, 16 bytes, byte-reversed. */
const Y_AT = 0;
/** The data the next kernel call absorbs (blocks byte-reversed). */
const DATA_AT = 64;
/**
 * Bytes of data one kernel call may absorb: 16 kB, so the scratch stays in L1 when one key
 * absorbs much without finish() (a packet is at most ~1,500 B).
 */
const CHUNK = 16384;
/** seal's plaintext, then (in place) its ciphertext: up to CHUNK bytes. */
const TEXT_AT = DATA_AT + CHUNK;
/** seal's keystream: up to CHUNK bytes (page 0 ends at TEXT_AT + 2·CHUNK = 49,216 B). */
const KS_AT = TEXT_AT + CHUNK;
/** Ciphertext lengths whose view of TEXT_AT is kept (≤ 2,048 views, ~200 kB at most). */
const TEXT_VIEWS = 2048;
const noTexts = (): (Uint8Array | undefined)[] =>
  Array.from({ length: TEXT_VIEWS + 1 }, () => undefined);
/** Where slot s (its row 0) starts. */
const slotStart = (s: number) => PAGE + s * SLOT_BYTES;
const MAX_PAGES = 1 + Math.ceil((MAX_KEYS * SLOT_BYTES) / PAGE);

/** Y = (Y XOR X)·H for each block X of memory[p, end); row b of the table at t + 16b. */
function absorbCode(): Code {
  const P = 0;
  const END = 1;
  const T = 2;
  const Y = 3;
  const LO = 4; // LO..LO+3: low halves of the products, 4 accumulators
  const HI = 8; // HI..HI+3: high halves
  const W = 12; // W..W+3: the words of Y XOR X
  const R = 16; // the row of the byte
  const Z = 17; // zero (locals start zeroed)
  const c = new Code();
  c.i32Const(Y_AT).v128Load().set(Y);
  c.block();
  c.get(P).get(END).i32LtU().i32Eqz().brIf(0);
  c.loop();
  c.get(Y).get(P).v128Load().v128Xor().set(Y);
  for (let k = 0; k < 4; k++)
    c.get(Y)
      .i32x4ExtractLane(k)
      .set(W + k);
  // Reversed byte k (field byte i = 15 - k) is bits 8m… of word k >> 2 (m = k & 3); its row
  // is at t + 16·byte. Its product moves i bytes toward lane 0 across (low ‖ high): the low
  // half is lanes i… of (row ‖ 0), the high half lanes i… of (0 ‖ row) (nothing for i = 0).
  for (let k = 0; k < 16; k++) {
    const i = 15 - k;
    const m = k & 3;
    const acc = k & 3;
    c.get(W + (k >> 2));
    if (m === 0) c.i32Const(4).i32Shl();
    else c.i32Const(8 * m - 4).i32ShrU();
    c.i32Const(0xff0).i32And().get(T).i32Add().v128Load();
    if (i === 0) {
      c.get(LO + acc)
        .v128Xor()
        .set(LO + acc);
      continue;
    }
    c.tee(R);
    c.get(Z).i8x16Shuffle(SHIFT[i] as number[]);
    if (k < 4) c.set(LO + acc);
    else
      c.get(LO + acc)
        .v128Xor()
        .set(LO + acc);
    c.get(Z)
      .get(R)
      .i8x16Shuffle(SHIFT[i] as number[]);
    if (k < 4) c.set(HI + acc);
    else
      c.get(HI + acc)
        .v128Xor()
        .set(HI + acc);
  }
  c.get(LO)
    .get(LO + 1)
    .v128Xor()
    .get(LO + 2)
    .get(LO + 3)
    .v128Xor()
    .v128Xor()
    .set(LO);
  c.get(HI)
    .get(HI + 1)
    .v128Xor()
    .get(HI + 2)
    .get(HI + 3)
    .v128Xor()
    .v128Xor()
    .set(HI);
  // hi·(1 + x + x^2 + x^7) = hi ^ hi >> 1 ^ hi >> 2 ^ hi >> 7 (128-bit shifts: the two 64-bit
  // lanes shifted, plus the high lane's low bits, shifted left 64 − s, moved into the low one).
  c.get(HI).get(HI).i32Const(1).i64x2ShrU().v128Xor();
  c.get(HI).i32Const(2).i64x2ShrU().get(HI).i32Const(7).i64x2ShrU().v128Xor().v128Xor();
  c.get(HI).i32Const(63).i64x2Shl().get(HI).i32Const(62).i64x2Shl().v128Xor();
  c.get(HI).i32Const(57).i64x2Shl().v128Xor();
  c.v128Const(ZERO).i8x16Shuffle(HIGH_LANE_DOWN);
  c.get(LO).v128Xor().v128Xor().set(Y);
  c.get(P).i32Const(16).i32Add().tee(P).get(END).i32LtU().brIf(0);
  c.end();
  c.end();
  c.i32Const(Y_AT).get(Y).v128Store();
  return c;
}

/**
 * GCM-CTR over the `n` bytes at TEXT_AT (n ≤ CHUNK): C = P XOR the keystream at KS_AT, written
 * over P, and each C block byte-reversed to memory[d…] (the data absorb reads); the last
 * partial block's bytes past n are zero in both (a mask: lane j kept where j < n mod 16).
 */
function sealCode(): Code {
  const D = 0;
  const N = 1;
  const I = 2;
  const FULL = 3;
  const C = 4;
  const c = new Code();
  c.get(N).i32Const(~15).i32And().set(FULL);
  c.block();
  c.get(FULL).i32Eqz().brIf(0);
  c.loop();
  c.get(I).get(I).v128Load(TEXT_AT).get(I).v128Load(KS_AT).v128Xor().tee(C).v128Store(TEXT_AT);
  c.get(D).get(I).i32Add().get(C).get(C).i8x16Shuffle(REVERSE).v128Store();
  c.get(I).i32Const(16).i32Add().tee(I).get(FULL).i32LtU().brIf(0);
  c.end();
  c.end();
  c.block();
  c.get(FULL).get(N).i32LtU().i32Eqz().brIf(0);
  c.get(I).v128Load(TEXT_AT).get(I).v128Load(KS_AT).v128Xor();
  c.get(N).get(FULL).i32Sub().i8x16Splat().v128Const(LANES).i8x16GtU().v128And().set(C);
  c.get(I).get(C).v128Store(TEXT_AT);
  c.get(D).get(I).i32Add().get(C).get(C).i8x16Shuffle(REVERSE).v128Store();
  c.end();
  return c;
}

/** Lane numbers 0…15, and the shuffle that reverses a block's bytes. */
const LANES = Array.from({ length: 16 }, (_, j) => j);
const REVERSE = LANES.map((j) => 15 - j);
const ZERO = Array.from({ length: 16 }, () => 0);
/** Shuffle of (a ‖ b): a's high 8 bytes into the low half, b's first 8 (zeros) above. */
const HIGH_LANE_DOWN = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
/** SHIFT[i]: lanes i…i + 15 of (a ‖ b), a's lanes moved down i places (x64 `palignr`). */
const SHIFT = Array.from({ length: 16 }, (_, i) => Array.from({ length: 16 }, (_, j) => i + j));

/**
 * The kernel module's bytes: `absorb(p, end, t)` and `seal(d, n)` over a memory of 1 to
 * MAX_PAGES pages.
 */
export function ghashSimdModuleBytes(): Uint8Array {
  return encodeModule({
    memoryPages: 1,
    maxMemoryPages: MAX_PAGES,
    functions: [
      {
        name: 'absorb',
        params: [ValType.i32, ValType.i32, ValType.i32],
        results: [],
        locals: [
          ...Array.from({ length: 9 }, () => ValType.v128),
          ...Array.from({ length: 4 }, () => ValType.i32),
          ValType.v128,
          ValType.v128,
        ],
        code: absorbCode(),
      },
      {
        name: 'seal',
        params: [ValType.i32, ValType.i32],
        results: [],
        locals: [ValType.i32, ValType.i32, ValType.v128],
        code: sealCode(),
      },
    ],
  });
}

// --- the WebAssembly JS API, found on globalThis (absent under --jitless) --------------------

type Absorb = (p: number, end: number, t: number) => void;
type Seal = (d: number, n: number) => void;

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

function isFunction(f: unknown): f is (...args: unknown[]) => unknown {
  return typeof f === 'function';
}

function isAbsorb(f: unknown): f is Absorb {
  return typeof f === 'function';
}

function isSeal(f: unknown): f is Seal {
  return typeof f === 'function';
}

function isMemory(m: unknown): m is WasmMemory {
  return (
    typeof m === 'object' &&
    m !== null &&
    Reflect.get(m, 'buffer') instanceof ArrayBuffer &&
    isFunction(Reflect.get(m, 'grow'))
  );
}

/** Whether this host stores Int32Array words little-endian, as wasm memory is. */
const littleEndianHost = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The compiled instance's parts, or undefined when this runtime cannot run the kernel. */
function instantiate(): { memory: WasmMemory; absorb: Absorb; seal: Seal } | undefined {
  try {
    const wa: unknown = Reflect.get(globalThis, 'WebAssembly');
    if (!littleEndianHost || typeof wa !== 'object' || wa === null) return undefined;
    const validate: unknown = Reflect.get(wa, 'validate');
    const Module: unknown = Reflect.get(wa, 'Module');
    const Instance: unknown = Reflect.get(wa, 'Instance');
    if (!isFunction(validate) || !isFunction(Module) || !isFunction(Instance)) return undefined;
    const bytes = ghashSimdModuleBytes();
    if (validate.call(wa, bytes) !== true) return undefined;
    const module: unknown = Reflect.construct(Module, [bytes]);
    const instance: unknown = Reflect.construct(Instance, [module, {}]);
    const e: unknown =
      typeof instance === 'object' && instance !== null
        ? Reflect.get(instance, 'exports')
        : undefined;
    if (typeof e !== 'object' || e === null) return undefined;
    const memory: unknown = Reflect.get(e, 'memory');
    const absorb: unknown = Reflect.get(e, 'absorb');
    const seal: unknown = Reflect.get(e, 'seal');
    if (!isMemory(memory) || !isAbsorb(absorb) || !isSeal(seal)) return undefined;
    return { memory, absorb, seal };
  } catch {
    return undefined;
  }
}

/**
 * The one instance of the process: its memory, the views over it (remade when it grows), the
 * free slots, and which key's blocks wait in the scratch.
 */
class Kernel {
  words: Int32Array;
  bytes: Uint8Array;
  readonly absorb: Absorb;
  readonly seal: Seal;
  /** Whose Y is in the scratch, with `pending` bytes of its blocks at DATA_AT. */
  owner: GhashSimd | undefined = undefined;
  pending = 0;
  private readonly memory: WasmMemory;
  /** Free slot numbers (a stack: the last freed is reused first, still warm in cache). */
  private readonly free: number[] = [];
  capacity = 0;
  live = 0;
  /** texts[n]: a view of the n bytes at TEXT_AT (n ≤ TEXT_VIEWS), made on first use. */
  private texts = noTexts();

  constructor(memory: WasmMemory, absorb: Absorb, seal: Seal) {
    this.memory = memory;
    this.absorb = absorb;
    this.seal = seal;
    this.words = new Int32Array(memory.buffer);
    this.bytes = new Uint8Array(memory.buffer);
  }

  /** A view of seal's n bytes of ciphertext (cached up to TEXT_VIEWS bytes: no allocation). */
  text(n: number): Uint8Array {
    if (n > TEXT_VIEWS) return new Uint8Array(this.bytes.buffer, TEXT_AT, n);
    let v = this.texts[n];
    if (v === undefined) {
      v = new Uint8Array(this.bytes.buffer, TEXT_AT, n);
      this.texts[n] = v;
    }
    return v;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** A free slot, growing the memory when none is left; undefined at MAX_KEYS or if grow fails. */
  allocate(): number | undefined {
    if (this.free.length === 0) {
      if (this.capacity >= MAX_KEYS) return undefined;
      const want = Math.min(MAX_KEYS, Math.max(64, this.capacity * 2));
      const pages = 1 + Math.ceil((want * SLOT_BYTES) / PAGE);
      const have = this.memory.buffer.byteLength / PAGE;
      if (pages > have) {
        try {
          this.memory.grow(pages - have);
        } catch {
          return undefined; // the system refused the memory: as full (RangeError from grow)
        }
      }
      // The old ArrayBuffer is detached by grow: every view is remade here (only here).
      this.words = new Int32Array(this.memory.buffer);
      this.bytes = new Uint8Array(this.memory.buffer);
      this.texts = noTexts();
      const total = Math.min(MAX_KEYS, Math.floor(((pages - 1) * PAGE) / SLOT_BYTES));
      for (let s = total - 1; s >= this.capacity; s--) this.free.push(s);
      this.capacity = total;
    }
    this.live++;
    return this.free.pop();
  }

  release(slot: number): void {
    this.live--;
    this.free.push(slot);
  }
}

let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined) {
    const parts = instantiate();
    kernel = parts === undefined ? null : new Kernel(parts.memory, parts.absorb, parts.seal);
  }
  return kernel;
}

/**
 * Whether GhashSimd can run here: false when the runtime has no WebAssembly (`node --jitless`),
 * its SIMD does not validate, or the host is big-endian. Compiles the kernel on the first call
 * (~1 ms); never throws.
 */
export function ghashSimdAvailable(): boolean {
  return getKernel() !== null;
}

/** Live keys, slots made so far, and the linear memory's bytes (tests, metrics). */
export function ghashSimdStats(): { liveKeys: number; slots: number; memoryBytes: number } {
  const k = getKernel();
  if (k === null) return { liveKeys: 0, slots: 0, memoryBytes: 0 };
  return { liveKeys: k.live, slots: k.capacity, memoryBytes: k.memoryBytes };
}

/** Frees the slot of a GhashSimd collected without release() (the safety net). */
const collected = new FinalizationRegistry<number>((slot) => {
  kernel?.release(slot);
});

/** M[b] = b·H for b < 256, four big-endian words each (reused: made only in constructors). */
const products = new Int32Array(256 * 4);

/**
 * GHASH for one key `h` = AES_K(0^128), its table in a slot of the shared WebAssembly memory.
 * Call release() when the key is done (the SRTP session closes); see the module comment for
 * the memory's bounds. Throws GhashSimdError 'ghash-simd-unavailable' where
 * ghashSimdAvailable() is false, 'ghash-simd-full' past MAX_KEYS live keys or when the
 * memory cannot grow.
 */
export class GhashSimd {
  /** Linear-memory bytes per key (its table): what a GCM transform holds per key. */
  static readonly tableBytes = SLOT_BYTES;
  private readonly k: Kernel;
  /** Address of the slot's table (row 0); -1 once released. */
  private t: number;
  private readonly slot: number;
  /** Y (four big-endian words) as of the last kernel call; blocks may be pending. */
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(h: Uint8Array) {
    const k = getKernel();
    if (k === null) {
      throw new GhashSimdError(
        'ghash-simd-unavailable',
        'WebAssembly SIMD is not available in this runtime (use Ghash)',
      );
    }
    const slot = k.allocate();
    if (slot === undefined) {
      throw new GhashSimdError(
        'ghash-simd-full',
        `no GHASH slot: ${k.live} keys live (at most ${MAX_KEYS}), or the memory cannot grow`,
      );
    }
    this.k = k;
    this.slot = slot;
    this.t = slotStart(slot);
    // Row b at t + 16b: M[b] byte-reversed (little-endian word q is big-endian word 3 - q).
    products.fill(0);
    fillProducts(products, 0, powersOfH(h, 8), 0, 8);
    const w = k.words;
    const t4 = this.t >> 2;
    for (let b = 0; b < 256; b++) {
      for (let q = 0; q < 4; q++) w[t4 + 4 * b + q] = products[4 * b + 3 - q] ?? 0;
    }
    collected.register(this, slot, this);
  }

  /** The running GHASH value Y, four big-endian 32-bit words (absorbs pending blocks). */
  get y0(): number {
    this.sync();
    return this.s0;
  }
  get y1(): number {
    this.sync();
    return this.s1;
  }
  get y2(): number {
    this.sync();
    return this.s2;
  }
  get y3(): number {
    this.sync();
    return this.s3;
  }

  /**
   * Frees this key's slot for another key. Idempotent; afterwards update, blocks, seal and
   * finish throw GhashSimdError 'ghash-simd-released' (reset and reading Y do not).
   */
  release(): void {
    if (this.t < 0) return;
    const k = this.k;
    if (k.owner === this) {
      k.owner = undefined;
      k.pending = 0;
    }
    collected.unregister(this);
    this.t = -1;
    k.release(this.slot);
  }

  /** Starts a new GHASH (Y_0 = 0), dropping pending blocks. */
  reset(): void {
    this.s0 = 0;
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    const k = this.k;
    if (k.owner === this) {
      k.pending = 0;
      const w = k.words;
      w[0] = 0;
      w[1] = 0;
      w[2] = 0;
      w[3] = 0;
    }
  }

  /** Absorbs `data[at, at + n)`, its last block zero-padded (as GCM pads A and C). */
  update(data: Uint8Array, at: number, n: number): void {
    const full = n & ~15;
    if (full > 0) {
      const start = data.byteOffset + at;
      this.blocks(viewOf(data, Slot.data), start, start + full);
    }
    if (full < n) this.tail(data, at + full, n - full);
  }

  /**
   * GCM-CTR encryption fused with GHASH: out[at + i] = src[at + i] ^ keystream (the DataView
   * `ks` from `ksAt`) for i < n, each ciphertext block written to `out` and (reversed) to the
   * scratch; the last partial block zero-padded, as update does. `out` may be `src` (in place)
   * but must not overlap it otherwise. `payload`, when given, is that same keystream as a
   * Uint8Array from `ksAt` (at least n bytes; KeystreamRuns.payload). The plaintext (one
   * memcpy) and keystream (one memcpy from `payload`, else 32-bit words) are copied into the
   * scratch, the kernel's `seal` XORs and reverses 16 bytes at a time
   * (v128), and one memcpy copies the ciphertext to `out`: no allocation. Past CHUNK bytes (not
   * a packet), in JS.
   */
  seal(
    src: Uint8Array,
    out: Uint8Array,
    at: number,
    ks: DataView,
    ksAt: number,
    n: number,
    payload?: Uint8Array,
  ): void {
    const padded = (n + 15) & ~15;
    if (padded > CHUNK) {
      xorInto(out, at, src, ks, ksAt, n);
      this.update(out, at, n);
      return;
    }
    const k = this.take(padded);
    const b = k.bytes;
    // All of src when it fits: src[at] lands at TEXT_AT, the bytes before it over the free end
    // of the data area (after the pending blocks), those after it over the text and keystream
    // areas (the keystream is copied next). No view is made; otherwise a view of the n bytes.
    if (at + k.pending <= CHUNK && src.length - at <= 2 * CHUNK) b.set(src, TEXT_AT - at);
    else b.set(new Uint8Array(src.buffer, src.byteOffset + at, n), TEXT_AT);
    if (payload !== undefined && payload.length >= n && payload.length <= CHUNK) {
      // The caller's view of this keystream (KeystreamRuns.payload, kept per run slot): one
      // memcpy, no view made here.
      b.set(payload, KS_AT);
    } else {
      // By 32-bit words: a view made here (~96 B per packet) would break the per-packet heap
      // budget (spec/srtp/rfc7714-js-gcm).
      const w = k.words;
      const words = n >> 2;
      for (let i = 0, o = KS_AT >> 2; i < words; i++) w[o + i] = ks.getInt32(ksAt + 4 * i, true);
      for (let i = words * 4; i < n; i++) b[KS_AT + i] = ks.getUint8(ksAt + i);
    }
    k.seal(DATA_AT + k.pending, n);
    k.pending += padded;
    out.set(k.text(n), at);
  }

  /**
   * Absorbs the length block len(A) || len(C) (in bits) and XORs the 16 bytes at `maskAt` of
   * the DataView `mask` (E_K(J0)) into Y: Y is then the GCM tag, for writeTag or tagEquals.
   */
  finish(aadBytes: number, textBytes: number, mask: DataView, maskAt: number): void {
    const k = this.take(16);
    const w = k.words;
    const o = (DATA_AT + k.pending) >> 2;
    w[o] = (textBytes * 8) | 0;
    w[o + 1] = Math.floor(textBytes / 0x20000000);
    w[o + 2] = (aadBytes * 8) | 0;
    w[o + 3] = Math.floor(aadBytes / 0x20000000);
    k.pending += 16;
    this.flush(k);
    // Y in the scratch stays without the mask: the next call writes this.s* in again.
    k.owner = undefined;
    this.s0 ^= mask.getInt32(maskAt);
    this.s1 ^= mask.getInt32(maskAt + 4);
    this.s2 ^= mask.getInt32(maskAt + 8);
    this.s3 ^= mask.getInt32(maskAt + 12);
  }

  /** Writes Y (the tag, after finish) to `out[at, at + 16)`. */
  writeTag(out: Uint8Array, at: number): void {
    this.sync();
    writeTagWords(out, at, this.s0, this.s1, this.s2, this.s3);
  }

  /** Whether `data[at, at + 16)` equals Y (the tag, after finish), in time independent of both. */
  tagEquals(data: Uint8Array, at: number): boolean {
    this.sync();
    return tagWordsEqual(data, at, this.s0, this.s1, this.s2, this.s3);
  }

  /** Y = (Y XOR X)·H for each 16-byte block X of `view[at, end)` (a multiple of 16 bytes). */
  blocks(view: DataView, at: number, end: number): void {
    let i = at;
    while (i < end) {
      const n = Math.min(end - i, CHUNK);
      const k = this.take(n);
      const w = k.words;
      let o = (DATA_AT + k.pending) >> 2;
      for (const stop = i + n; i < stop; i += 16) {
        w[o] = view.getInt32(i + 12);
        w[o + 1] = view.getInt32(i + 8);
        w[o + 2] = view.getInt32(i + 4);
        w[o + 3] = view.getInt32(i);
        o += 4;
      }
      k.pending += n;
    }
  }

  /** `data[at, at + n)` (0 < n < 16) as one zero-padded block. */
  private tail(data: Uint8Array, at: number, n: number): void {
    const k = this.take(16);
    const o = DATA_AT + k.pending;
    const w = k.words;
    w[o >> 2] = 0;
    w[(o >> 2) + 1] = 0;
    w[(o >> 2) + 2] = 0;
    w[(o >> 2) + 3] = 0;
    const b = k.bytes;
    for (let j = 0; j < n; j++) b[o + 15 - j] = data[at + j] ?? 0;
    k.pending += 16;
  }

  /**
   * The kernel, with this key's Y in the scratch and room for `bytes` more (≤ CHUNK): another
   * key's pending blocks are absorbed first, this key's when the scratch is full.
   */
  private take(bytes: number): Kernel {
    const k = this.k;
    if (k.owner !== this) {
      if (this.t < 0) {
        throw new GhashSimdError('ghash-simd-released', 'this GHASH key was released');
      }
      const other = k.owner;
      if (other !== undefined) other.flush(k);
      const w = k.words;
      w[0] = this.s3;
      w[1] = this.s2;
      w[2] = this.s1;
      w[3] = this.s0;
      k.owner = this;
      k.pending = 0;
    } else if (k.pending + bytes > CHUNK) {
      this.flush(k);
    }
    return k;
  }

  /** Runs the kernel over this key's pending blocks (it owns the scratch) and reads Y back. */
  private flush(k: Kernel): void {
    if (k.pending > 0) {
      k.absorb(DATA_AT, DATA_AT + k.pending, this.t);
      k.pending = 0;
    }
    const w = k.words;
    this.s3 = w[0] ?? 0;
    this.s2 = w[1] ?? 0;
    this.s1 = w[2] ?? 0;
    this.s0 = w[3] ?? 0;
  }

  /** Absorbs this key's pending blocks, if any. */
  private sync(): void {
    const k = this.k;
    if (k.owner === this && k.pending > 0) this.flush(k);
  }
}

/** The JS Ghash with GhashSimd's release() (a no-op: its table is on the JS heap). */
export class GhashJs extends Ghash {
  release(): void {}
}

/** What an AES-GCM key holds for GHASH: one of the two, the same methods. */
export type GcmGhash = GhashSimd | GhashJs;

/**
 * The GHASH class for AES-GCM, chosen once at import: GhashSimd where ghashSimdAvailable()
 * (compiles the kernel, ~1 ms; never throws), GhashJs otherwise (`node --jitless`). Value and
 * type share the name, so transform-gcm.ts switches with one import line:
 * `import { GcmGhash as Ghash } from './ghash-simd.js';` (then `GcmKey` must call
 * `ghash.release()` when its session closes). Only one class is ever made in a process, so the
 * call sites stay monomorphic.
 */
export const GcmGhash: { new (h: Uint8Array): GcmGhash; readonly tableBytes: number } =
  ghashSimdAvailable() ? GhashSimd : GhashJs;
