/**
 * The per-packet steps `npm run bench -- srtp` times: rtcd's SrtpSession, a bare node:crypto
 * loop (one createCipheriv + one createHmac per packet for AES-CM, one GCM cipher per packet for
 * AEAD: the naive ceiling) and werift's SrtpSession, all over the same keys and packets.
 * A step returns the output length so the work cannot be optimized away.
 */
import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  timingSafeEqual,
} from 'node:crypto';
import { RtpHeader, SrtpSession as WeriftSession } from 'werift-rtp';
import {
  deriveSessionKeys,
  profileParameters,
  type SessionKeys,
  type SrtpKeys,
  type SrtpProfileName,
  SrtpSession,
} from '../../lib/srtp/index.js';

export type Step = () => number;
export type Direction = 'protect' | 'unprotect';

export const PROFILES: readonly SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

/** werift-rtp 0.8 implements these two profiles only (its `Profiles` constant). */
export const WERIFT_PROFILE_IDS: Partial<Record<SrtpProfileName, number>> = {
  AES_CM_128_HMAC_SHA1_80: 0x0001,
  AEAD_AES_128_GCM: 0x0007,
};

const SSRC = 0x1234abcd;
const HEADER = 12;
/** Packets protected ahead for the unprotect rows; sequence numbers 0… so the ROC stays 0. */
export const UNPROTECT_BATCH = 4096;

/** Deterministic master key and salt for `profile` (the same for every implementation). */
export function benchKeys(profile: SrtpProfileName): SrtpKeys {
  const p = profileParameters(profile);
  const fill = (n: number, seed: number) =>
    Buffer.from(Array.from({ length: n }, (_, i) => (seed + 7 * i) & 0xff));
  return { masterKey: fill(p.keyLength, 0x11), masterSalt: fill(p.saltLength, 0x5c) };
}

/** An RTP packet of `size` bytes: 12-byte header (PT 96, no CSRC/extension) and a payload. */
export function plainPacket(size: number, seq = 0): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(90000, 4);
  b.writeUInt32BE(SSRC, 8);
  for (let i = HEADER; i < size; i++) b[i] = (i * 31) & 0xff;
  return b;
}

/** `UNPROTECT_BATCH` packets protected by rtcd, sequence numbers 0, 1, 2… */
export function protectedBatch(profile: SrtpProfileName, size: number): Buffer[] {
  const tx = new SrtpSession({ profile, keys: benchKeys(profile) });
  const out: Buffer[] = [];
  for (let seq = 0; seq < UNPROTECT_BATCH; seq++) {
    const o = Buffer.alloc(size + tx.rtpOverhead);
    const n = tx.protectRtp(plainPacket(size, seq), size, o);
    if (typeof n !== 'number') throw new Error(`rtcd protect failed: ${n.error}`);
    out.push(o.subarray(0, n));
  }
  return out;
}

/** Cycles through `batch`, starting a fresh receiver per pass (replay protection). */
function cycle(batch: readonly Buffer[], receiver: () => (packet: Buffer) => number): Step {
  let i = 0;
  let rx = receiver();
  return () => {
    if (i === batch.length) {
      i = 0;
      rx = receiver();
    }
    const packet = batch[i++];
    if (packet === undefined) throw new Error('empty batch');
    return rx(packet);
  };
}

/** rtcd: protectRtp into a reused buffer, or unprotectRtp of the batch into one. */
export function rtcdStep(profile: SrtpProfileName, size: number, direction: Direction): Step {
  const keys = benchKeys(profile);
  const out = Buffer.alloc(size + 16);
  if (direction === 'protect') {
    const tx = new SrtpSession({ profile, keys });
    const plain = plainPacket(size);
    let seq = 0;
    return () => {
      seq = (seq + 1) & 0xffff;
      plain.writeUInt16BE(seq, 2);
      const n = tx.protectRtp(plain, size, out);
      if (typeof n !== 'number') throw new Error(`rtcd protect: ${n.error}`);
      return n;
    };
  }
  return cycle(protectedBatch(profile, size), () => {
    const rx = new SrtpSession({ profile, keys });
    return (packet) => {
      const n = rx.unprotectRtp(packet, packet.length, out);
      if (typeof n !== 'number') throw new Error(`rtcd unprotect: ${n.error}`);
      return n;
    };
  });
}

/** werift-rtp's SrtpSession (encrypt takes a parsed RtpHeader, as werift's sender holds one). */
export function weriftStep(
  profile: SrtpProfileName,
  size: number,
  direction: Direction,
): Step | undefined {
  const id = WERIFT_PROFILE_IDS[profile];
  if (id === undefined) return undefined;
  const config = weriftConfig(profile, id);
  if (direction === 'protect') {
    const tx = new WeriftSession(config);
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: 0,
      timestamp: 90000,
      ssrc: SSRC,
    });
    const payload = plainPacket(size).subarray(HEADER);
    let seq = 0;
    return () => {
      seq = (seq + 1) & 0xffff;
      header.sequenceNumber = seq;
      return tx.encrypt(payload, header).length;
    };
  }
  return cycle(protectedBatch(profile, size), () => {
    const rx = new WeriftSession(config);
    return (packet) => rx.decrypt(packet).length;
  });
}

/** werift's session config: the same master key and salt for its local and remote side. */
function weriftConfig(profile: SrtpProfileName, id: number) {
  const { masterKey, masterSalt } = benchKeys(profile);
  return {
    profile: id,
    keys: {
      localMasterKey: masterKey,
      localMasterSalt: masterSalt,
      remoteMasterKey: masterKey,
      remoteMasterSalt: masterSalt,
    },
  };
}

/** The bare loop: what one packet costs with a fresh node:crypto object per operation. */
export function bareStep(profile: SrtpProfileName, size: number, direction: Direction): Step {
  const p = profileParameters(profile);
  const keys = deriveSessionKeys(profile, benchKeys(profile)).rtp;
  const out = Buffer.alloc(size + 16);
  const seal = p.aead ? bareGcm(keys, p.rtpTagLength) : bareCm(keys, p.rtpTagLength);
  if (direction === 'protect') {
    const plain = plainPacket(size);
    let seq = 0;
    let roc = 0;
    return () => {
      seq = (seq + 1) & 0xffff;
      if (seq === 0) roc++;
      plain.writeUInt16BE(seq, 2);
      return seal.protect(plain, size, roc, out);
    };
  }
  const batch = protectedBatch(profile, size);
  return cycle(batch, () => (packet) => {
    const n = seal.unprotect(packet, packet.length, 0, out);
    if (n < 0) throw new Error('bare loop: authentication failed');
    return n;
  });
}

interface BareSeal {
  protect(plain: Buffer, length: number, roc: number, out: Buffer): number;
  /** Returns the plain length, or -1 when the tag does not verify. */
  unprotect(packet: Buffer, length: number, roc: number, out: Buffer): number;
}

/** RFC 3711 §4.1.1: IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16). */
function bareCm(keys: SessionKeys, tagLength: number): BareSeal {
  const iv = Buffer.alloc(16);
  const rocWord = Buffer.alloc(4);
  const setIv = (packet: Buffer, roc: number) => {
    keys.salt.copy(iv, 0, 0, 14);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ packet.readUInt32BE(8)) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ packet.readUInt16BE(2), 12);
  };
  return {
    protect(plain, length, roc, out) {
      setIv(plain, roc);
      plain.copy(out, 0, 0, HEADER);
      createCipheriv('aes-128-ctr', keys.encryptionKey, iv)
        .update(plain.subarray(HEADER, length))
        .copy(out, HEADER);
      rocWord.writeUInt32BE(roc, 0);
      const mac = createHmac('sha1', keys.authKey)
        .update(out.subarray(0, length))
        .update(rocWord)
        .digest();
      mac.copy(out, length, 0, tagLength);
      return length + tagLength;
    },
    unprotect(packet, length, roc, out) {
      const end = length - tagLength;
      rocWord.writeUInt32BE(roc, 0);
      const mac = createHmac('sha1', keys.authKey)
        .update(packet.subarray(0, end))
        .update(rocWord)
        .digest();
      if (!timingSafeEqual(mac.subarray(0, tagLength), packet.subarray(end, length))) return -1;
      setIv(packet, roc);
      packet.copy(out, 0, 0, HEADER);
      createDecipheriv('aes-128-ctr', keys.encryptionKey, iv)
        .update(packet.subarray(HEADER, end))
        .copy(out, HEADER);
      return end;
    },
  };
}

/** RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt; the header is the AAD. */
function bareGcm(keys: SessionKeys, tagLength: number): BareSeal {
  const algorithm: CipherGCMTypes =
    keys.encryptionKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  const iv = Buffer.alloc(12);
  const setIv = (packet: Buffer, roc: number) => {
    keys.salt.copy(iv, 0, 0, 12);
    iv.writeUInt32BE((iv.readUInt32BE(2) ^ packet.readUInt32BE(8)) >>> 0, 2);
    iv.writeUInt32BE((iv.readUInt32BE(6) ^ roc) >>> 0, 6);
    iv.writeUInt16BE(iv.readUInt16BE(10) ^ packet.readUInt16BE(2), 10);
  };
  return {
    protect(plain, length, roc, out) {
      setIv(plain, roc);
      const c = createCipheriv(algorithm, keys.encryptionKey, iv);
      c.setAAD(plain.subarray(0, HEADER));
      plain.copy(out, 0, 0, HEADER);
      c.update(plain.subarray(HEADER, length)).copy(out, HEADER);
      c.final();
      c.getAuthTag().copy(out, length);
      return length + tagLength;
    },
    unprotect(packet, length, roc, out) {
      const end = length - tagLength;
      setIv(packet, roc);
      const d = createDecipheriv(algorithm, keys.encryptionKey, iv);
      d.setAAD(packet.subarray(0, HEADER));
      d.setAuthTag(packet.subarray(end, length));
      packet.copy(out, 0, 0, HEADER);
      d.update(packet.subarray(HEADER, end)).copy(out, HEADER);
      try {
        d.final();
      } catch {
        return -1;
      }
      return end;
    },
  };
}

/**
 * Checks that rtcd, the bare loop and werift produce the same bytes for one packet, so the rows
 * compare the same work; throws on a mismatch.
 */
export function crossCheck(profile: SrtpProfileName, size: number, werift: boolean): void {
  const p = profileParameters(profile);
  const rtcd = protectedBatch(profile, size)[1];
  const bare = Buffer.alloc(size + 16);
  const keys = deriveSessionKeys(profile, benchKeys(profile)).rtp;
  const seal = p.aead ? bareGcm(keys, p.rtpTagLength) : bareCm(keys, p.rtpTagLength);
  const n = seal.protect(plainPacket(size, 1), size, 0, bare);
  if (rtcd === undefined || !rtcd.equals(bare.subarray(0, n))) {
    throw new Error(`${profile}: the bare loop and rtcd disagree`);
  }
  const id = WERIFT_PROFILE_IDS[profile];
  if (!werift || id === undefined) return;
  const opened = new WeriftSession(weriftConfig(profile, id)).decrypt(rtcd);
  if (!opened.equals(plainPacket(size, 1))) {
    throw new Error(`${profile}: werift does not open rtcd's packets to the same bytes`);
  }
}
