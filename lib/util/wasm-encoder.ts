/**
 * A small WebAssembly binary encoder (WebAssembly Core Specification 2.0, §5 "Binary Format"):
 * enough to write a module of a few functions over one exported memory, with the SIMD (v128)
 * instructions behind the 0xFD prefix. Code is built as a plain byte list with one method per
 * instruction; the module is encoded once (at import time) and compiled with
 * `new WebAssembly.Module` — no .wasm file, no tool outside the repo. Used by
 * lib/srtp/ghash-simd.ts.
 */

/** Value types (§5.3.1). */
export const ValType = { i32: 0x7f, i64: 0x7e, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128 of `n` (0 ≤ n < 2^32) appended to `out`. */
export function uleb(out: number[], n: number): void {
  let v = n >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

/** Signed LEB128 of the 32-bit integer `n` appended to `out`. */
export function sleb(out: number[], n: number): void {
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** The body of one function: instructions appended in order, `end` added by encodeModule. */
export class Code {
  readonly bytes: number[] = [];

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  private simd(opcode: number): this {
    this.bytes.push(0xfd);
    uleb(this.bytes, opcode);
    return this;
  }

  private memarg(align: number, offset: number): this {
    uleb(this.bytes, align);
    uleb(this.bytes, offset);
    return this;
  }

  // Control (§5.4.1). Blocks and loops here take no parameters and give no result (0x40).
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    this.op(0x0c);
    uleb(this.bytes, depth);
    return this;
  }
  brIf(depth: number): this {
    this.op(0x0d);
    uleb(this.bytes, depth);
    return this;
  }

  // Variables (§5.4.4).
  get(local: number): this {
    this.op(0x20);
    uleb(this.bytes, local);
    return this;
  }
  set(local: number): this {
    this.op(0x21);
    uleb(this.bytes, local);
    return this;
  }
  tee(local: number): this {
    this.op(0x22);
    uleb(this.bytes, local);
    return this;
  }

  // i32 (§5.4.6, §5.4.7).
  i32Const(n: number): this {
    this.op(0x41);
    sleb(this.bytes, n);
    return this;
  }
  i32Load(offset = 0): this {
    return this.op(0x28).memarg(2, offset);
  }
  i32Store(offset = 0): this {
    return this.op(0x36).memarg(2, offset);
  }
  i32Load16U(offset = 0): this {
    return this.op(0x2f).memarg(1, offset);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32Xor(): this {
    return this.op(0x73);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }

  // SIMD (§5.4.8): 0xFD, then the opcode as unsigned LEB128.
  /** v128.load with a constant byte `offset` added to the address (align hint 1 byte). */
  v128Load(offset = 0): this {
    return this.simd(0x00).memarg(0, offset);
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b).memarg(0, offset);
  }
  v128Const(bytes: readonly number[]): this {
    if (bytes.length !== 16) throw new TypeError('v128.const takes 16 bytes');
    return this.simd(0x0c).op(...bytes);
  }
  /** i8x16.shuffle: result lane i = lane `lanes[i]` of (a ‖ b), lanes 0–31. */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => l < 0 || l > 31)) {
      throw new TypeError('i8x16.shuffle takes 16 lane indices 0-31');
    }
    return this.simd(0x0d).op(...lanes);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(0x1b).op(lane);
  }
  i32x4ReplaceLane(lane: number): this {
    return this.simd(0x1c).op(lane);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i8x16Splat(): this {
    return this.simd(0x0f);
  }
  /** i8x16.gt_u: each lane all ones where a's byte > b's (unsigned), else zero. */
  i8x16GtU(): this {
    return this.simd(0x28);
  }
  i16x8ExtendLowI8x16U(): this {
    return this.simd(0x89);
  }
  i16x8ExtendHighI8x16U(): this {
    return this.simd(0x8a);
  }
  i16x8Shl(): this {
    return this.simd(0x8b);
  }
  i64x2Shl(): this {
    return this.simd(0xcb);
  }
  i64x2ShrU(): this {
    return this.simd(0xcd);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  v128Xor(): this {
    return this.simd(0x51);
  }
}

export interface FunctionSpec {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  /** Locals after the parameters, in order (their indices follow the parameters'). */
  readonly locals: readonly ValType[];
  readonly code: Code;
}

export interface ModuleSpec {
  /** One linear memory of this many 64 kB pages, exported as `memory`. */
  readonly memoryPages: number;
  /** The most pages `memory.grow` may reach (limits with a maximum, §5.3.4); none if absent. */
  readonly maxMemoryPages?: number;
  /** Every function is exported under its name. */
  readonly functions: readonly FunctionSpec[];
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

function vector(out: number[], items: readonly number[][]): void {
  uleb(out, items.length);
  for (const item of items) for (const b of item) out.push(b);
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  const out: number[] = [];
  uleb(out, bytes.length);
  return out.concat(bytes);
}

/** The module's bytes: type, function, memory, export and code sections (§5.5). */
export function encodeModule(spec: ModuleSpec): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = spec.functions.map((f) => {
    const t = [0x60];
    vector(
      t,
      f.params.map((p) => [p]),
    );
    vector(
      t,
      f.results.map((r) => [r]),
    );
    return t;
  });
  const typeSection: number[] = [];
  vector(typeSection, types);
  section(out, 1, typeSection);
  const funcSection: number[] = [];
  vector(
    funcSection,
    spec.functions.map((_, i) => {
      const idx: number[] = [];
      uleb(idx, i);
      return idx;
    }),
  );
  section(out, 3, funcSection);
  const max = spec.maxMemoryPages;
  const mem: number[] = [0x01, max === undefined ? 0x00 : 0x01];
  uleb(mem, spec.memoryPages);
  if (max !== undefined) uleb(mem, max);
  section(out, 5, mem);
  const exports: number[][] = [[...name('memory'), 0x02, 0x00]];
  spec.functions.forEach((f, i) => {
    const e = [...name(f.name), 0x00];
    uleb(e, i);
    exports.push(e);
  });
  const exportSection: number[] = [];
  vector(exportSection, exports);
  section(out, 7, exportSection);
  const bodies = spec.functions.map((f) => {
    const body: number[] = [];
    // Locals as runs of one type (count, type).
    const runs: number[][] = [];
    for (const l of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === l) last[0] = (last[0] ?? 0) + 1;
      else runs.push([1, l]);
    }
    vector(
      body,
      runs.map(([count, type]) => {
        const r: number[] = [];
        uleb(r, count ?? 0);
        r.push(type ?? 0);
        return r;
      }),
    );
    for (const b of f.code.bytes) body.push(b);
    body.push(0x0b);
    const sized: number[] = [];
    uleb(sized, body.length);
    return sized.concat(body);
  });
  const codeSection: number[] = [];
  vector(codeSection, bodies);
  section(out, 10, codeSection);
  return Uint8Array.from(out);
}
