import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA1 (RFC 2104) for STUN MESSAGE-INTEGRITY on the ICE-lite hot path, in JavaScript
 * with the key schedule done once per session (`CheckKey`).
 *
 * Why not createHmac: an ICE-lite mux computes two HMACs per check (verify the request, sign
 * the response) over ~100 bytes, and node:crypto's per-call setup dominates at that size
 * (createHmac measured ~3.5x the cost of this on Node 20 / OpenSSL 3; the one-shot `hash()`
 * twice, ~3x). Here a check costs the SHA-1 compressions of its own blocks plus one outer
 * block, starting from the states after K⊕ipad and K⊕opad kept in 40 bytes per session.
 *
 * lib/srtp/hmac-sha1.ts does the same for SRTP; lib/ice may not import lib/srtp (DESIGN.md
 * layering), so the two should move to lib/util together.
 */

const BLOCK = 64;
const INITIAL = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;
const W = new Int32Array(80);

/** SHA-1 compression (FIPS 180-4 §6.1.2) of the block at `v[at]` into `h[o, o+5)`. */
function compress(h: Int32Array, o: number, v: DataView, at: number): void {
  for (let i = 0; i < 16; i++) W[i] = v.getInt32(at + 4 * i);
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = h[o]!;
  let b = h[o + 1]!;
  let c = h[o + 2]!;
  let d = h[o + 3]!;
  let e = h[o + 4]!;
  // The four 20-round stages, each with its function and constant (FIPS 180-4 §4.1.1).
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t =
      (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  h[o] = (h[o]! + a) | 0;
  h[o + 1] = (h[o + 1]! + b) | 0;
  h[o + 2] = (h[o + 2]! + c) | 0;
  h[o + 3] = (h[o + 3]! + d) | 0;
  h[o + 4] = (h[o + 4]! + e) | 0;
}

/** Scratch for one HMAC: the working state, the message's last blocks, the outer block. */
const state = new Int32Array(5);
const tail = new Uint8Array(2 * BLOCK);
const tailView = new DataView(tail.buffer);
const outer = new Uint8Array(BLOCK);
const outerView = new DataView(outer.buffer);
outer[20] = 0x80;
outerView.setUint32(60, (BLOCK + 20) * 8);

/** A short-term key with its HMAC key schedule: the SHA-1 states after K⊕ipad and K⊕opad. */
export class CheckKey {
  /** inner state [0, 5), outer state [5, 10). */
  readonly #pads = new Int32Array(10);

  constructor(key: Uint8Array) {
    const k = key.length > BLOCK ? createHash('sha1').update(key).digest() : key;
    const block = new Uint8Array(BLOCK);
    const view = new DataView(block.buffer);
    for (const [o, pad] of [
      [0, 0x36],
      [5, 0x5c],
    ] as const) {
      for (let i = 0; i < BLOCK; i++) block[i] = (i < k.length ? k[i]! : 0) ^ pad;
      this.#pads.set(INITIAL, o);
      compress(this.#pads, o, view, 0);
    }
  }

  /**
   * HMAC-SHA1 of `buf[0, end)` with bytes 2–3 (the STUN length field) read as `lengthField`:
   * the MESSAGE-INTEGRITY input of RFC 8489 §14.5. Writes the 20 bytes at `out[outOffset]`.
   */
  sign(
    buf: Uint8Array,
    end: number,
    lengthField: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    state.set(this.#pads.subarray(0, 5));
    const full = end & ~(BLOCK - 1);
    if (full > 0) {
      // The first block holds the length field: compress it from a patched copy.
      tail.set(buf.subarray(0, BLOCK), 0);
      tail[2] = (lengthField >> 8) & 0xff;
      tail[3] = lengthField & 0xff;
      compress(state, 0, tailView, 0);
      if (full > BLOCK) {
        const view = new DataView(buf.buffer, buf.byteOffset, full);
        for (let at = BLOCK; at < full; at += BLOCK) compress(state, 0, view, at);
      }
    }
    const rest = end - full;
    const tailLength = rest + 9 <= BLOCK ? BLOCK : 2 * BLOCK;
    tail.fill(0, 0, tailLength);
    tail.set(buf.subarray(full, end), 0);
    if (full === 0) {
      tail[2] = (lengthField >> 8) & 0xff;
      tail[3] = lengthField & 0xff;
    }
    tail[rest] = 0x80;
    const bits = (BLOCK + end) * 8;
    tailView.setUint32(tailLength - 8, Math.floor(bits / 0x100000000));
    tailView.setUint32(tailLength - 4, bits >>> 0);
    compress(state, 0, tailView, 0);
    if (tailLength > BLOCK) compress(state, 0, tailView, BLOCK);
    for (let i = 0; i < 5; i++) outerView.setInt32(4 * i, state[i]!);
    state.set(this.#pads.subarray(5, 10));
    compress(state, 0, outerView, 0);
    for (let i = 0; i < 5; i++) {
      const v = state[i]!;
      const p = outOffset + 4 * i;
      out[p] = v >>> 24;
      out[p + 1] = (v >>> 16) & 0xff;
      out[p + 2] = (v >>> 8) & 0xff;
      out[p + 3] = v & 0xff;
    }
  }

  /**
   * True if the 20 bytes at `buf[valueOffset]` are the MESSAGE-INTEGRITY, under this key, of
   * the message before that attribute (its header is the 4 bytes before `valueOffset`).
   */
  verify(buf: Uint8Array, valueOffset: number): boolean {
    if (valueOffset < 24 || valueOffset + 20 > buf.length) return false;
    this.sign(buf, valueOffset - 4, valueOffset, macOut, 0);
    return timingSafeEqual(macOut, buf.subarray(valueOffset, valueOffset + 20));
  }
}

const macOut = Buffer.alloc(20);
