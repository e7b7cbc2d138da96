import { timingSafeEqual } from 'node:crypto';
import { type HmacSha1Pads, hmacSha1Pads, SHA1_BLOCK, sha1Compress } from '../util/sha1.js';

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
 * The SHA-1 compression and key schedule are lib/util/sha1.ts, shared with SRTP's HMAC.
 */

const BLOCK = SHA1_BLOCK;

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
  readonly #pads: HmacSha1Pads;

  constructor(key: Uint8Array) {
    this.#pads = hmacSha1Pads(key);
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
    state.set(this.#pads.inner);
    const full = end & ~(BLOCK - 1);
    if (full > 0) {
      // The first block holds the length field: compress it from a patched copy.
      tail.set(buf.subarray(0, BLOCK), 0);
      tail[2] = (lengthField >> 8) & 0xff;
      tail[3] = lengthField & 0xff;
      sha1Compress(state, tailView, 0);
      if (full > BLOCK) {
        const view = new DataView(buf.buffer, buf.byteOffset, full);
        for (let at = BLOCK; at < full; at += BLOCK) sha1Compress(state, view, at);
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
    sha1Compress(state, tailView, 0);
    if (tailLength > BLOCK) sha1Compress(state, tailView, BLOCK);
    for (let i = 0; i < 5; i++) outerView.setInt32(4 * i, state[i]!);
    state.set(this.#pads.outer);
    sha1Compress(state, outerView, 0);
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
