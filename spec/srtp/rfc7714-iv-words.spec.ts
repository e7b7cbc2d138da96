/**
 * RFC 7714 §8.1 / §9.1 IVs as transform-gcm.ts writes them: the first counter block of a
 * packet is built from the session salt as 32-bit words (no byte copies), so every field of the
 * IV is checked where it straddles a word: SSRC (bytes 2-5: high half in word 0, low half in
 * word 1), ROC (bytes 6-9: high half in word 1, low half in word 2) and SEQ (bytes 10-11), and
 * the SRTCP index (31 bits in word 2). The transform is driven directly with 48-bit indices
 * (ROC up to 2^32 - 1; a session would need 2^16 packets per ROC step to get there), and each
 * packet is checked against node:crypto's GCM with the IV made byte by byte from the RFC.
 * Runs: consecutive indices across a ROC step share keystream runs, so a run that spans the
 * step (last SEQ of one ROC, first of the next) is checked too.
 */
import { createCipheriv } from 'node:crypto';
import t from 'tap';
import { deriveSessionKeys, type SessionKeys } from '../../lib/srtp/key-derivation.js';
import { profileParameters, type SrtpProfileName } from '../../lib/srtp/profiles.js';
import { AesGcmTransform } from '../../lib/srtp/transform-gcm.js';

const PROFILES: SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];
const HEADER = 12;
/** SSRCs with the top bit set and clear, and each 16-bit half all ones. */
const SSRCS = [0x00000001, 0x8000ffff, 0xffff0000, 0xcafe1234, 0xffffffff];
/** ROCs where a word's sign bit or a 16-bit half carries. */
const ROCS = [0, 1, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe];

function keysFor(profile: SrtpProfileName) {
  return deriveSessionKeys(profile, {
    masterKey: Buffer.alloc(profile === 'AEAD_AES_256_GCM' ? 32 : 16, 0x5a),
    masterSalt: Buffer.from('f0e1d2c3b4a5968778695a4b', 'hex'),
  });
}

function algorithm(profile: SrtpProfileName): 'aes-128-gcm' | 'aes-256-gcm' {
  return profile === 'AEAD_AES_256_GCM' ? 'aes-256-gcm' : 'aes-128-gcm';
}

/** RFC 7714 §8.1: 00 00 || SSRC || ROC || SEQ, XOR the salt, byte by byte. */
function rtpIv(k: SessionKeys, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(roc, 6);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (k.salt[i] ?? 0);
  return iv;
}

/** RFC 7714 §9.1: 00 00 || SSRC || 00 00 || 0 || SRTCP index, XOR the salt. */
function rtcpIv(k: SessionKeys, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(index, 8);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (k.salt[i] ?? 0);
  return iv;
}

function rtp(ssrc: number, seq: number, payload: number): Buffer {
  const b = Buffer.alloc(HEADER + payload);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ssrc, 8);
  for (let i = HEADER; i < b.length; i++) b[i] = (i * 13 + seq) & 0xff;
  return b;
}

function sealRtp(profile: SrtpProfileName, k: SessionKeys, plain: Buffer, roc: number): Buffer {
  const iv = rtpIv(k, plain.readUInt32BE(8), roc, plain.readUInt16BE(2));
  const c = createCipheriv(algorithm(profile), k.encryptionKey, iv);
  c.setAAD(plain.subarray(0, HEADER));
  const body = c.update(plain.subarray(HEADER));
  c.final();
  return Buffer.concat([plain.subarray(0, HEADER), body, c.getAuthTag()]);
}

for (const profile of PROFILES) {
  t.test(`RFC 7714 §8.1: ${profile} IV words for every SSRC and ROC field edge`, (t) => {
    const keys = keysFor(profile);
    const tx = new AesGcmTransform(profileParameters(profile), keys);
    const rx = new AesGcmTransform(profileParameters(profile), keys);
    let checked = 0;
    for (const ssrc of SSRCS) {
      for (const roc of ROCS) {
        // The last three SEQs of this ROC and the first three of the next (a run spans it),
        // then one in the middle; the ROC after 2^32 - 1 does not exist, so stop there.
        const indices: number[] = [];
        for (let seq = 0xfffd; seq <= 0xffff; seq++) indices.push(roc * 65536 + seq);
        if (roc < 0xffffffff)
          for (let seq = 0; seq < 3; seq++) indices.push((roc + 1) * 65536 + seq);
        indices.push(roc * 65536 + 0x1234);
        for (const index of indices) {
          const seq = index % 65536;
          const plain = rtp(ssrc, seq, 1200 - HEADER);
          const want = sealRtp(profile, keys.rtp, plain, Math.floor(index / 65536));
          const out = Buffer.alloc(plain.length + 16);
          const n = tx.protectRtp(plain, HEADER, plain.length, ssrc, index, out);
          if (n !== want.length || !out.equals(want)) {
            t.fail(`ssrc ${ssrc.toString(16)} index ${index.toString(16)} differs`);
            continue;
          }
          const opened = Buffer.alloc(plain.length);
          const m = rx.unprotectRtp(want, HEADER, want.length, ssrc, index, opened);
          if (m !== plain.length || !opened.equals(plain)) {
            t.fail(`ssrc ${ssrc.toString(16)} index ${index.toString(16)} does not open`);
            continue;
          }
          checked++;
        }
      }
    }
    t.equal(checked, SSRCS.length * (ROCS.length * 7), 'every packet sealed and opened as RFC');
    t.end();
  });

  t.test(`RFC 7714 §9.1: ${profile} SRTCP IV words up to the 31-bit index's top`, (t) => {
    const keys = keysFor(profile);
    const tx = new AesGcmTransform(profileParameters(profile), keys);
    for (const ssrc of SSRCS) {
      for (const index of [0, 1, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff]) {
        const plain = Buffer.alloc(100);
        plain[0] = 0x80;
        plain[1] = 200;
        plain.writeUInt16BE(24, 2);
        plain.writeUInt32BE(ssrc, 4);
        for (let i = 8; i < plain.length; i++) plain[i] = i & 0xff;
        const out = Buffer.alloc(plain.length + 20);
        const n = tx.protectRtcp(plain, plain.length, ssrc, index, out);
        const word = Buffer.alloc(4);
        word.writeUInt32BE((0x80000000 | index) >>> 0, 0);
        const c = createCipheriv(
          algorithm(profile),
          keys.rtcp.encryptionKey,
          rtcpIv(keys.rtcp, ssrc, index),
        );
        c.setAAD(Buffer.concat([plain.subarray(0, 8), word]));
        const body = c.update(plain.subarray(8));
        c.final();
        const want = Buffer.concat([plain.subarray(0, 8), body, c.getAuthTag(), word]);
        t.equal(n, want.length);
        t.ok(out.equals(want), `ssrc ${ssrc.toString(16)} index ${index.toString(16)}`);
      }
    }
    t.end();
  });
}
