import { createCipheriv } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.js';
import type { SessionKeySet, SessionKeys } from './key-derivation.js';
import { KeystreamRuns, xorInto } from './keystream-runs.js';
import type { SrtpProfileParameters } from './profiles.js';
import { type SrtpTransform, writeUint32, xorUint32 } from './transform.js';
import { copyBytes } from './views.js';

interface Keys {
  /**
   * Keystream from AES in ECB mode over the session key, kept open for the session's life:
   * AES-CM keystream is AES of successive counter blocks, so one update() over the counter
   * blocks of one or several packets replaces a createCipheriv per packet (the per-packet IV
   * is in the blocks, not the cipher). Never finalised; it encrypts whole blocks only, so
   * holds nothing between calls.
   */
  readonly runs: KeystreamRuns;
  /** HMAC-SHA1 under the session authentication key, its key schedule done once. */
  readonly auth: HmacSha1;
}

function importKeys(k: SessionKeys): Keys {
  const algorithm = k.encryptionKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb';
  const blockCipher = createCipheriv(algorithm, k.encryptionKey, null);
  blockCipher.setAutoPadding(false);
  const salt = k.salt;
  // RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
  const firstBlock = (iv: Buffer, ssrc: number, index: number) => {
    iv.fill(0);
    salt.copy(iv, 0);
    xorUint32(iv, 4, ssrc);
    xorUint32(iv, 8, Math.floor(index / 65536));
    iv[12] = (iv[12] ?? 0) ^ ((index >>> 8) & 0xff);
    iv[13] = (iv[13] ?? 0) ^ (index & 0xff);
  };
  return { runs: new KeystreamRuns(blockCipher, firstBlock), auth: new HmacSha1(k.authKey) };
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

  constructor(p: SrtpProfileParameters, keys: SessionKeySet) {
    this.rtp = importKeys(keys.rtp);
    this.rtcp = importKeys(keys.rtcp);
    this.rtpTagLength = p.rtpTagLength;
    this.rtcpTagLength = p.rtcpTagLength;
    this.rtpOverhead = p.rtpTagLength;
    this.rtcpOverhead = 4 + p.rtcpTagLength;
    this.rtcpIndexFromEnd = 4 + p.rtcpTagLength;
  }

  /** Nothing outside the JS heap to free. */
  close(): void {}

  protectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    if (out !== packet) copyBytes(packet, 0, out, 0, headerLength);
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
    if (out !== packet) copyBytes(packet, 0, out, 0, headerLength);
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
    if (out !== packet) copyBytes(packet, 0, out, 0, 8);
    this.ctr(this.rtcp, ssrc, index, packet, 8, length, out);
    writeUint32(out, length, (0x80000000 | index) >>> 0);
    const tag = this.rtcp.auth.compute(out, length + 4);
    copyBytes(tag, 0, out, length + 4, this.rtcpTagLength);
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
      if (out !== packet) copyBytes(packet, 0, out, 0, 8);
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
    if (dst !== undefined) copyBytes(digest, 0, dst, at ?? 0, this.rtpTagLength);
    return digest;
  }

  /**
   * XORs the AES-CM keystream into src[start, end) → out[start, end). IV per RFC 3711 §4.1.1:
   * (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i the 48-bit SRTP or 31-bit SRTCP index.
   * SRTP keystream comes in per-SSRC runs made ahead (see KeystreamRuns); SRTCP's per packet.
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
    if (keys === this.rtp) keys.runs.keystream(ssrc, index, n);
    else keys.runs.single(ssrc, index, n);
    xorInto(out, start, src, keys.runs.view, keys.runs.viewOffset, n);
  }
}
