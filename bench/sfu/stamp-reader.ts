/**
 * How the SFU bench's subscribers read a packet's send stamp without paying for a full SRTP
 * unprotect of every 1,200-byte packet (which made the client processes, not the SFU, the
 * machine's bottleneck). The stamp is 8 bytes of the encrypted payload; in AEAD_AES_*_GCM
 * SRTP (RFC 7714 §8.1) the payload is AES-CTR with counter blocks IV || 2, IV || 3, … and
 * IV = (0x0000 || SSRC || ROC || SEQ) XOR the session salt, so the stamp is those 8 bytes
 * XORed with one AES block of keystream, no GHASH. The blocks of the next `STAMP_RUN` packets
 * of an SSRC are made in one ECB call (a native call per packet cost the clients more than
 * the AES itself).
 *
 * Reading is not verifying: every `verifyEvery`-th packet per subscriber (all of them with
 * `verifyEvery` 1, as in `--quick`) is fully unprotected (tag checked, whole payload
 * decrypted) and its decrypted stamp must equal the one read from the ciphertext; a failed
 * tag or a mismatch is counted as bad and the packet is not counted as received. So a relay
 * that altered payloads would show bad packets, one that sent garbage would give stamps
 * outside the measured window (not counted: loss).
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { deriveSessionKeys, type SrtpKeys } from '../../lib/srtp/key-derivation.js';
import { profileParameters, type SrtpProfileName } from '../../lib/srtp/profiles.js';
import { estimateIndex } from '../../lib/srtp/replay-window.js';

/** Where the send time sits in the payload: after the 4-byte VP8 descriptor and header. */
export const STAMP_AT = 4;

/** Offset of the payload in an RTP packet `p[0, length)`, -1 when the header overruns. */
export function rtpPayloadOffset(p: Uint8Array, length: number): number {
  if (length < 12) return -1;
  let at = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (length < at + 4) return -1;
    at += 4 + ((p[at + 2]! << 8) | p[at + 3]!) * 4;
  }
  return at;
}

/** The send stamp (µs) in a clear RTP packet, NaN when it is too short to hold one. */
export function clearStamp(p: Buffer, length: number): number {
  const at = rtpPayloadOffset(p, length) + STAMP_AT;
  if (at < STAMP_AT || at + 8 > length) return Number.NaN;
  return p.readDoubleBE(at);
}

const TAG = 16;
/**
 * Packets of one SSRC whose stamp keystream block one ECB call makes ahead: one native call
 * (and one result buffer) per this many packets instead of one per packet, as
 * lib/srtp/keystream-runs.ts does for whole payloads. A subscriber's packets come in order.
 */
export const STAMP_RUN = 64;
const EMPTY = Buffer.alloc(0);

/** One SSRC's state: the ROC estimate, and the stamp blocks made for indices [first, +count). */
interface StampStream {
  /** Highest packet index seen: the ROC estimate (RFC 3711 §3.3.1). */
  highest: number;
  first: number;
  count: number;
  /** Keystream block `IV || 2` of each index of the run, 16 bytes each. */
  blocks: Buffer;
}

/** Reads send stamps out of SRTP packets of one key (any number of SSRCs). */
export class StampReader {
  /** ECB calls made (each serves up to `STAMP_RUN` packets of one SSRC). */
  ecbCalls = 0;
  private readonly ecb: Cipher;
  private readonly salt: Buffer;
  private readonly counters = Buffer.alloc(16 * STAMP_RUN);
  private readonly stamp = Buffer.alloc(8);
  private readonly streams = new Map<number, StampStream>();
  /** The last SSRC read and its stream (a subscriber's reader sees one SSRC). */
  private lastSsrc = -1;
  private last: StampStream | undefined;

  constructor(profile: SrtpProfileName, keys: SrtpKeys) {
    const p = profileParameters(profile);
    if (!p.aead) throw new TypeError(`stamp reader: ${profile} is not an AEAD profile`);
    const session = deriveSessionKeys(profile, keys);
    this.salt = session.rtp.salt;
    this.ecb = createCipheriv(
      p.keyLength === 32 ? 'aes-256-ecb' : 'aes-128-ecb',
      session.rtp.encryptionKey,
      null,
    );
    this.ecb.setAutoPadding(false);
  }

  /** The send stamp (µs) in the SRTP packet `d`, NaN when it cannot hold one. */
  read(d: Buffer): number {
    const payload = rtpPayloadOffset(d, d.length - TAG);
    if (payload < 0 || payload + STAMP_AT + 8 > d.length - TAG) return Number.NaN;
    const ssrc = d.readUInt32BE(8);
    let st = ssrc === this.lastSsrc ? this.last : this.streams.get(ssrc);
    if (st === undefined) {
      st = { highest: -1, first: 0, count: 0, blocks: EMPTY };
      this.streams.set(ssrc, st);
    }
    this.lastSsrc = ssrc;
    this.last = st;
    const index = estimateIndex(st.highest, d.readUInt16BE(2));
    if (index < 0) return Number.NaN;
    if (index > st.highest) st.highest = index;
    let at = index - st.first;
    if (at < 0 || at >= st.count) {
      this.makeRun(st, ssrc, index);
      at = 0;
    }
    const ks = st.blocks;
    const k = at * 16 + STAMP_AT;
    const from = payload + STAMP_AT;
    for (let i = 0; i < 8; i++) this.stamp[i] = d[from + i]! ^ ks[k + i]!;
    return this.stamp.readDoubleBE(0);
  }

  /** The stamp blocks of indices [index, index + STAMP_RUN) of `ssrc`, in one ECB call. */
  private makeRun(st: StampStream, ssrc: number, index: number): void {
    const b = this.counters;
    const s = this.salt;
    const ssrcWord = (ssrc ^ s.readUInt32BE(2)) >>> 0;
    for (let p = 0, at = 0; p < STAMP_RUN; p++, at += 16) {
      const i = index + p;
      // IV (12 bytes) = 00 00 || SSRC || ROC || SEQ, XOR salt; then the 32-bit counter 2.
      b[at] = s[0]!;
      b[at + 1] = s[1]!;
      b.writeUInt32BE(ssrcWord, at + 2);
      b.writeUInt32BE((Math.floor(i / 65536) ^ s.readUInt32BE(6)) >>> 0, at + 6);
      b.writeUInt16BE((i & 0xffff) ^ s.readUInt16BE(10), at + 10);
      b.writeUInt32BE(2, at + 12);
    }
    st.blocks = this.ecb.update(b);
    st.first = index;
    st.count = STAMP_RUN;
    this.ecbCalls++;
  }
}

/**
 * One subscriber's receive check: the stamp read from every packet, a full unprotect of
 * every `verifyEvery`-th one (see the file comment).
 */
export class ReceiveCheck {
  /** Packets fully unprotected, and those that failed it or disagreed with the read. */
  verified = 0;
  bad = 0;
  private n = 0;

  constructor(readonly verifyEvery: number) {}

  reset(): void {
    this.verified = 0;
    this.bad = 0;
    this.n = 0;
  }

  /**
   * The send stamp of the SRTP packet `d` (µs), or NaN when it counts as bad. `unprotect`
   * authenticates and decrypts `d` in place, returning the clear length or undefined.
   */
  stampOf(d: Buffer, reader: StampReader, unprotect: (d: Buffer) => number | undefined): number {
    const read = reader.read(d);
    if (this.n++ % this.verifyEvery !== 0) return read;
    const n = unprotect(d);
    if (n === undefined) {
      this.bad++;
      return Number.NaN;
    }
    this.verified++;
    const stamp = clearStamp(d, n);
    if (stamp !== read) {
      this.bad++;
      return Number.NaN;
    }
    return stamp;
  }
}
