import { type Cipher, createCipheriv } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.js';
import type { SessionKeySet, SessionKeys } from './key-derivation.js';
import type { SrtpProfileParameters } from './profiles.js';
import { type SrtpTransform, writeUint32, xorUint32 } from './transform.js';

interface Keys {
  /**
   * AES in ECB mode over the session key, kept open for the session's life: AES-CM keystream
   * is AES of successive counter blocks, so one update() over the packet's counter blocks
   * replaces a createCipheriv per packet (the per-packet IV is in the blocks, not the
   * cipher). Never finalised; it encrypts whole blocks only, so holds nothing between calls.
   */
  readonly blockCipher: Cipher;
  readonly salt: Buffer;
  /** HMAC-SHA1 under the session authentication key, its key schedule done once. */
  readonly auth: HmacSha1;
}

function importKeys(k: SessionKeys): Keys {
  const algorithm = k.encryptionKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb';
  const blockCipher = createCipheriv(algorithm, k.encryptionKey, null);
  blockCipher.setAutoPadding(false);
  return { blockCipher, salt: k.salt, auth: new HmacSha1(k.authKey) };
}

/**
 * SRTP packets whose keystream one ECB call makes ahead, per SSRC. A stream's indices come in
 * order (the sender's are consecutive; a receiver's mostly so), so one native call and one
 * result buffer serve this many packets instead of one: the per-call cost of node:crypto
 * (~450 ns) and the per-packet allocation are what dominate AES-CM here, not AES itself.
 */
export const RUN_PACKETS = 8;
/** SSRCs with a keystream run kept, per transform (a run of 1,200 B packets is ~10 kB). */
const MAX_RUNS = 64;
const EMPTY = Buffer.alloc(0);

/**
 * Keystream for SRTP indices [first, first + count) of one SSRC, `stride` bytes each (a
 * multiple of 16, at least the largest packet seen when it was made). Keystream is a function
 * of key, SSRC and index only, so using it later, for either direction, is the same as making
 * it then; holding it is no weaker than holding the key.
 */
interface KeystreamRun {
  first: number;
  count: number;
  stride: number;
  /** Largest payload served from this run: the next run's stride. */
  largest: number;
  keystream: Buffer;
}

/** Whether the first `n` bytes at `a[ai]` and `b[bi]` agree, in time independent of where. */
function tagsEqual(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= (a[ai + i] ?? 0) ^ (b[bi + i] ?? 0);
  return diff === 0;
}

/**
 * AES_CM_128_HMAC_SHA1_80 and _32: AES in counter mode (RFC 3711 §4.1.1) and HMAC-SHA1
 * truncated to 80 or 32 bits (§4.2.1); SRTCP always carries an 80-bit tag.
 */
export class AesCmHmacTransform implements SrtpTransform {
  readonly rtpOverhead: number;
  readonly rtcpOverhead: number;
  readonly rtcpIndexFromEnd: number;
  private readonly rtp: Keys;
  private readonly rtcp: Keys;
  private readonly rtpTagLength: number;
  private readonly rtcpTagLength: number;
  private readonly iv = Buffer.alloc(16);
  /** Counter blocks for one packet or one run, grown to the largest seen. */
  private counters = Buffer.alloc(1504);
  /** SRTP keystream runs by SSRC (at most MAX_RUNS, oldest dropped first). */
  private readonly runs = new Map<number, KeystreamRun>();

  constructor(p: SrtpProfileParameters, keys: SessionKeySet) {
    this.rtp = importKeys(keys.rtp);
    this.rtcp = importKeys(keys.rtcp);
    this.rtpTagLength = p.rtpTagLength;
    this.rtcpTagLength = p.rtcpTagLength;
    this.rtpOverhead = p.rtpTagLength;
    this.rtcpOverhead = 4 + p.rtcpTagLength;
    this.rtcpIndexFromEnd = 4 + p.rtcpTagLength;
  }

  protectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    if (out !== packet) out.set(packet.subarray(0, headerLength), 0);
    this.ctr(this.rtp, ssrc, index, packet, headerLength, length, out);
    this.rtpTag(out, length, index, out, length);
    return length + this.rtpTagLength;
  }

  unprotectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    const end = length - this.rtpTagLength;
    const tag = this.rtpTag(packet, end, index);
    if (!tagsEqual(tag, 0, packet, end, this.rtpTagLength)) return -1;
    if (out !== packet) out.set(packet.subarray(0, headerLength), 0);
    this.ctr(this.rtp, ssrc, index, packet, headerLength, end, out);
    return end;
  }

  protectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    if (out !== packet) out.set(packet.subarray(0, 8), 0);
    this.ctr(this.rtcp, ssrc, index, packet, 8, length, out);
    writeUint32(out, length, (0x80000000 | index) >>> 0);
    const tag = this.rtcp.auth.compute(out, length + 4);
    out.set(tag.subarray(0, this.rtcpTagLength), length + 4);
    return length + 4 + this.rtcpTagLength;
  }

  unprotectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    encrypted: boolean,
    out: Uint8Array,
  ): number {
    const tagAt = length - this.rtcpTagLength;
    const tag = this.rtcp.auth.compute(packet, tagAt);
    if (!tagsEqual(tag, 0, packet, tagAt, this.rtcpTagLength)) return -1;
    const end = tagAt - 4;
    if (encrypted) {
      if (out !== packet) out.set(packet.subarray(0, 8), 0);
      this.ctr(this.rtcp, ssrc, index, packet, 8, end, out);
    } else if (out !== packet) {
      out.set(packet.subarray(0, end), 0);
    }
    return end;
  }

  /**
   * HMAC-SHA1 over the authenticated portion and the ROC (RFC 3711 §4.2); writes the
   * truncated tag to `dst` when given, and returns the full digest (valid until the next
   * HMAC under the same key).
   */
  private rtpTag(
    src: Uint8Array,
    end: number,
    index: number,
    dst?: Uint8Array,
    at?: number,
  ): Buffer {
    const digest = this.rtp.auth.compute(src, end, Math.floor(index / 65536));
    if (dst !== undefined) dst.set(digest.subarray(0, this.rtpTagLength), at);
    return digest;
  }

  /**
   * XORs the AES-CM keystream into src[start, end) → out[start, end). IV per RFC 3711 §4.1.1:
   * (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i the 48-bit SRTP or 31-bit SRTCP index.
   * SRTP keystream comes from the per-SSRC run (see `KeystreamRun`) when the index is in it or
   * just past it; SRTCP, and SRTP packets from before the run, get their own.
   */
  private ctr(
    keys: Keys,
    ssrc: number,
    index: number,
    src: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
  ): void {
    if (end <= start) return;
    const n = end - start;
    if (keys === this.rtp) {
      const run = this.runFor(ssrc, index, n);
      if (run !== undefined) {
        xorInto(out, start, src, run.keystream, (index - run.first) * run.stride, n);
        return;
      }
    }
    const blocks = (n + 15) >>> 4;
    const counters = this.counterBlocks(blocks);
    writeCounters(counters, 0, this.ivFor(keys, ssrc, index), blocks);
    const keystream = keys.blockCipher.update(counters.subarray(0, blocks * 16));
    xorInto(out, start, src, keystream, 0, n);
  }

  /**
   * The run holding keystream for SRTP `index` of `ssrc` at least `n` bytes long, refilled
   * from `index` on when the stream has moved past it (or its packets outgrew the stride);
   * undefined for an index before the run (a late, reordered packet).
   */
  private runFor(ssrc: number, index: number, n: number): KeystreamRun | undefined {
    let run = this.runs.get(ssrc);
    if (run === undefined) {
      if (this.runs.size >= MAX_RUNS) {
        const oldest = this.runs.keys().next();
        if (oldest.done !== true) this.runs.delete(oldest.value);
      }
      run = { first: 0, count: 0, stride: 0, largest: 0, keystream: EMPTY };
      this.runs.set(ssrc, run);
    }
    const at = index - run.first;
    if (at < 0) return undefined;
    if (at < run.count && n <= run.stride) {
      if (n > run.largest) run.largest = n;
      return run;
    }
    // Refill: RUN_PACKETS packets from `index`, each as long as the largest of the last run.
    const stride = (Math.max(n, run.largest) + 15) & ~15;
    const perPacket = stride >>> 4;
    const blocks = perPacket * RUN_PACKETS;
    const counters = this.counterBlocks(blocks);
    for (let p = 0; p < RUN_PACKETS; p++) {
      writeCounters(counters, p * stride, this.ivFor(this.rtp, ssrc, index + p), perPacket);
    }
    run.keystream = this.rtp.blockCipher.update(counters.subarray(0, blocks * 16));
    run.first = index;
    run.count = RUN_PACKETS;
    run.stride = stride;
    run.largest = n;
    return run;
  }

  /** The counter-block scratch, at least `blocks` blocks long. */
  private counterBlocks(blocks: number): Buffer {
    if (this.counters.length < blocks * 16) this.counters = Buffer.alloc(blocks * 16);
    return this.counters;
  }

  /** The first counter block of a packet (its IV), in the reused `iv` buffer. */
  private ivFor(keys: Keys, ssrc: number, index: number): Buffer {
    const iv = this.iv;
    iv.fill(0);
    keys.salt.copy(iv, 0);
    xorUint32(iv, 4, ssrc);
    xorUint32(iv, 8, Math.floor(index / 65536));
    iv[12] = (iv[12] ?? 0) ^ ((index >>> 8) & 0xff);
    iv[13] = (iv[13] ?? 0) ^ (index & 0xff);
    return iv;
  }
}

/** Writes `blocks` counter blocks IV, IV + 1, … at `counters[at]`. */
function writeCounters(counters: Buffer, at: number, iv: Buffer, blocks: number): void {
  // Block b is IV + b: the IV's low 16 bits are zero and a packet has < 2^16 blocks.
  counters.fill(iv, at, at + blocks * 16);
  for (let b = 1, i = at + 30; b < blocks; b++, i += 16) {
    counters[i] = b >>> 8;
    counters[i + 1] = b & 0xff;
  }
}

/** out[at + i] = src[at + i] ^ keystream[from + i] for i < n; four bytes at a time. */
function xorInto(
  out: Uint8Array,
  at: number,
  src: Uint8Array,
  keystream: Buffer,
  from: number,
  n: number,
): void {
  const o = new DataView(out.buffer, out.byteOffset + at, n);
  const s = out === src ? o : new DataView(src.buffer, src.byteOffset + at, n);
  const k = new DataView(keystream.buffer, keystream.byteOffset + from, n);
  const words = n & ~3;
  for (let i = 0; i < words; i += 4) o.setInt32(i, s.getInt32(i) ^ k.getInt32(i));
  for (let i = words; i < n; i++) o.setUint8(i, s.getUint8(i) ^ k.getUint8(i));
}
