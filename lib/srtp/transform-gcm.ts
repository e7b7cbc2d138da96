import { type Cipher, createCipheriv } from 'node:crypto';
import { GcmGhash as Ghash } from './ghash-simd.js';
import type { SessionKeySet, SessionKeys } from './key-derivation.js';
import { type FirstBlock, KeystreamRuns, xorInto } from './keystream-runs.js';
import type { SrtpProfileParameters } from './profiles.js';
import { type SrtpTransform, writeUint32 } from './transform.js';
import { copyBytes } from './views.js';

const TAG_LENGTH = 16;

/**
 * The JS AES-GCM of one session key: counter-mode keystream from per-SSRC runs of one
 * long-lived ECB cipher, and GHASH under H = E_K(0^128) with 4 kB of tables. No node:crypto
 * object per packet (one ECB call and its result buffer per run of packets): measured against
 * one node:crypto GCM cipher per packet in bench/srtp-ghash.ts (see bench/RESULTS.md, SRTP).
 */
class GcmKey {
  readonly runs: KeystreamRuns;
  readonly ghash: Ghash;

  constructor(keyLength: number, keys: SessionKeys, firstBlock: FirstBlock) {
    const ecb: Cipher = createCipheriv(
      keyLength === 32 ? 'aes-256-ecb' : 'aes-128-ecb',
      keys.encryptionKey,
      null,
    );
    ecb.setAutoPadding(false);
    // Payload keystream views start after E_K(J0), the packet's first 16 bytes of keystream.
    this.runs = new KeystreamRuns(ecb, firstBlock, TAG_LENGTH);
    this.ghash = new Ghash(ecb.update(Buffer.alloc(16)));
  }

  release(): void {
    this.ghash.release();
  }
}

/**
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 7714): 16-byte tag; the RTP header, or the
 * first 8 RTCP bytes plus the E flag and SRTCP index, are associated data. Every packet is
 * sealed and opened in JavaScript (GcmKey); the SRTCP key's state is made on the first RTCP
 * packet. Tags are compared in constant time, and a packet that fails drops its SSRC's
 * keystream run (KeystreamRuns.forget) so forged indices cannot move it.
 */
export class AesGcmTransform implements SrtpTransform {
  readonly rtpOverhead = TAG_LENGTH;
  readonly rtcpOverhead = TAG_LENGTH + 4;
  readonly rtcpIndexFromEnd = 4;
  private readonly keyLength: number;
  private readonly keys: SessionKeySet;
  private readonly rtp: GcmKey;
  private rtcpKey: GcmKey | undefined;
  /** SRTCP AAD with E set: first 8 bytes || E|index; or (E clear) the tail of the AAD. */
  private readonly rtcpAad = Buffer.alloc(32);

  constructor(p: SrtpProfileParameters, keys: SessionKeySet) {
    this.keyLength = p.keyLength;
    this.keys = keys;
    // J0 = IV || 0^31 || 1 (NIST SP 800-38D §7.1, 96-bit IV); payload blocks count on from 2.
    // RFC 7714 §8.1: IV = 00 00 || SSRC || ROC || SEQ, XOR the 96-bit session salt.
    const [s0, s1, s2] = saltWords(keys.rtp.salt);
    this.rtp = new GcmKey(p.keyLength, keys.rtp, (_block, ssrc, index, w) => {
      const roc = Math.floor(index / 65536);
      w.setInt32(0, s0 ^ (ssrc >>> 16));
      w.setInt32(4, s1 ^ ((ssrc << 16) | (roc >>> 16)));
      w.setInt32(8, s2 ^ ((roc << 16) | (index & 0xffff)));
      w.setInt32(12, 1);
    });
  }

  close(): void {
    this.rtp.release();
    this.rtcpKey?.release();
  }

  private rtcp(): GcmKey {
    if (this.rtcpKey === undefined) {
      // RFC 7714 §9.1: IV = 00 00 || SSRC || 00 00 || 0 || SRTCP index, XOR the session salt.
      const [s0, s1, s2] = saltWords(this.keys.rtcp.salt);
      this.rtcpKey = new GcmKey(this.keyLength, this.keys.rtcp, (_block, ssrc, index, w) => {
        w.setInt32(0, s0 ^ (ssrc >>> 16));
        w.setInt32(4, s1 ^ (ssrc << 16));
        w.setInt32(8, s2 ^ (index & 0x7fffffff));
        w.setInt32(12, 1);
      });
    }
    return this.rtcpKey;
  }

  protectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    const n = length - headerLength;
    const { runs, ghash: g } = this.rtp;
    runs.keystream(ssrc, index, TAG_LENGTH + n);
    const ks = runs.view;
    const at = runs.viewOffset;
    if (out !== packet) copyBytes(packet, 0, out, 0, headerLength);
    g.reset();
    g.update(out, 0, headerLength);
    g.seal(packet, out, headerLength, ks, at + TAG_LENGTH, n, runs.payload);
    g.finish(headerLength, n, ks, at);
    g.writeTag(out, length);
    return length + TAG_LENGTH;
  }

  unprotectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    const end = length - TAG_LENGTH;
    const n = end - headerLength;
    const { runs, ghash: g } = this.rtp;
    runs.keystream(ssrc, index, TAG_LENGTH + n);
    const ks = runs.view;
    const at = runs.viewOffset;
    g.reset();
    g.update(packet, 0, headerLength);
    g.update(packet, headerLength, n);
    g.finish(headerLength, n, ks, at);
    if (!g.tagEquals(packet, end)) {
      runs.forget(ssrc);
      return -1;
    }
    if (out !== packet) copyBytes(packet, 0, out, 0, headerLength);
    xorInto(out, headerLength, packet, ks, at + TAG_LENGTH, n);
    return end;
  }

  /** RFC 7714 §9: always encrypted (E = 1); AAD is the first 8 bytes and the E|index word. */
  protectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number {
    const word = (0x80000000 | index) >>> 0;
    const n = length - 8;
    const { runs, ghash: g } = this.rtcp();
    runs.keystream(ssrc, index, TAG_LENGTH + n);
    const ks = runs.view;
    const at = runs.viewOffset;
    const aad = this.rtcpAad;
    copyBytes(packet, 0, aad, 0, 8);
    writeUint32(aad, 8, word);
    if (out !== packet) copyBytes(packet, 0, out, 0, 8);
    g.reset();
    g.update(aad, 0, 12);
    g.seal(packet, out, 8, ks, at + TAG_LENGTH, n, runs.payload);
    g.finish(12, n, ks, at);
    g.writeTag(out, length);
    writeUint32(out, length + TAG_LENGTH, word);
    return length + TAG_LENGTH + 4;
  }

  /**
   * RFC 7714 §9.2 / §17: the trailer is tag then E|index. With E set the first 8 bytes and
   * the index word are AAD and the rest is ciphertext; with E clear all of it is AAD.
   */
  unprotectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    encrypted: boolean,
    out: Uint8Array,
  ): number {
    const indexAt = length - 4;
    const end = indexAt - TAG_LENGTH;
    const { runs, ghash: g } = this.rtcp();
    const aad = this.rtcpAad;
    g.reset();
    let n = 0;
    let aadBytes = 0;
    if (encrypted) {
      n = end - 8;
      copyBytes(packet, 0, aad, 0, 8);
      copyBytes(packet, indexAt, aad, 8, 4);
      g.update(aad, 0, 12);
      g.update(packet, 8, n);
      aadBytes = 12;
    } else {
      // AAD = packet[0, end) || E|index: whole blocks in place, the rest (≤ 19 bytes) here.
      const rest = end & 15;
      g.update(packet, 0, end - rest);
      copyBytes(packet, end - rest, aad, 0, rest);
      copyBytes(packet, indexAt, aad, rest, 4);
      g.update(aad, 0, rest + 4);
      aadBytes = end + 4;
    }
    runs.keystream(ssrc, index, TAG_LENGTH + n);
    const ks = runs.view;
    const at = runs.viewOffset;
    g.finish(aadBytes, n, ks, at);
    if (!g.tagEquals(packet, end)) {
      runs.forget(ssrc);
      return -1;
    }
    if (out !== packet) copyBytes(packet, 0, out, 0, encrypted ? 8 : end);
    if (encrypted) xorInto(out, 8, packet, ks, at + TAG_LENGTH, n);
    return end;
  }
}

/** The 12-byte GCM session salt as three big-endian 32-bit words. */
function saltWords(salt: Buffer): [number, number, number] {
  return [salt.readInt32BE(0), salt.readInt32BE(4), salt.readInt32BE(8)];
}
