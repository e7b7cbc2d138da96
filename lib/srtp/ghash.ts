import { xorInto } from './keystream-runs.js';
import { copyBytes, Slot, viewOf } from './views.js';

/** Writes the tag words y0..y3 (big-endian) to `out[at, at + 16)`. */
export function writeTagWords(
  out: Uint8Array,
  at: number,
  y0: number,
  y1: number,
  y2: number,
  y3: number,
): void {
  const o = viewOf(out, Slot.out);
  const oa = out.byteOffset + at;
  o.setInt32(oa, y0);
  o.setInt32(oa + 4, y1);
  o.setInt32(oa + 8, y2);
  o.setInt32(oa + 12, y3);
}

/** Whether `data[at, at + 16)` equals the tag words y0..y3, in time independent of both. */
export function tagWordsEqual(
  data: Uint8Array,
  at: number,
  y0: number,
  y1: number,
  y2: number,
  y3: number,
): boolean {
  const d = viewOf(data, Slot.tag);
  const da = data.byteOffset + at;
  const diff =
    (y0 ^ d.getInt32(da)) |
    (y1 ^ d.getInt32(da + 4)) |
    (y2 ^ d.getInt32(da + 8)) |
    (y3 ^ d.getInt32(da + 12));
  return diff === 0;
}

/** H·x^k for k = 0…count - 1 (all 128 by default), four big-endian words each (`h`: 16 B). */
export function powersOfH(h: Uint8Array, count = 128): Int32Array {
  const v = new DataView(h.buffer, h.byteOffset, 16);
  const powers = new Int32Array(count * 4);
  let a = v.getInt32(0);
  let b = v.getInt32(4);
  let c = v.getInt32(8);
  let d = v.getInt32(12);
  for (let k = 0; k < count; k++) {
    powers[4 * k] = a;
    powers[4 * k + 1] = b;
    powers[4 * k + 2] = c;
    powers[4 * k + 3] = d;
    const carry = d & 1;
    d = (d >>> 1) | (c << 31);
    c = (c >>> 1) | (b << 31);
    b = (b >>> 1) | (a << 31);
    a = (a >>> 1) ^ (carry === 1 ? 0xe1000000 : 0);
  }
  return powers;
}

/**
 * `entries` values of `bits` bits placed at field bit `first` (their top bit there), times H:
 * entry v = XOR of H·x^(first + k) over the bits k of v set (k = 0 for its top bit).
 */
export function fillProducts(
  out: Int32Array,
  at: number,
  powers: Int32Array,
  first: number,
  bits: number,
): void {
  for (let v = 1; v < 1 << bits; v++) {
    const low = v & -v;
    const k = first + bits - 1 - (31 - Math.clz32(low));
    const o = at + v * 4;
    const r = at + (v ^ low) * 4;
    for (let w = 0; w < 4; w++) out[o + w] = (out[r + w] ?? 0) ^ (powers[4 * k + w] ?? 0);
  }
}

/**
 * What shifting a value whose last `bits` bits are r right by `bits` folds into its top
 * word: r·x^128 reduced (at most 15 bits at the top), for every r.
 */
export function reductionTable(bits: number): Int32Array {
  const t = new Int32Array(1 << bits);
  for (let r = 0; r < 1 << bits; r++) {
    let top = 0;
    let low = r;
    for (let s = 0; s < bits; s++) {
      const carry = low & 1;
      low >>>= 1;
      top = (top >>> 1) ^ (carry === 1 ? 0xe1000000 : 0);
    }
    t[r] = top;
  }
  return t;
}

/**
 * GHASH (NIST SP 800-38D §6.4), the authenticator of AES-GCM (RFC 7714 for SRTP), in
 * JavaScript with Shoup's 8-bit tables: X·H is computed by Horner's rule over the 16 bytes of
 * X, from the last, as Z = Z·x^8 XOR M[byte], with M[b] = b·H (256 entries of 128 bits: 4 kB
 * per key, made in a few µs) and Z·x^8 a shift by 8 bits whose dropped byte folds back through
 * one table shared by every key (REDUCE8). One 16-byte block costs 16 table lookups, 15 word
 * shifts and 15 reduction lookups.
 *
 * Why this layout (bench/srtp-ghash.ts, `npm run bench -- srtp-ghash`, Node 20 x64, 2 MB L2
 * per core): 16 tables of 256 entries (64 kB per key, one lookup per byte and no shifts) cost
 * 38 ns per block with one key but 81 with 300 keys round-robin and 200 with 1,000 (the tables
 * no longer fit in L2); 4-bit tables (8 kB per key, or Shoup's 256 B) cost ~80 ns at any
 * count; this one is 32.5 ns per block with 1 key and 33–37 ns with 30 to 1,000 keys.
 */
export class Ghash {
  /** Per-key table bytes (M): what a session's GCM transform holds for each key. */
  static readonly tableBytes = 256 * 16;
  /** The running GHASH value Y, four big-endian 32-bit words (read-only for callers). */
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly table = new Int32Array(256 * 4);
  private readonly partial = new Uint8Array(16);
  private readonly partialView = new DataView(this.partial.buffer);

  /** `h` = AES_K(0^128), 16 bytes. */
  constructor(h: Uint8Array) {
    // M[b] for the byte b in the first position: its top bit is x^0 (M[0x80] = H), its lowest
    // x^7; so M[b] = XOR of H·x^k over the set bits k of b.
    fillProducts(this.table, 0, powersOfH(h, 8), 0, 8);
  }

  /** Starts a new GHASH (Y_0 = 0). */
  reset(): void {
    this.y0 = 0;
    this.y1 = 0;
    this.y2 = 0;
    this.y3 = 0;
  }

  /** Absorbs `data[at, at + n)`, its last block zero-padded (as GCM pads A and C). */
  update(data: Uint8Array, at: number, n: number): void {
    const full = n & ~15;
    if (full > 0) {
      const start = data.byteOffset + at;
      this.blocks(viewOf(data, Slot.data), start, start + full);
    }
    if (full < n) {
      const p = this.partial;
      p.fill(0);
      copyBytes(data, at + full, p, 0, n - full);
      this.blocks(this.partialView, 0, 16);
    }
  }

  /**
   * GCM-CTR encryption fused with GHASH: out[at + i] = src[at + i] ^ keystream (the DataView
   * `ks` from `ksAt`) for i < n, absorbing each ciphertext block as it is written (one pass
   * over the payload instead of two; the last partial block is zero-padded, as update does).
   * `out` may be `src` (in place) but must not overlap it otherwise.
   */
  seal(
    src: Uint8Array,
    out: Uint8Array,
    at: number,
    ks: DataView,
    ksAt: number,
    n: number,
    _payload?: Uint8Array,
  ): void {
    const full = n & ~15;
    if (full > 0) {
      const s = viewOf(src, Slot.src);
      const v = viewOf(out, Slot.out);
      const sa = src.byteOffset + at;
      const oa = out.byteOffset + at;
      // The multiply below is blocks()'s step, inlined on purpose: calling
      // this.blocks(v, oa + b, oa + b + 16) per written block measured 7-29% slower per
      // protected 1,200 B packet (bench srtp-ghash, 3 alternating A/B pairs, 1 and 300 keys:
      // 4.5-5.2 vs 4.8-6.4 µs). Change both copies together.
      const m = this.table;
      let y0 = this.y0;
      let y1 = this.y1;
      let y2 = this.y2;
      let y3 = this.y3;
      for (let b = 0; b < full; b += 16) {
        const c0 = s.getInt32(sa + b) ^ ks.getInt32(ksAt + b);
        const c1 = s.getInt32(sa + b + 4) ^ ks.getInt32(ksAt + b + 4);
        const c2 = s.getInt32(sa + b + 8) ^ ks.getInt32(ksAt + b + 8);
        const c3 = s.getInt32(sa + b + 12) ^ ks.getInt32(ksAt + b + 12);
        v.setInt32(oa + b, c0);
        v.setInt32(oa + b + 4, c1);
        v.setInt32(oa + b + 8, c2);
        v.setInt32(oa + b + 12, c3);
        y0 ^= c0;
        y1 ^= c1;
        y2 ^= c2;
        y3 ^= c3;
        let z0 = 0;
        let z1 = 0;
        let z2 = 0;
        let z3 = 0;
        let o = 0;
        let r = 0;
        o = (y3 & 255) << 2;
        z0 = m[o] ?? 0;
        z1 = m[o + 1] ?? 0;
        z2 = m[o + 2] ?? 0;
        z3 = m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y3 >>> 8) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y3 >>> 16) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y3 >>> 24) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y2 & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y2 >>> 8) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y2 >>> 16) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y2 >>> 24) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y1 & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y1 >>> 8) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y1 >>> 16) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y1 >>> 24) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y0 & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y0 >>> 8) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = ((y0 >>> 16) & 255) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        r = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
        o = (y0 >>> 24) << 2;
        z0 ^= m[o] ?? 0;
        z1 ^= m[o + 1] ?? 0;
        z2 ^= m[o + 2] ?? 0;
        z3 ^= m[o + 3] ?? 0;
        y0 = z0;
        y1 = z1;
        y2 = z2;
        y3 = z3;
      }
      this.y0 = y0;
      this.y1 = y1;
      this.y2 = y2;
      this.y3 = y3;
    }
    if (full < n) {
      xorInto(out, at + full, src, ks, ksAt + full, n - full);
      this.update(out, at + full, n - full);
    }
  }

  /**
   * Absorbs the length block len(A) || len(C) (in bits) and XORs the 16 bytes at `maskAt` of
   * the DataView `mask` (E_K(J0)) into Y: Y is then the GCM tag, for writeTag or tagEquals.
   */
  finish(aadBytes: number, textBytes: number, mask: DataView, maskAt: number): void {
    const pv = this.partialView;
    pv.setUint32(0, Math.floor(aadBytes / 0x20000000));
    pv.setUint32(4, (aadBytes * 8) >>> 0);
    pv.setUint32(8, Math.floor(textBytes / 0x20000000));
    pv.setUint32(12, (textBytes * 8) >>> 0);
    this.blocks(pv, 0, 16);
    this.y0 ^= mask.getInt32(maskAt);
    this.y1 ^= mask.getInt32(maskAt + 4);
    this.y2 ^= mask.getInt32(maskAt + 8);
    this.y3 ^= mask.getInt32(maskAt + 12);
  }

  /** Writes Y (the tag, after finish) to `out[at, at + 16)`. */
  writeTag(out: Uint8Array, at: number): void {
    writeTagWords(out, at, this.y0, this.y1, this.y2, this.y3);
  }

  /** Whether `data[at, at + 16)` equals Y (the tag, after finish), in time independent of both. */
  tagEquals(data: Uint8Array, at: number): boolean {
    return tagWordsEqual(data, at, this.y0, this.y1, this.y2, this.y3);
  }

  /**
   * Y = (Y XOR X)·H for each 16-byte block X of `view[at, end)` (`end - at` a multiple of 16).
   * Unrolled: byte 15 of Y XOR X first, byte 0 last; the bytes of a word are taken low to high.
   * seal() inlines the same step (measured faster than calling this per block).
   */
  blocks(view: DataView, at: number, end: number): void {
    const m = this.table;
    let y0 = this.y0;
    let y1 = this.y1;
    let y2 = this.y2;
    let y3 = this.y3;
    for (let i = at; i < end; i += 16) {
      y0 ^= view.getInt32(i);
      y1 ^= view.getInt32(i + 4);
      y2 ^= view.getInt32(i + 8);
      y3 ^= view.getInt32(i + 12);
      let z0 = 0;
      let z1 = 0;
      let z2 = 0;
      let z3 = 0;
      let o = 0;
      let r = 0;
      o = (y3 & 255) << 2;
      z0 = m[o] ?? 0;
      z1 = m[o + 1] ?? 0;
      z2 = m[o + 2] ?? 0;
      z3 = m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y3 >>> 8) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y3 >>> 16) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y3 >>> 24) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y2 & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y2 >>> 8) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y2 >>> 16) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y2 >>> 24) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y1 & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y1 >>> 8) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y1 >>> 16) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y1 >>> 24) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y0 & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y0 >>> 8) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = ((y0 >>> 16) & 255) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REDUCE8[r] ?? 0);
      o = (y0 >>> 24) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      y0 = z0;
      y1 = z1;
      y2 = z2;
      y3 = z3;
    }
    this.y0 = y0;
    this.y1 = y1;
    this.y2 = y2;
    this.y3 = y3;
  }
}

/**
 * REDUCE8[r]: what multiplying by x^8 folds into the top word when the dropped low byte of the
 * value is r: r·x^128 mod the GCM polynomial, at most 15 bits at the top (shared by all keys).
 */
const REDUCE8 = reductionTable(8);
