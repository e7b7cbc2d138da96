import { createHash } from 'node:crypto';

/**
 * The SHA-1 compression function and the HMAC key schedule, for the two HMAC-SHA1s that run on
 * per-packet paths: SRTP authentication (lib/srtp/hmac-sha1.ts) and STUN MESSAGE-INTEGRITY on
 * the ICE-lite mux (lib/ice/check-hmac.ts). Both keep the SHA-1 states after K⊕ipad and K⊕opad
 * per key, so a message costs its own blocks plus one outer block, without node:crypto's
 * per-call setup. They differ only in what they feed in (SRTP's ROC suffix, STUN's patched
 * length field), which stays with them.
 */

/** SHA-1 block size in bytes. */
export const SHA1_BLOCK = 64;

const INITIAL_STATE = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;

/** Message schedule, shared: compression never re-enters. */
const schedule = new Int32Array(80);

/** SHA-1 compression (FIPS 180-4 §6.1.2) of the 64-byte block at `view[at]` into `state`. */
export function sha1Compress(state: Int32Array, view: DataView, at: number): void {
  const w = schedule;
  for (let i = 0; i < 16; i++) w[i] = view.getInt32(at + 4 * i);
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  // The four 20-round stages, each with its own function and constant (FIPS 180-4 §4.1.1).
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const majority = (b & c) | (b & d) | (c & d);
    const t = (((a << 5) | (a >>> 27)) + majority + e + 0x8f1bbcdc + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
}

/** An HMAC-SHA1 key schedule (RFC 2104 §2): the SHA-1 states after K⊕ipad and K⊕opad. */
export interface HmacSha1Pads {
  /** The key itself, hashed first when longer than a block. */
  readonly key: Uint8Array;
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

export function hmacSha1Pads(key: Uint8Array): HmacSha1Pads {
  const k = key.length > SHA1_BLOCK ? createHash('sha1').update(key).digest() : key;
  return { key: k, inner: padState(k, 0x36), outer: padState(k, 0x5c) };
}

function padState(key: Uint8Array, pad: number): Int32Array {
  const block = new Uint8Array(SHA1_BLOCK).fill(pad);
  for (let i = 0; i < key.length; i++) block[i] = block[i]! ^ key[i]!;
  const state = Int32Array.from(INITIAL_STATE);
  sha1Compress(state, new DataView(block.buffer), 0);
  return state;
}
