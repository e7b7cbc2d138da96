import { fillProducts, Ghash, powersOfH, reductionTable } from '../../lib/srtp/ghash.js';
import { GhashSimd } from '../../lib/srtp/ghash-simd.js';
import { compactTable, loadGhashWasm } from './ghash-wasm.js';

/**
 * GHASH candidates for the per-key-table-size measurement of `npm run bench -- srtp-ghash`
 * (lib/srtp/ghash.ts holds the one kept, Shoup8Ghash here). All compute Y = (Y XOR X)·H per
 * 16-byte block
 * (NIST SP 800-38D §6.4) with the field's bit order: bit 0 is the top bit of byte 0, and
 * multiplying by x shifts right one bit, folding bit 127 back as R = 0xE1 || 0^120.
 */

const R4 = reductionTable(4);

const REDUCE8 = reductionTable(8);

export interface GhashCandidate {
  readonly name: string;
  /** Bytes of per-key table. */
  readonly tableBytes: number;
  y0: number;
  y1: number;
  y2: number;
  y3: number;
  blocks(view: DataView, at: number, end: number): void;
  /** Frees what the key holds outside the JS heap (wasm-resident's slot). */
  release?(): void;
}

/** Shoup's 8-bit method, the one kept: lib/srtp/ghash.ts (4 kB per key, shared REDUCE8). */
export class Shoup8Ghash extends Ghash implements GhashCandidate {
  readonly name = 'shoup-8bit (lib)';
  readonly tableBytes = Ghash.tableBytes;
}

/** Shoup's 4-bit method: M[v] = v·H (256 B per key), 32 steps of shift-by-4 with a shared R4. */
export class Shoup4Ghash implements GhashCandidate {
  readonly name = 'shoup-4bit';
  readonly tableBytes = 16 * 16;
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly table = new Int32Array(16 * 4);
  constructor(h: Uint8Array) {
    fillProducts(this.table, 0, powersOfH(h), 0, 4);
  }

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
      o = (y3 & 15) << 2;
      z0 = m[o] ?? 0;
      z1 = m[o + 1] ?? 0;
      z2 = m[o + 2] ?? 0;
      z3 = m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 4) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 8) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 12) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 16) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 20) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y3 >>> 24) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y3 >>> 28) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y2 & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 4) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 8) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 12) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 16) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 20) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y2 >>> 24) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y2 >>> 28) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y1 & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 4) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 8) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 12) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 16) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 20) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y1 >>> 24) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y1 >>> 28) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y0 & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 4) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 8) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 12) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 16) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 20) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = ((y0 >>> 24) & 15) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      r = z3 & 15;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ (R4[r] ?? 0);
      o = (y0 >>> 28) << 2;
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

/** One 16-entry table per nibble position (8 kB per key): 32 lookups, no shifts. */
export class Nibble32Ghash implements GhashCandidate {
  readonly name = 'nibble-32x16';
  readonly tableBytes = 32 * 16 * 16;
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly table = new Int32Array(32 * 16 * 4);
  constructor(h: Uint8Array) {
    const powers = powersOfH(h);
    for (let j = 0; j < 32; j++) fillProducts(this.table, j * 64, powers, 4 * j, 4);
  }

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
      o = (0 + (y0 >>> 28)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (16 + ((y0 >>> 24) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (32 + ((y0 >>> 20) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (48 + ((y0 >>> 16) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (64 + ((y0 >>> 12) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (80 + ((y0 >>> 8) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (96 + ((y0 >>> 4) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (112 + (y0 & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (128 + (y1 >>> 28)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (144 + ((y1 >>> 24) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (160 + ((y1 >>> 20) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (176 + ((y1 >>> 16) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (192 + ((y1 >>> 12) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (208 + ((y1 >>> 8) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (224 + ((y1 >>> 4) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (240 + (y1 & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (256 + (y2 >>> 28)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (272 + ((y2 >>> 24) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (288 + ((y2 >>> 20) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (304 + ((y2 >>> 16) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (320 + ((y2 >>> 12) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (336 + ((y2 >>> 8) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (352 + ((y2 >>> 4) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (368 + (y2 & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (384 + (y3 >>> 28)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (400 + ((y3 >>> 24) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (416 + ((y3 >>> 20) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (432 + ((y3 >>> 16) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (448 + ((y3 >>> 12) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (464 + ((y3 >>> 8) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (480 + ((y3 >>> 4) & 15)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (496 + (y3 & 15)) << 2;
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

/** One 256-entry table per byte position (64 kB per key): 16 lookups, no shifts. */
export class Byte16Ghash implements GhashCandidate {
  readonly name = 'byte-16x256';
  readonly tableBytes = 16 * 256 * 16;
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly table = new Int32Array(16 * 256 * 4);
  constructor(h: Uint8Array) {
    const powers = powersOfH(h);
    for (let i = 0; i < 16; i++) fillProducts(this.table, i * 1024, powers, 8 * i, 8);
  }
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
      o = (0 + (y0 >>> 24)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (256 + ((y0 >>> 16) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (512 + ((y0 >>> 8) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (768 + (y0 & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (1024 + (y1 >>> 24)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (1280 + ((y1 >>> 16) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (1536 + ((y1 >>> 8) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (1792 + (y1 & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (2048 + (y2 >>> 24)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (2304 + ((y2 >>> 16) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (2560 + ((y2 >>> 8) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (2816 + (y2 & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (3072 + (y3 >>> 24)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (3328 + ((y3 >>> 16) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (3584 + ((y3 >>> 8) & 255)) << 2;
      z0 ^= m[o] ?? 0;
      z1 ^= m[o + 1] ?? 0;
      z2 ^= m[o + 2] ?? 0;
      z3 ^= m[o + 3] ?? 0;
      o = (3840 + (y3 & 255)) << 2;
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
 * Shoup's method two bytes a step: M[b] = b·H and M8[b] = b·H·x^8 (8 kB per key), 8 steps of
 * shift-by-16 whose 16 dropped bits fold back through the shared REDUCE8 twice.
 */
export class Shoup16Ghash implements GhashCandidate {
  readonly name = 'shoup-2x8bit';
  readonly tableBytes = 2 * 256 * 16;
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly table = new Int32Array(2 * 256 * 4);
  constructor(h: Uint8Array) {
    const powers = powersOfH(h);
    fillProducts(this.table, 0, powers, 0, 8);
    fillProducts(this.table, 1024, powers, 8, 8);
  }

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
      let p = 0;
      let r = 0;
      o = ((y3 >>> 8) & 255) << 2;
      p = (256 + (y3 & 255)) << 2;
      z0 = (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 = (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 = (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 = (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = (y3 >>> 24) << 2;
      p = (256 + ((y3 >>> 16) & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = ((y2 >>> 8) & 255) << 2;
      p = (256 + (y2 & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = (y2 >>> 24) << 2;
      p = (256 + ((y2 >>> 16) & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = ((y1 >>> 8) & 255) << 2;
      p = (256 + (y1 & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = (y1 >>> 24) << 2;
      p = (256 + ((y1 >>> 16) & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = ((y0 >>> 8) & 255) << 2;
      p = (256 + (y0 & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
      r = z3 & 65535;
      z3 = (z3 >>> 16) | (z2 << 16);
      z2 = (z2 >>> 16) | (z1 << 16);
      z1 = (z1 >>> 16) | (z0 << 16);
      z0 = (z0 >>> 16) ^ (REDUCE8[r >>> 8] ?? 0) ^ ((REDUCE8[r & 255] ?? 0) >>> 8);
      o = (y0 >>> 24) << 2;
      p = (256 + ((y0 >>> 16) & 255)) << 2;
      z0 ^= (m[o] ?? 0) ^ (m[p] ?? 0);
      z1 ^= (m[o + 1] ?? 0) ^ (m[p + 1] ?? 0);
      z2 ^= (m[o + 2] ?? 0) ^ (m[p + 2] ?? 0);
      z3 ^= (m[o + 3] ?? 0) ^ (m[p + 3] ?? 0);
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

const WASM = loadGhashWasm();

/**
 * GHASH in WebAssembly SIMD (./ghash-wasm.ts): 31 independent table loads per block and a
 * shift-and-XOR fold; the key's 4 kB table copied into the instance when the key changes, the
 * data copied in per call. Throws where the runtime has no WebAssembly SIMD.
 */
export class WasmGhash implements GhashCandidate {
  readonly name = 'wasm-simd';
  readonly tableBytes = 256 * 16;
  y0 = 0;
  y1 = 0;
  y2 = 0;
  y3 = 0;
  private readonly compact: Uint8Array;
  constructor(h: Uint8Array) {
    const m = new Int32Array(256 * 4);
    fillProducts(m, 0, powersOfH(h, 8), 0, 8);
    this.compact = compactTable(m);
  }

  blocks(view: DataView, at: number, end: number): void {
    if (WASM === undefined) throw new Error('WebAssembly SIMD is not available here');
    WASM.blocks(this, this.compact, view, at, end);
  }
}

/**
 * GHASH in WebAssembly SIMD with the key's table resident (lib/srtp/ghash-simd.ts): each
 * key's 4 kB table stays in its slot of the shared memory (no copy when the key changes; each
 * byte's product is one row load and two shuffles instead of wasm-simd's two loads from an
 * 8 kB padded table); blocks are copied into the scratch and absorbed when the next key takes
 * it. release() frees the slot (the bench calls it after each key count).
 */
export class WasmResidentGhash extends GhashSimd implements GhashCandidate {
  readonly name = 'wasm-resident';
  readonly tableBytes = GhashSimd.tableBytes;
}
