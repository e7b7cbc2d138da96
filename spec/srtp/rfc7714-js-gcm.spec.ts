/**
 * RFC 7714 AES-GCM SRTP and SRTCP sealed in JavaScript at every size (transform-gcm.ts,
 * ghash.ts): every packet size around a GHASH block boundary and the video sizes, checked
 * against node:crypto's GCM as an independent implementation in both directions; tampered
 * packets rejected without changing `out`; forged indices ahead of a stream do not break it;
 * and no JS garbage per packet beyond a few bytes (one keystream run buffer per 16 packets).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { deriveSessionKeys, type SessionKeys } from '../../lib/srtp/key-derivation.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const PROFILES: SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];
const HEADER = 12;
const SSRC = 0xcafe1234;
/** Payload bytes: empty, block multiples ±1, the old JS/native split (1,024), video sizes. */
const PAYLOADS = [
  0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 255, 256, 257, 1023, 1024, 1025, 1188, 1200, 1488,
];

function keysFor(profile: SrtpProfileName) {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (0x3c + 29 * i) & 0xff));
  return {
    masterKey: key.subarray(0, profile === 'AEAD_AES_256_GCM' ? 32 : 16),
    masterSalt: Buffer.from('a1b2c3d4e5f60718293a4b5c', 'hex'),
  };
}

function algorithm(profile: SrtpProfileName): 'aes-128-gcm' | 'aes-256-gcm' {
  return profile === 'AEAD_AES_256_GCM' ? 'aes-256-gcm' : 'aes-128-gcm';
}

function rtp(seq: number, payload: number): Buffer {
  const b = Buffer.alloc(HEADER + payload);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 3000, 4);
  b.writeUInt32BE(SSRC, 8);
  for (let i = HEADER; i < b.length; i++) b[i] = (i * 7 + seq) & 0xff;
  return b;
}

/** RFC 7714 §8.1 IV for ROC 0: 00 00 || SSRC || ROC || SEQ, XOR the salt. */
function rtpIv(k: SessionKeys, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(SSRC, 2);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (k.salt[i] ?? 0);
  return iv;
}

/** node:crypto's SRTP packet: header as AAD, payload encrypted, tag appended. */
function referenceRtp(profile: SrtpProfileName, k: SessionKeys, plain: Buffer): Buffer {
  const c = createCipheriv(algorithm(profile), k.encryptionKey, rtpIv(k, plain.readUInt16BE(2)));
  c.setAAD(plain.subarray(0, HEADER));
  const body = c.update(plain.subarray(HEADER));
  c.final();
  return Buffer.concat([plain.subarray(0, HEADER), body, c.getAuthTag()]);
}

for (const profile of PROFILES) {
  t.test(`RFC 7714 §8: ${profile} SRTP equals node:crypto GCM at every boundary`, (t) => {
    const keys = keysFor(profile);
    const k = deriveSessionKeys(profile, keys).rtp;
    const tx = new SrtpSession({ profile, keys });
    const rx = new SrtpSession({ profile, keys });
    let seq = 100;
    for (const payload of PAYLOADS) {
      // Twice per size: a run made for it, then the next index served from that run.
      for (let rep = 0; rep < 2; rep++) {
        const plain = rtp(seq++, payload);
        const sealed = referenceRtp(profile, k, plain);
        const out = Buffer.alloc(plain.length + 16);
        t.equal(tx.protectRtp(plain, plain.length, out), sealed.length);
        t.ok(out.equals(sealed), `protect ${payload} B payload`);
        const opened = Buffer.from(sealed);
        t.equal(rx.unprotectRtp(opened, opened.length, opened), plain.length);
        t.ok(opened.subarray(0, plain.length).equals(plain), `unprotect ${payload} B in place`);
      }
    }
    t.end();
  });

  t.test(`RFC 7714 §8: ${profile} tampered SRTP is rejected and out is left alone`, (t) => {
    const keys = keysFor(profile);
    const k = deriveSessionKeys(profile, keys).rtp;
    for (const payload of [0, 17, 1200]) {
      const sealed = referenceRtp(profile, k, rtp(7, payload));
      // A bit flipped in the header (AAD), the payload (when any) and the tag.
      const spots = [1, HEADER + (payload >>> 1), sealed.length - 1].filter(
        (at) => payload > 0 || at !== HEADER,
      );
      for (const at of spots) {
        const rx = new SrtpSession({ profile, keys });
        const bad = Buffer.from(sealed);
        bad[at] = (bad[at] ?? 0) ^ 0x10;
        const out = Buffer.alloc(sealed.length, 0xee);
        const r = rx.unprotectRtp(bad, bad.length, out);
        t.same(r, { error: 'auth-failed' }, `${payload} B, byte ${at} flipped`);
        t.ok(
          out.every((b) => b === 0xee),
          'out untouched',
        );
        const inPlace = Buffer.from(bad);
        rx.unprotectRtp(inPlace, inPlace.length, inPlace);
        t.ok(inPlace.equals(bad), 'in place: packet untouched');
        t.equal(rx.unprotectRtp(Buffer.from(sealed), sealed.length, out), sealed.length - 16);
      }
    }
    t.end();
  });

  t.test(`${profile}: forged packets with indices ahead do not disturb the stream`, (t) => {
    const keys = keysFor(profile);
    const k = deriveSessionKeys(profile, keys).rtp;
    const rx = new SrtpSession({ profile, keys, replayWindow: 1024 });
    let opened = 0;
    for (let seq = 1; seq <= 64; seq++) {
      if (seq % 4 === 0) {
        // A forgery 10 to 500 indices ahead: same size, garbage tag.
        const forged = referenceRtp(profile, k, rtp(seq + 10 * seq, 1188));
        forged[forged.length - 3] = (forged[forged.length - 3] ?? 0) ^ 1;
        t.same(rx.unprotectRtp(forged, forged.length, forged), { error: 'auth-failed' });
      }
      const sealed = referenceRtp(profile, k, rtp(seq, 1188));
      if (rx.unprotectRtp(sealed, sealed.length, sealed) === 1200) opened++;
    }
    t.equal(opened, 64, 'every genuine packet opened');
    t.end();
  });
}

/** RFC 7714 §9.1 IV: 00 00 || SSRC || 00 00 || 0 || index, XOR the salt. */
function rtcpIv(k: SessionKeys, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(index, 8);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (k.salt[i] ?? 0);
  return iv;
}

function rtcp(length: number): Buffer {
  const b = Buffer.alloc(length);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(length / 4 - 1, 2);
  b.writeUInt32BE(SSRC, 4);
  for (let i = 8; i < length; i++) b[i] = (i * 13) & 0xff;
  return b;
}

/** node:crypto's SRTCP: E set (encrypted) or clear (all of it AAD), tag, then E|index. */
function referenceRtcp(
  profile: SrtpProfileName,
  k: SessionKeys,
  plain: Buffer,
  index: number,
  encrypted: boolean,
): Buffer {
  const word = Buffer.alloc(4);
  word.writeUInt32BE(((encrypted ? 0x80000000 : 0) | index) >>> 0);
  const c = createCipheriv(algorithm(profile), k.encryptionKey, rtcpIv(k, SSRC, index));
  if (encrypted) {
    c.setAAD(Buffer.concat([plain.subarray(0, 8), word]));
    const body = c.update(plain.subarray(8));
    c.final();
    return Buffer.concat([plain.subarray(0, 8), body, c.getAuthTag(), word]);
  }
  c.setAAD(Buffer.concat([plain, word]));
  c.final();
  return Buffer.concat([plain, c.getAuthTag(), word]);
}

for (const profile of PROFILES) {
  t.test(`RFC 7714 §9: ${profile} SRTCP equals node:crypto GCM, E set and clear`, (t) => {
    const keys = keysFor(profile);
    const k = deriveSessionKeys(profile, keys).rtcp;
    const tx = new SrtpSession({ profile, keys });
    const rx = new SrtpSession({ profile, keys });
    let txIndex = 0;
    // Unencrypted ones (E clear) come from node:crypto only, at indices of their own.
    let clearIndex = 1000;
    const rxClear = new SrtpSession({ profile, keys });
    // RTCP lengths are multiples of 4: every residue mod 16 of the AAD's tail, and video-sized.
    for (const length of [8, 12, 16, 20, 24, 28, 32, 36, 44, 60, 64, 1020, 1024, 1028, 1500]) {
      const plain = rtcp(length);
      const sealed = referenceRtcp(profile, k, plain, txIndex++, true);
      const out = Buffer.alloc(length + 20);
      t.equal(tx.protectRtcp(plain, length, out), sealed.length);
      t.ok(out.equals(sealed), `protect ${length} B`);
      for (const encrypted of [true, false]) {
        const ref = encrypted ? sealed : referenceRtcp(profile, k, plain, clearIndex++, false);
        const r = encrypted ? rx : rxClear;
        const bad = Buffer.from(ref);
        bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 0x80;
        const untouched = Buffer.from(bad);
        t.same(r.unprotectRtcp(bad, bad.length, bad), { error: 'auth-failed' });
        t.ok(bad.equals(untouched), 'a tampered tag is rejected, the packet left alone');
        const opened = Buffer.from(ref);
        t.equal(r.unprotectRtcp(opened, opened.length, opened), length, `E ${encrypted}`);
        t.ok(opened.subarray(0, length).equals(plain), `unprotect ${length} B, E ${encrypted}`);
      }
    }
    // And node:crypto opens what rtcd sealed (the other direction of the same check).
    const plain = rtcp(1200);
    const out = Buffer.alloc(1220);
    const n = tx.protectRtcp(plain, 1200, out);
    t.equal(n, 1220);
    const d = createDecipheriv(algorithm(profile), k.encryptionKey, rtcpIv(k, SSRC, txIndex));
    d.setAAD(Buffer.concat([out.subarray(0, 8), out.subarray(1216, 1220)]));
    d.setAuthTag(out.subarray(1200, 1216));
    const body = d.update(out.subarray(8, 1200));
    d.final();
    t.ok(body.equals(plain.subarray(8)), 'node:crypto opens rtcd SRTCP');
    t.end();
  });
}

/** A forced full GC (V8's flag set at run time), as bench/srtp/measure.ts does. */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('no gc');
  return () => void gc();
}

t.test('AES-GCM SRTP allocates next to nothing per packet (300 sessions, 1,200 B)', (t) => {
  const gc = forcedGc();
  const profile: SrtpProfileName = 'AEAD_AES_128_GCM';
  const senders = Array.from({ length: 300 }, (_, i) => {
    const keys = keysFor(profile);
    keys.masterKey[0] = i & 0xff;
    keys.masterKey[1] = i >>> 8;
    return {
      tx: new SrtpSession({ profile, keys: { ...keys, masterKey: Buffer.from(keys.masterKey) } }),
      rx: new SrtpSession({ profile, keys: { ...keys, masterKey: Buffer.from(keys.masterKey) } }),
    };
  });
  const plain = rtp(0, 1188);
  const out = Buffer.alloc(1216);
  let seq = 0;
  const round = () => {
    seq++;
    plain.writeUInt16BE(seq, 2);
    for (const s of senders) {
      if (s.tx.protectRtp(plain, 1200, out) !== 1216) throw new Error('protect');
      if (s.rx.unprotectRtp(out, 1216, out) !== 1200) throw new Error('unprotect');
    }
  };
  for (let i = 0; i < 20; i++) round(); // warm: runs, windows, optimized code
  // Heap growth over rounds with no GC inside (GCProfiler), between forced GCs.
  let bytes = 0;
  let packets = 0;
  for (let attempt = 0; attempt < 20 && packets < 12_000; attempt++) {
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10; i++) round();
    const delta = process.memoryUsage().heapUsed - before;
    if (profiler.stop().statistics.length > 0) continue;
    bytes += delta;
    packets += 10 * senders.length * 2;
  }
  t.ok(packets >= 6000, `measured ${packets} packets between GCs`);
  const perPacket = bytes / packets;
  // One keystream run (the ECB call's Buffer and its DataView) per 16 packets per SSRC and
  // direction: ~28 B per packet in all (35-45 B with runs of 8); a DataView made per packet
  // adds ~80 B, a Buffer or subarray more (the per-packet DataView of the tag buffer measured
  // 75 B with one in two).
  t.ok(perPacket < 75, `JS heap per packet ${perPacket.toFixed(1)} B (< 75)`);
  t.end();
});
