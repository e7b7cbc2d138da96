import { hash } from 'node:crypto';
import { hmacSha1Pads, SHA1_BLOCK, sha1Compress } from '../util/sha1.js';
import { copyBytes, Slot, viewOf } from './views.js';

/**
 * Messages up to this many bytes are hashed wholly in JavaScript; longer ones have their inner
 * hash done by node:crypto's one-shot `hash()` (one native call, no Hash object) over the
 * precomputed K⊕ipad block followed by the message, and the outer hash in JavaScript. The JS
 * compression costs ~170 ns per 64-byte block, the one-shot call ~700 ns plus ~0.9 ns a byte,
 * so JS wins up to ~300 bytes on Node 20 (x64); both beat createHmac (~2.1 µs at 160 B,
 * ~2.6 µs at 1,200 B) at every size.
 */
export const SMALL_MESSAGE_LIMIT = 256;

const BLOCK = SHA1_BLOCK;

/**
 * HMAC-SHA1 (RFC 2104) for one key, with the key schedule done once: the SHA-1 states after
 * the K⊕ipad and K⊕opad blocks are kept, so a short message costs only its own blocks plus
 * one outer block. SRTP authenticates every packet under the same session key (RFC 3711
 * §4.2.1), so the per-packet key setup of createHmac is pure overhead there.
 */
export class HmacSha1 {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;
  /** K⊕ipad, then room for the message and suffix of the native path (grown on demand). */
  private scratch = Buffer.alloc(BLOCK + 1504 + 4);
  private scratchView = new DataView(this.scratch.buffer);
  private readonly prefixes = new Map<number, Buffer>();
  private readonly state = new Int32Array(5);
  private readonly tail = new Uint8Array(2 * BLOCK);
  private readonly tailView = new DataView(this.tail.buffer);
  private readonly outerBlock = new Uint8Array(BLOCK);
  private readonly outerView = new DataView(this.outerBlock.buffer);
  private readonly digestOut = Buffer.alloc(20);

  constructor(key: Uint8Array) {
    const pads = hmacSha1Pads(key);
    const k = pads.key;
    this.inner = pads.inner;
    this.outer = pads.outer;
    for (let i = 0; i < BLOCK; i++) this.scratch[i] = (k[i] ?? 0) ^ 0x36;
    // The outer message is always the 20-byte inner digest: its padding never changes.
    this.outerBlock[20] = 0x80;
    this.outerView.setUint32(60, (BLOCK + 20) * 8);
  }

  /**
   * HMAC of `data[0, length)`, followed by `suffix` as a big-endian 32-bit word when given
   * (SRTP appends the ROC, RFC 3711 §4.2). The returned 20 bytes may be a buffer reused by
   * the next call: read or copy them before calling again.
   */
  compute(data: Uint8Array, length: number, suffix?: number): Buffer {
    const state = this.state;
    if (length > SMALL_MESSAGE_LIMIT) {
      const need = BLOCK + length + 4;
      if (this.scratch.length < need) {
        const grown = Buffer.alloc(need);
        this.scratch.copy(grown, 0, 0, BLOCK);
        this.scratch = grown;
        this.scratchView = new DataView(grown.buffer);
      }
      const scratch = this.scratch;
      const src = viewOf(data, Slot.hmac);
      const dst = this.scratchView;
      const from = data.byteOffset;
      const to = scratch.byteOffset + BLOCK;
      const words = length & ~3;
      for (let i = 0; i < words; i += 4) dst.setInt32(to + i, src.getInt32(from + i));
      copyBytes(data, words, scratch, BLOCK + words, length - words);
      let end = BLOCK + length;
      if (suffix !== undefined) {
        scratch.writeUInt32BE(suffix >>> 0, end);
        end += 4;
      }
      // The digest as a 20-character 'binary' (latin1) string, one byte per character: a Buffer result
      // is a new ArrayBuffer per packet, and 'buffer' is not one of Node's fast encoding
      // names (normalizeEncoding lower-cased it on every call): 477 → ~60 B of heap a packet.
      const inner = hash('sha1', this.prefix(end), 'binary');
      const outer = this.outerBlock;
      for (let i = 0; i < 20; i++) outer[i] = inner.charCodeAt(i);
      return this.finish();
    }
    state.set(this.inner);
    const full = length & ~(BLOCK - 1);
    if (full > 0) {
      const view = viewOf(data, Slot.hmac);
      const start = data.byteOffset;
      for (let at = start; at < start + full; at += BLOCK) sha1Compress(state, view, at);
    }
    // Last partial block, the suffix, 0x80, zeros and the 64-bit bit length (FIPS 180-4 §5.1.1).
    const tail = this.tail;
    const tailView = this.tailView;
    let used = length - full;
    const total = BLOCK + length + (suffix === undefined ? 0 : 4);
    const tailLength = used + (suffix === undefined ? 0 : 4) + 9 <= BLOCK ? BLOCK : 2 * BLOCK;
    tail.fill(0, 0, tailLength);
    if (used > 0) copyBytes(data, full, tail, 0, used);
    if (suffix !== undefined) {
      tailView.setUint32(used, suffix >>> 0);
      used += 4;
    }
    tail[used] = 0x80;
    tailView.setUint32(tailLength - 8, Math.floor(total / 0x20000000));
    tailView.setUint32(tailLength - 4, (total * 8) >>> 0);
    sha1Compress(state, tailView, 0);
    if (tailLength > BLOCK) sha1Compress(state, tailView, BLOCK);

    const outerView = this.outerView;
    for (let i = 0; i < 5; i++) outerView.setInt32(4 * i, state[i] ?? 0);
    return this.finish();
  }

  /** `scratch[0, bytes)` as a Buffer, one view kept per length (packet sizes repeat). */
  private prefix(bytes: number): Buffer {
    let v = this.prefixes.get(bytes);
    if (v === undefined || v.buffer !== this.scratch.buffer) {
      if (this.prefixes.size >= 32) this.prefixes.clear();
      v = this.scratch.subarray(0, bytes);
      this.prefixes.set(bytes, v);
    }
    return v;
  }

  /** The outer hash over the inner digest already in the outer block. */
  private finish(): Buffer {
    const state = this.state;
    state.set(this.outer);
    sha1Compress(state, this.outerView, 0);
    const out = this.digestOut;
    for (let i = 0; i < 5; i++) out.writeInt32BE(state[i] ?? 0, 4 * i);
    return out;
  }
}
