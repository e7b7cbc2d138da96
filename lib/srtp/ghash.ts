import { copyBytes, Slot, viewOf } from './views.js';

/**
 * GHASH (NIST SP 800-38D §6.4), the authenticator of AES-GCM (RFC 7714 for SRTP), in
 * JavaScript with 8-bit tables: X·H is linear in X, so it is the XOR over the 16 bytes of X of
 * T_i[byte_i], T_i[b] = (b at byte i)·H, 16 × 256 entries of 128 bits (64 kB per key, made once
 * in ~0.1 ms). One 16-byte block costs 16 lookups and 64 XORs. Used for small SRTP packets,
 * where node:crypto's fixed cost per GCM cipher object (~3 µs: object, IV, five native calls)
 * dwarfs the work; see transform-gcm.ts.
 */
export class Ghash {
  private readonly table = new Int32Array(16 * 256 * 4);
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;
  private readonly partial = new Uint8Array(16);
  private readonly partialView = new DataView(this.partial.buffer);

  /** `h` = AES_K(0^128), 16 bytes. */
  constructor(h: Uint8Array) {
    const v = new DataView(h.buffer, h.byteOffset, 16);
    // H·x^k for k = 0…127 (bit k counted from the most significant bit of byte 0).
    const powers = new Int32Array(128 * 4);
    let a = v.getInt32(0);
    let b = v.getInt32(4);
    let c = v.getInt32(8);
    let d = v.getInt32(12);
    for (let k = 0; k < 128; k++) {
      powers[4 * k] = a;
      powers[4 * k + 1] = b;
      powers[4 * k + 2] = c;
      powers[4 * k + 3] = d;
      // Multiply by x: shift right one bit, reduce by R = 11100001 || 0^120.
      const carry = d & 1;
      d = (d >>> 1) | (c << 31);
      c = (c >>> 1) | (b << 31);
      b = (b >>> 1) | (a << 31);
      a = (a >>> 1) ^ (carry === 1 ? 0xe1000000 : 0);
    }
    const t = this.table;
    for (let i = 0; i < 16; i++) {
      for (let x = 1; x < 256; x++) {
        // T_i[x] = T_i[x without its lowest bit] XOR H·x^(position of that bit).
        const low = x & -x;
        const k = 8 * i + Math.clz32(low) - 24;
        const o = (i * 256 + x) * 4;
        const r = (i * 256 + (x ^ low)) * 4;
        t[o] = (t[r] ?? 0) ^ (powers[4 * k] ?? 0);
        t[o + 1] = (t[r + 1] ?? 0) ^ (powers[4 * k + 1] ?? 0);
        t[o + 2] = (t[r + 2] ?? 0) ^ (powers[4 * k + 2] ?? 0);
        t[o + 3] = (t[r + 3] ?? 0) ^ (powers[4 * k + 3] ?? 0);
      }
    }
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
   * Absorbs the length block len(A) || len(C) (in bits) and writes GHASH XOR `mask[maskAt…+16)`
   * (E_K(J0): the GCM tag) to `out[outAt…+16)`.
   */
  finish(
    aadBytes: number,
    textBytes: number,
    mask: Uint8Array,
    maskAt: number,
    out: Uint8Array,
    outAt: number,
    outSlot: Slot = Slot.out,
  ): void {
    const pv = this.partialView;
    pv.setUint32(0, Math.floor(aadBytes / 0x20000000));
    pv.setUint32(4, (aadBytes * 8) >>> 0);
    pv.setUint32(8, Math.floor(textBytes / 0x20000000));
    pv.setUint32(12, (textBytes * 8) >>> 0);
    this.blocks(pv, 0, 16);
    const m = viewOf(mask, Slot.keystream);
    const ma = mask.byteOffset + maskAt;
    const o = viewOf(out, outSlot);
    const oa = out.byteOffset + outAt;
    o.setInt32(oa, this.y0 ^ m.getInt32(ma));
    o.setInt32(oa + 4, this.y1 ^ m.getInt32(ma + 4));
    o.setInt32(oa + 8, this.y2 ^ m.getInt32(ma + 8));
    o.setInt32(oa + 12, this.y3 ^ m.getInt32(ma + 12));
  }

  /** Y = (Y XOR X)·H for each 16-byte block X of `view[at, end)`. */
  private blocks(view: DataView, at: number, end: number): void {
    const t = this.table;
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
      o = (y0 >>> 24) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (256 + ((y0 >>> 16) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (512 + ((y0 >>> 8) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (768 + (y0 & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (1024 + (y1 >>> 24)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (1280 + ((y1 >>> 16) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (1536 + ((y1 >>> 8) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (1792 + (y1 & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (2048 + (y2 >>> 24)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (2304 + ((y2 >>> 16) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (2560 + ((y2 >>> 8) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (2816 + (y2 & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (3072 + (y3 >>> 24)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (3328 + ((y3 >>> 16) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (3584 + ((y3 >>> 8) & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
      o = (3840 + (y3 & 255)) << 2;
      z0 ^= t[o] ?? 0;
      z1 ^= t[o + 1] ?? 0;
      z2 ^= t[o + 2] ?? 0;
      z3 ^= t[o + 3] ?? 0;
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
