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
import {
  RtpHeader,
  SrtpSession as WeriftSession,
  SrtcpSession as WeriftSrtcpSession,
} from 'werift-rtp';
import { decodeRtcp } from '../../lib/rtcp/index.js';
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
  /** `counter`: the ROC (SRTP) or the SRTCP index. */
  protect(plain: Buffer, length: number, counter: number, out: Buffer): number;
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

/**
 * A compound RTCP packet of exactly `size` bytes (a multiple of 4, 40 to 1,024): a sender
 * report with as many report blocks as fit (at most 31), then an SDES chunk whose CNAME fills
 * the rest (RFC 3550 §6.4.1, §6.5). 100 B: SR + 2 blocks + SDES; 1,000 B: SR + 31 blocks + SDES.
 */
export function compoundRtcp(size: number, ssrc = SSRC): Buffer {
  if (size % 4 !== 0 || size < 40 || size > 1024) {
    throw new TypeError('compound RTCP size: a multiple of 4 from 40 to 1024');
  }
  const blocks = Math.min(31, Math.floor((size - 40) / 24));
  const srLength = 28 + 24 * blocks;
  const sdesLength = size - srLength;
  const cname = sdesLength - 11; // header 4, SSRC 4, item type and length 2, one null
  if (cname > 255) throw new TypeError(`compound RTCP size ${size}: CNAME would be ${cname} B`);
  const b = Buffer.alloc(size);
  b[0] = 0x80 | blocks;
  b[1] = 200;
  b.writeUInt16BE(srLength / 4 - 1, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(0xe9d2a1c0, 8); // NTP seconds
  b.writeUInt32BE(0x40000000, 12); // NTP fraction
  b.writeUInt32BE(90000, 16);
  b.writeUInt32BE(1234, 20);
  b.writeUInt32BE(1234 * 1100, 24);
  for (let i = 0; i < blocks; i++) {
    const at = 28 + 24 * i;
    b.writeUInt32BE((0x40000000 + i) >>> 0, at);
    b.writeUInt32BE(0x01000010, at + 4); // fraction lost, cumulative lost
    b.writeUInt32BE(70000 + i, at + 8); // extended highest sequence number
    b.writeUInt32BE(20, at + 12); // jitter
  }
  b[srLength] = 0x81;
  b[srLength + 1] = 202;
  b.writeUInt16BE(sdesLength / 4 - 1, srLength + 2);
  b.writeUInt32BE(ssrc, srLength + 4);
  b[srLength + 8] = 1; // CNAME
  b[srLength + 9] = cname;
  for (let i = 0; i < cname; i++) b[srLength + 10 + i] = 0x61 + (i % 26);
  return b;
}

/** `UNPROTECT_BATCH` compound RTCP packets protected by rtcd (SRTCP indices 0, 1, 2…). */
export function protectedRtcpBatch(profile: SrtpProfileName, size: number): Buffer[] {
  const tx = new SrtpSession({ profile, keys: benchKeys(profile) });
  const plain = compoundRtcp(size);
  const out: Buffer[] = [];
  for (let i = 0; i < UNPROTECT_BATCH; i++) {
    const o = Buffer.alloc(size + tx.rtcpOverhead);
    const n = tx.protectRtcp(plain, size, o);
    if (typeof n !== 'number') throw new Error(`rtcd SRTCP protect failed: ${n.error}`);
    out.push(o.subarray(0, n));
  }
  return out;
}

/** rtcd: protectRtcp into a reused buffer, or unprotectRtcp of the batch into one. */
export function rtcdRtcpStep(profile: SrtpProfileName, size: number, direction: Direction): Step {
  const keys = benchKeys(profile);
  const out = Buffer.alloc(size + 32);
  if (direction === 'protect') {
    let tx = new SrtpSession({ profile, keys });
    const plain = compoundRtcp(size);
    let sent = 0;
    return () => {
      // A fresh sender before the 31-bit SRTCP index would wrap (never, in a bench run).
      if (++sent === 0x7fffffff) {
        sent = 0;
        tx = new SrtpSession({ profile, keys });
      }
      const n = tx.protectRtcp(plain, size, out);
      if (typeof n !== 'number') throw new Error(`rtcd SRTCP protect: ${n.error}`);
      return n;
    };
  }
  return cycle(protectedRtcpBatch(profile, size), () => {
    const rx = new SrtpSession({ profile, keys });
    return (packet) => {
      const n = rx.unprotectRtcp(packet, packet.length, out);
      if (typeof n !== 'number') throw new Error(`rtcd SRTCP unprotect: ${n.error}`);
      return n;
    };
  });
}

/** werift-rtp's SrtcpSession: encrypt(rawRtcp) allocates its result, as werift's sender does. */
export function weriftRtcpStep(
  profile: SrtpProfileName,
  size: number,
  direction: Direction,
): Step | undefined {
  const id = WERIFT_PROFILE_IDS[profile];
  if (id === undefined) return undefined;
  const config = weriftConfig(profile, id);
  if (direction === 'protect') {
    const tx = new WeriftSrtcpSession(config);
    const plain = compoundRtcp(size);
    return () => tx.encrypt(plain).length;
  }
  return cycle(protectedRtcpBatch(profile, size), () => {
    const rx = new WeriftSrtcpSession(config);
    return (packet) => rx.decrypt(packet).length;
  });
}

/** The bare SRTCP loop: one fresh node:crypto cipher (and HMAC) per packet. */
export function bareRtcpStep(profile: SrtpProfileName, size: number, direction: Direction): Step {
  const p = profileParameters(profile);
  const keys = deriveSessionKeys(profile, benchKeys(profile)).rtcp;
  const out = Buffer.alloc(size + 32);
  const seal = p.aead ? bareRtcpGcm(keys) : bareRtcpCm(keys, p.rtcpTagLength);
  if (direction === 'protect') {
    const plain = compoundRtcp(size);
    let index = 0;
    return () => {
      index = (index + 1) & 0x7fffffff;
      return seal.protect(plain, size, index, out);
    };
  }
  const batch = protectedRtcpBatch(profile, size);
  return cycle(batch, () => (packet) => {
    const n = seal.unprotect(packet, packet.length, 0, out);
    if (n < 0) throw new Error('bare SRTCP loop: authentication failed');
    return n;
  });
}

/** RFC 3711 §3.4, §4.1.1: IV from SSRC and the 31-bit SRTCP index; E flag set; 80-bit tag. */
function bareRtcpCm(keys: SessionKeys, tagLength: number): BareSeal {
  const iv = Buffer.alloc(16);
  const setIv = (packet: Buffer, index: number) => {
    keys.salt.copy(iv, 0, 0, 14);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ packet.readUInt32BE(4)) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  };
  return {
    protect(plain, length, index, out) {
      setIv(plain, index);
      plain.copy(out, 0, 0, 8);
      createCipheriv('aes-128-ctr', keys.encryptionKey, iv)
        .update(plain.subarray(8, length))
        .copy(out, 8);
      out.writeUInt32BE((0x80000000 | index) >>> 0, length);
      const mac = createHmac('sha1', keys.authKey)
        .update(out.subarray(0, length + 4))
        .digest();
      mac.copy(out, length + 4, 0, tagLength);
      return length + 4 + tagLength;
    },
    unprotect(packet, length, _index, out) {
      const tagAt = length - tagLength;
      const mac = createHmac('sha1', keys.authKey).update(packet.subarray(0, tagAt)).digest();
      if (!timingSafeEqual(mac.subarray(0, tagLength), packet.subarray(tagAt, length))) return -1;
      const end = tagAt - 4;
      const index = packet.readUInt32BE(end) & 0x7fffffff;
      setIv(packet, index);
      packet.copy(out, 0, 0, 8);
      createDecipheriv('aes-128-ctr', keys.encryptionKey, iv)
        .update(packet.subarray(8, end))
        .copy(out, 8);
      return end;
    },
  };
}

/** RFC 7714 §9: AAD = first 8 bytes || E|index; trailer = tag then E|index. */
function bareRtcpGcm(keys: SessionKeys): BareSeal {
  const algorithm: CipherGCMTypes =
    keys.encryptionKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  const iv = Buffer.alloc(12);
  const aad = Buffer.alloc(12);
  const setIv = (packet: Buffer, index: number) => {
    keys.salt.copy(iv, 0, 0, 12);
    iv.writeUInt32BE((iv.readUInt32BE(2) ^ packet.readUInt32BE(4)) >>> 0, 2);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ index) >>> 0, 8);
  };
  return {
    protect(plain, length, index, out) {
      setIv(plain, index);
      plain.copy(aad, 0, 0, 8);
      aad.writeUInt32BE((0x80000000 | index) >>> 0, 8);
      const c = createCipheriv(algorithm, keys.encryptionKey, iv);
      c.setAAD(aad);
      plain.copy(out, 0, 0, 8);
      c.update(plain.subarray(8, length)).copy(out, 8);
      c.final();
      c.getAuthTag().copy(out, length);
      aad.copy(out, length + 16, 8, 12);
      return length + 20;
    },
    unprotect(packet, length, _index, out) {
      const indexAt = length - 4;
      const end = indexAt - 16;
      const index = packet.readUInt32BE(indexAt) & 0x7fffffff;
      setIv(packet, index);
      packet.copy(aad, 0, 0, 8);
      packet.copy(aad, 8, indexAt, length);
      const d = createDecipheriv(algorithm, keys.encryptionKey, iv);
      d.setAAD(aad);
      d.setAuthTag(packet.subarray(end, indexAt));
      packet.copy(out, 0, 0, 8);
      d.update(packet.subarray(8, end)).copy(out, 8);
      try {
        d.final();
      } catch {
        return -1;
      }
      return end;
    },
  };
}

/** The SRTCP counterpart of `crossCheck`: rtcd = bare loop, and werift opens rtcd's packets. */
export function crossCheckRtcp(profile: SrtpProfileName, size: number, werift: boolean): void {
  const p = profileParameters(profile);
  const plain = compoundRtcp(size);
  const decoded = decodeRtcp(plain);
  if (!decoded.ok || decoded.packets.length !== 2) {
    throw new Error(`compound RTCP of ${size} B does not decode as SR + SDES`);
  }
  const rtcd = protectedRtcpBatch(profile, size)[1];
  const keys = deriveSessionKeys(profile, benchKeys(profile)).rtcp;
  const seal = p.aead ? bareRtcpGcm(keys) : bareRtcpCm(keys, p.rtcpTagLength);
  const bare = Buffer.alloc(size + 32);
  const n = seal.protect(plain, size, 1, bare);
  if (rtcd === undefined || !rtcd.equals(bare.subarray(0, n))) {
    throw new Error(`${profile}: the bare SRTCP loop and rtcd disagree`);
  }
  const id = WERIFT_PROFILE_IDS[profile];
  if (!werift || id === undefined) return;
  const opened = new WeriftSrtcpSession(weriftConfig(profile, id)).decrypt(rtcd);
  if (!opened.equals(plain)) {
    throw new Error(`${profile}: werift does not open rtcd's SRTCP packets to the same bytes`);
  }
}
