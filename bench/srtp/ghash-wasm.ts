import { xorInto } from '../../lib/srtp/keystream-runs.js';
import { Slot, viewOf } from '../../lib/srtp/views.js';
import { Code, encodeModule, ValType } from '../../lib/util/wasm-encoder.js';

/**
 * GHASH (NIST SP 800-38D §6.4) in WebAssembly SIMD, the module written in TypeScript with
 * lib/util/wasm-encoder.ts and compiled at import time (no .wasm file, nothing downloaded).
 *
 * X·H = XOR over the 16 bytes X_i of X of M[X_i]·x^(8i), with M[b] = b·H (Shoup's 8-bit
 * table, 4 kB per key). Multiplying by x^8 moves every byte of a field element one place, so
 * M[X_i]·x^(8i) before reduction is M[X_i] moved i bytes into a 31-byte value. The instance
 * keeps every 16-byte value byte-reversed (a little-endian 128-bit integer, where multiplying
 * by x is a right shift by one bit), and the table with 16 zero bytes after every entry (row b
 * at table + 32b, zeros before row 0 too): the low 16 bytes of the moved product are then one
 * unaligned v128 load at row + i and the high ones one at row + i − 16. So a block is 31
 * independent loads and XORs (into 4 + 4 accumulators), not Shoup's serial chain of 16
 * shift-and-reduce steps. The high part (at most 120 bits above x^128) folds back as
 * hi·(1 + x + x^2 + x^7), GCM's x^128 mod P: three shifts right of a 128-bit value, which
 * cannot overflow here (119 + 7 < 128), done as 64-bit lane shifts plus the carried bits.
 *
 * Per call the key's 4 kB table is copied into the instance when another key was used last
 * and expanded there (`key`), and the data copied in word by word, each block reversed (typed
 * array stores: no view allocated per call, so no garbage per packet).
 */

/** Linear memory layout (byte offsets). */
export const Layout = {
  /** Y, 16 bytes, byte-reversed. */
  y: 0,
  /** The key's compact table M[b] (16 B each, reversed), written by the caller before `key()`. */
  compact: 4608,
  /** The expanded table: M[b] at table + 32b, zeros at table + 32b + 16 and at table − 16. */
  table: 9216,
  /** Data to absorb (the caller's copy, each block reversed). */
  data: 17408,
  /** Bytes of data one call may absorb. */
  chunk: 65536,
} as const;

const PAGES = 2;

/** Y = (Y XOR X)·H for each 16-byte block X of memory[p, end) (all byte-reversed). */
function absorbCode(): Code {
  const P = 0;
  const END = 1;
  const Y = 2;
  const LO = 3; // LO..LO+3: low halves of the products, 4 accumulators
  const HI = 7; // HI..HI+3: high halves
  const A = 11;
  const W = 12; // W..W+3: the words of Y XOR X
  const c = new Code();
  c.i32Const(Layout.y).v128Load().set(Y);
  c.block();
  c.get(P).get(END).i32LtU().i32Eqz().brIf(0);
  c.loop();
  c.get(Y).get(P).v128Load().v128Xor().set(Y);
  for (let k = 0; k < 4; k++)
    c.get(Y)
      .i32x4ExtractLane(k)
      .set(W + k);
  // Reversed byte k (field byte i = 15 - k) is bits 8m… of word k >> 2 (m = k & 3); its row is
  // at table + 32·byte. Its product moves i bytes (down in memory): the low half is the load
  // at row + i, the high half the load at row + i − 16 (all zeros for i = 0).
  for (let k = 0; k < 16; k++) {
    const i = 15 - k;
    const m = k & 3;
    const acc = k & 3;
    c.get(W + (k >> 2));
    if (m === 0) c.i32Const(5).i32Shl();
    else c.i32Const(8 * m - 5).i32ShrU();
    c.i32Const(0x1fe0).i32And();
    if (i === 0) {
      c.v128Load(Layout.table)
        .get(LO + acc)
        .v128Xor()
        .set(LO + acc);
      continue;
    }
    c.tee(A).v128Load(Layout.table + i);
    if (k < 4) c.set(LO + acc);
    else
      c.get(LO + acc)
        .v128Xor()
        .set(LO + acc);
    c.get(A).v128Load(Layout.table + i - 16);
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
  // hi·(1 + x + x^2 + x^7): hi ^ hi >> 1 ^ hi >> 2 ^ hi >> 7 as 128-bit right shifts, each
  // the two 64-bit lanes shifted plus the high lane's low bits (shifted left 64 − s) moved
  // into the low lane.
  c.get(HI).get(HI).i32Const(1).i64x2ShrU().v128Xor();
  c.get(HI).i32Const(2).i64x2ShrU().get(HI).i32Const(7).i64x2ShrU().v128Xor().v128Xor();
  c.get(HI).i32Const(63).i64x2Shl().get(HI).i32Const(62).i64x2Shl().v128Xor();
  c.get(HI).i32Const(57).i64x2Shl().v128Xor();
  c.v128Const(ZERO).i8x16Shuffle(HIGH_LANE_DOWN);
  c.get(LO).v128Xor().v128Xor().set(Y);
  c.get(P).i32Const(16).i32Add().tee(P).get(END).i32LtU().brIf(0);
  c.end();
  c.end();
  c.i32Const(Layout.y).get(Y).v128Store();
  return c;
}

const ZERO = Array.from({ length: 16 }, () => 0);
/** Shuffle of (a ‖ b): a's high 8 bytes into the low half, b's first 8 (zeros) above. */
const HIGH_LANE_DOWN = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];

/** Expands the compact table (16-byte rows) into the padded one (32-byte rows). */
function keyCode(): Code {
  const I = 0;
  const c = new Code();
  c.loop();
  c.get(I).get(I).i32Add().get(I).v128Load(Layout.compact).v128Store(Layout.table);
  c.get(I).i32Const(16).i32Add().tee(I).i32Const(4096).i32LtU().brIf(0);
  c.end();
  return c;
}

/** The module's bytes (made once per process). */
export function ghashModuleBytes(): Uint8Array {
  return encodeModule({
    memoryPages: PAGES,
    functions: [
      {
        name: 'absorb',
        params: [ValType.i32, ValType.i32],
        results: [],
        locals: [
          ...Array.from({ length: 9 }, () => ValType.v128),
          ...Array.from({ length: 5 }, () => ValType.i32),
        ],
        code: absorbCode(),
      },
      { name: 'key', params: [], results: [], locals: [ValType.i32], code: keyCode() },
    ],
  });
}

/**
 * The few parts of the WebAssembly JS API used here (this project's TypeScript lib has no
 * WebAssembly types): found on globalThis and checked, so a runtime without them falls back.
 */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => object;
}

interface GhashExports {
  readonly buffer: ArrayBuffer;
  absorb(at: number, end: number): void;
  key(): void;
}

function isValidate(f: unknown): f is (bytes: Uint8Array) => boolean {
  return typeof f === 'function';
}

function isConstructor<T>(f: unknown): f is T {
  return typeof f === 'function';
}

function isAbsorb(f: unknown): f is (at: number, end: number) => void {
  return typeof f === 'function';
}

function isKey(f: unknown): f is () => void {
  return typeof f === 'function';
}

function wasmApi(): WasmApi | undefined {
  const wa: unknown = Reflect.get(globalThis, 'WebAssembly');
  if (typeof wa !== 'object' || wa === null) return undefined;
  const validate: unknown = Reflect.get(wa, 'validate');
  const Module: unknown = Reflect.get(wa, 'Module');
  const Instance: unknown = Reflect.get(wa, 'Instance');
  if (!isValidate(validate)) return undefined;
  if (!isConstructor<WasmApi['Module']>(Module)) return undefined;
  if (!isConstructor<WasmApi['Instance']>(Instance)) return undefined;
  return { validate: (bytes) => validate.call(wa, bytes), Module, Instance };
}

/** WebAssembly.validate where the runtime has WebAssembly; false otherwise. */
export function validWasm(bytes: Uint8Array): boolean {
  return wasmApi()?.validate(bytes) ?? false;
}

function ghashExports(instance: object): GhashExports {
  const e: unknown = Reflect.get(instance, 'exports');
  if (typeof e !== 'object' || e === null) throw new Error('ghash wasm: no exports');
  const memory: unknown = Reflect.get(e, 'memory');
  const buffer: unknown =
    typeof memory === 'object' && memory !== null ? Reflect.get(memory, 'buffer') : undefined;
  const absorb: unknown = Reflect.get(e, 'absorb');
  const key: unknown = Reflect.get(e, 'key');
  if (!(buffer instanceof ArrayBuffer) || !isAbsorb(absorb) || !isKey(key)) {
    throw new Error('ghash wasm: unexpected exports');
  }
  return { buffer, absorb, key };
}

/** The running GHASH value Y of one Ghash: four big-endian 32-bit words. */
export interface GhashState {
  y0: number;
  y1: number;
  y2: number;
  y3: number;
}

/** Whether this host stores Int32Array words little-endian, as wasm memory is. */
const littleEndianHost = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The single instance (one per process, 128 kB of linear memory) and the copies in and out of
 * it. Every call: the key's table is copied in if another key was used last (4 kB, ~150 ns),
 * Y is written in, the data copied in word by word with each block's bytes reversed (typed
 * array stores, no view allocated per call), the blocks absorbed, Y read back.
 */
export class GhashWasm {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** The compact table currently expanded in the instance (identity). */
  private current: Uint8Array | undefined;
  private readonly exports: GhashExports;

  /** `instance`: of ghashModuleBytes() (its memory never grows, so the views stay valid). */
  constructor(instance: object) {
    const e = ghashExports(instance);
    this.exports = e;
    this.words = new Int32Array(e.buffer);
    this.bytes = new Uint8Array(e.buffer);
  }

  /** Makes `compact` (from compactTable) the key in use, unless it is already. */
  private use(compact: Uint8Array, s: GhashState): void {
    if (this.current !== compact) {
      this.bytes.set(compact, Layout.compact);
      this.exports.key();
      this.current = compact;
    }
    const w = this.words;
    w[0] = s.y3;
    w[1] = s.y2;
    w[2] = s.y1;
    w[3] = s.y0;
  }

  /** Absorbs the `n` bytes copied to Layout.data and reads Y back into `s`. */
  private absorb(n: number, s: GhashState): void {
    this.exports.absorb(Layout.data, Layout.data + n);
    const w = this.words;
    s.y3 = w[0] ?? 0;
    s.y2 = w[1] ?? 0;
    s.y1 = w[2] ?? 0;
    s.y0 = w[3] ?? 0;
  }

  /** Copies `view[at, at + n)` (whole blocks) to Layout.data + `to`, each block reversed. */
  private copyBlocks(view: DataView, at: number, n: number, to: number): void {
    const w = this.words;
    let o = (Layout.data + to) >> 2;
    for (let b = at; b < at + n; b += 16) {
      w[o] = view.getInt32(b + 12);
      w[o + 1] = view.getInt32(b + 8);
      w[o + 2] = view.getInt32(b + 4);
      w[o + 3] = view.getInt32(b);
      o += 4;
    }
  }

  /** Copies `data[at, at + n)` (n < 16) to Layout.data + `to` as one zero-padded block. */
  private copyTail(data: Uint8Array, at: number, n: number, to: number): void {
    const w = this.words;
    const o = Layout.data + to;
    w[o >> 2] = 0;
    w[(o >> 2) + 1] = 0;
    w[(o >> 2) + 2] = 0;
    w[(o >> 2) + 3] = 0;
    const b = this.bytes;
    for (let j = 0; j < n; j++) b[o + 15 - j] = data[at + j] ?? 0;
  }

  /** Ghash.blocks: `view[at, end)`, `end - at` a multiple of 16. */
  blocks(s: GhashState, compact: Uint8Array, view: DataView, at: number, end: number): void {
    this.use(compact, s);
    for (let i = at; i < end; i += Layout.chunk) {
      const n = Math.min(end - i, Layout.chunk);
      this.copyBlocks(view, i, n, 0);
      this.absorb(n, s);
    }
  }

  /** Ghash.update: `data[at, at + n)`, the last block zero-padded. */
  update(s: GhashState, compact: Uint8Array, data: Uint8Array, at: number, n: number): void {
    this.use(compact, s);
    const view = viewOf(data, Slot.data);
    const start = data.byteOffset + at;
    const full = n & ~15;
    let i = 0;
    for (; i + Layout.chunk <= full; i += Layout.chunk) {
      this.copyBlocks(view, start + i, Layout.chunk, 0);
      this.absorb(Layout.chunk, s);
    }
    const rest = full - i;
    if (rest > 0) this.copyBlocks(view, start + i, rest, 0);
    if (full < n) this.copyTail(data, at + full, n - full, rest);
    const padded = rest + (full < n ? 16 : 0);
    if (padded > 0) this.absorb(padded, s);
  }

  /**
   * Ghash.seal: out[at + i] = src[at + i] ^ ks[ksAt + i] for i < n, absorbing the ciphertext
   * (the XOR's words are written to `out` and, block-reversed, into the instance in one pass).
   */
  seal(
    s: GhashState,
    compact: Uint8Array,
    src: Uint8Array,
    out: Uint8Array,
    at: number,
    ks: DataView,
    ksAt: number,
    n: number,
  ): void {
    if (n > Layout.chunk) {
      xorInto(out, at, src, ks, ksAt, n);
      this.update(s, compact, out, at, n);
      return;
    }
    this.use(compact, s);
    const full = n & ~15;
    const sv = viewOf(src, Slot.src);
    const v = viewOf(out, Slot.out);
    const sa = src.byteOffset + at;
    const oa = out.byteOffset + at;
    const w = this.words;
    let o = Layout.data >> 2;
    for (let b = 0; b < full; b += 16) {
      const c0 = sv.getInt32(sa + b) ^ ks.getInt32(ksAt + b);
      const c1 = sv.getInt32(sa + b + 4) ^ ks.getInt32(ksAt + b + 4);
      const c2 = sv.getInt32(sa + b + 8) ^ ks.getInt32(ksAt + b + 8);
      const c3 = sv.getInt32(sa + b + 12) ^ ks.getInt32(ksAt + b + 12);
      v.setInt32(oa + b, c0);
      v.setInt32(oa + b + 4, c1);
      v.setInt32(oa + b + 8, c2);
      v.setInt32(oa + b + 12, c3);
      w[o] = c3;
      w[o + 1] = c2;
      w[o + 2] = c1;
      w[o + 3] = c0;
      o += 4;
    }
    if (full < n) {
      xorInto(out, at + full, src, ks, ksAt + full, n - full);
      this.copyTail(out, at + full, n - full, full);
    }
    const padded = full + (full < n ? 16 : 0);
    if (padded > 0) this.absorb(padded, s);
  }
}

/**
 * The per-key table from M[b] = b·H (`m`: 256 entries of four big-endian words, as
 * fillProducts makes them), each entry's 16 bytes reversed for the instance (4 kB).
 */
export function compactTable(m: Int32Array): Uint8Array {
  // Reversed bytes as little-endian words: word q is the big-endian field word 3 - q.
  const r = new Int32Array(256 * 4);
  for (let i = 0; i < r.length; i++) r[i] = m[(i & ~3) + 3 - (i & 3)] ?? 0;
  return new Uint8Array(r.buffer);
}

/**
 * The compiled instance, or undefined when this runtime has no WebAssembly, no SIMD (the
 * module fails WebAssembly.validate), or stores words big-endian.
 */
export function loadGhashWasm(): GhashWasm | undefined {
  const api = wasmApi();
  if (!littleEndianHost || api === undefined) return undefined;
  const bytes = ghashModuleBytes();
  if (!api.validate(bytes)) return undefined;
  return new GhashWasm(new api.Instance(new api.Module(bytes), {}));
}
