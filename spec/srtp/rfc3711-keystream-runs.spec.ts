/**
 * RFC 3711 §4.1.1 AES-CM and RFC 7714 AES-GCM keystream when lib/srtp makes it ahead, several
 * packets per cipher call (keystream-runs.ts), and GCM sealed in JavaScript (ghash.ts) at every
 * size: every protected packet must equal an independent per-packet computation with
 * node:crypto (aes-*-ctr + createHmac, aes-*-gcm), whatever the order of indices, the packet
 * sizes (audio to 1,500 B video, growing and shrinking past a run's stride) and the number of
 * SSRCs (more than the runs kept).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import t from 'tap';
import { deriveSessionKeys, type SessionKeys } from '../../lib/srtp/key-derivation.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';
import { prng } from '../helpers/prng.js';

const PROFILES: SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

/** Payloads over this many bytes count as video-sized (the JS/native GCM split until round 5). */
const LARGE = 1024;

function keysFor(profile: SrtpProfileName) {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (0xe1 + 37 * i) & 0xff));
  const salt = Buffer.from('0ec675ad498afeebb6960b3aabe6', 'hex');
  return {
    masterKey: key.subarray(0, profile === 'AEAD_AES_256_GCM' ? 32 : 16),
    masterSalt: salt.subarray(0, profile.startsWith('AEAD') ? 12 : 14),
  };
}

function packet(seq: number, ssrc: number, size: number): Buffer {
  const p = Buffer.alloc(size);
  p[0] = 0x80;
  p[1] = 111;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < size; i++) p[i] = (i * 7 + seq) & 0xff;
  return p;
}

/** RFC 3711 / RFC 7714 by the letter, fresh node:crypto objects per packet (12-byte header). */
function reference(profile: SrtpProfileName, k: SessionKeys, plain: Buffer, index: number) {
  if (profile.startsWith('AEAD')) return referenceGcm(k, plain, index);
  return referenceCm(k, plain, index, profile.endsWith('_32') ? 4 : 10);
}

/** RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; the header is the AAD. */
function referenceGcm(k: SessionKeys, plain: Buffer, index: number): Buffer {
  const iv = Buffer.alloc(12);
  k.salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(2) ^ plain.readUInt32BE(8)) >>> 0, 2);
  iv.writeUInt32BE((iv.readUInt32BE(6) ^ Math.floor(index / 65536)) >>> 0, 6);
  iv.writeUInt16BE(iv.readUInt16BE(10) ^ (index & 0xffff), 10);
  const algorithm = k.encryptionKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  const c = createCipheriv(algorithm, k.encryptionKey, iv);
  c.setAAD(plain.subarray(0, 12));
  const body = Buffer.concat([c.update(plain.subarray(12)), c.final()]);
  return Buffer.concat([plain.subarray(0, 12), body, c.getAuthTag()]);
}

/** RFC 3711 §4.1.1 and §4.2: AES-CM, then HMAC-SHA1 over the packet and the ROC. */
function referenceCm(k: SessionKeys, plain: Buffer, index: number, tagLength: number): Buffer {
  const iv = Buffer.alloc(16);
  k.salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ plain.readUInt32BE(8)) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ Math.floor(index / 65536)) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ (index & 0xffff), 12);
  const body = createCipheriv('aes-128-ctr', k.encryptionKey, iv).update(plain.subarray(12));
  const sealed = Buffer.concat([plain.subarray(0, 12), body]);
  const roc = Buffer.alloc(4);
  roc.writeUInt32BE(Math.floor(index / 65536), 0);
  const mac = createHmac('sha1', k.authKey).update(sealed).update(roc).digest();
  const tag = mac.subarray(0, tagLength);
  return Buffer.concat([sealed, tag]);
}

for (const profile of PROFILES) {
  t.test(`${profile}: keystream made ahead equals per-packet sealing: sizes, order, SSRCs`, (t) => {
    const keys = keysFor(profile);
    const rtpKeys = deriveSessionKeys(profile, keys).rtp;
    const next = prng(3711);
    const tx = new SrtpSession({ profile, keys, replayWindow: 1024 });
    const rx = new SrtpSession({ profile, keys, replayWindow: 1024 });
    // 80 SSRCs: more than the runs a transform keeps, so runs are dropped and remade.
    const ssrcs = Array.from({ length: 80 }, (_, i) => (0x10000000 + i * 0x01010101) >>> 0);
    // Every stream starts below 65,535 (ROC 0) and crosses the wrap.
    const seqs = new Map<number, number>(ssrcs.map((s, i) => [s, 65000 + i * 5]));
    const sealed: { bytes: Buffer; plain: Buffer }[] = [];
    let mismatches = 0;
    let skippedBack = 0;
    let large = 0;
    for (let i = 0; i < 6000; i++) {
      // Mostly one busy SSRC (runs used), sometimes any of the others (runs evicted).
      const ssrc = next() < 0.7 ? (ssrcs[0] ?? 0) : (ssrcs[Math.floor(next() * ssrcs.length)] ?? 0);
      let seq = (seqs.get(ssrc) ?? 0) + 1;
      // Gaps forward (lost or skipped indices), and now and then a packet sent late: an index
      // below the run, inside the sender's window and never used (the gap left it free).
      const r = next();
      if (r < 0.1) seq += 1 + Math.floor(next() * 20);
      seqs.set(ssrc, seq);
      let sendSeq = seq;
      if (r > 0.97 && seq > 65020) {
        sendSeq = seq - 1 - Math.floor(next() * 15);
        skippedBack++;
      }
      // Sizes from audio to full video, growing past the stride and shrinking under it.
      const size = next() < 0.5 ? 12 + Math.floor(next() * 200) : 12 + Math.floor(next() * 1488);
      const plain = packet(sendSeq, ssrc, size);
      const out = Buffer.alloc(size + 16);
      const n = tx.protectRtp(plain, size, out);
      if (typeof n !== 'number') continue; // that late index was used already: refused, fine
      if (size - 12 > LARGE) large++;
      if (!out.subarray(0, n).equals(reference(profile, rtpKeys, plain, sendSeq))) mismatches++;
      sealed.push({ bytes: out.subarray(0, n), plain });
    }
    t.ok(skippedBack > 50, `late packets were sent (${skippedBack})`);
    t.ok(large > 500, `payloads over ${LARGE} B were sent (${large})`);
    t.equal(mismatches, 0, 'every packet equals the per-packet computation');
    // The receiver opens them in a locally shuffled order (reordering within the window).
    for (let i = 0; i + 8 < sealed.length; i += 8) {
      const j = i + Math.floor(next() * 8);
      const a = sealed[i];
      const b = sealed[j];
      if (a === undefined || b === undefined) continue;
      sealed[i] = b;
      sealed[j] = a;
    }
    let failures = 0;
    for (const { bytes, plain } of sealed) {
      const out = Buffer.alloc(bytes.length);
      const n = rx.unprotectRtp(bytes, bytes.length, out);
      if (typeof n !== 'number' || !out.subarray(0, n).equals(plain)) failures++;
    }
    t.equal(failures, 0, `all ${sealed.length} packets open to their plaintext`);
    t.end();
  });
}

for (const profile of PROFILES) {
  t.test(`${profile}: a forged packet in a run opens nothing; the next genuine one opens`, (t) => {
    const keys = keysFor(profile);
    const tx = new SrtpSession({ profile, keys });
    const rx = new SrtpSession({ profile, keys });
    const seal = (seq: number, size = 200) => {
      const plain = packet(seq, 0xcafe, size);
      const out = Buffer.alloc(size + 16);
      const n = tx.protectRtp(plain, size, out);
      if (typeof n !== 'number') throw new Error(n.error);
      return { bytes: out.subarray(0, n), plain };
    };
    const first = seal(1);
    const second = seal(2);
    const third = seal(3);
    const fourth = seal(4);
    const ahead = seal(3000);
    const open = (b: Buffer) => {
      const out = Buffer.alloc(b.length);
      const n = rx.unprotectRtp(b, b.length, out);
      return typeof n === 'number' ? out.subarray(0, n) : n.error;
    };
    t.same(open(first.bytes), first.plain);
    const forged = Buffer.from(second.bytes);
    forged[100] = (forged[100] ?? 0) ^ 1;
    t.equal(open(forged), 'auth-failed');
    t.same(open(third.bytes), third.plain);
    t.same(open(second.bytes), second.plain, 'the genuine one, late');
    // A forgery far ahead (a guessed index) leaves the stream opening as before.
    const forgedAhead = Buffer.from(ahead.bytes);
    forgedAhead[20] = (forgedAhead[20] ?? 0) ^ 0x80;
    t.equal(open(forgedAhead), 'auth-failed');
    t.same(open(fourth.bytes), fourth.plain);
    t.same(open(ahead.bytes), ahead.plain);
    t.end();
  });
}

t.test(
  'streams that start together do not all make their next run on the same packet',
  async (t) => {
    // A fan-out: every subscriber stream of a track gets its packets at the same moment, from
    // the same first packet. Count the ECB calls of 64 such streams at each step.
    const { createCipheriv: ecb } = await import('node:crypto');
    const { KeystreamRuns } = await import('../../lib/srtp/keystream-runs.js');
    const cipher = ecb('aes-128-ecb', Buffer.alloc(16, 7), null).setAutoPadding(false);
    const calls: number[] = [];
    let step = 0;
    const counting = new Proxy(cipher, {
      get(target, prop) {
        if (prop === 'update') {
          return (data: Buffer) => {
            calls[step] = (calls[step] ?? 0) + 1;
            return target.update(data);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const firstBlock = (block: Buffer, ssrc: number, index: number) => {
      block.fill(0);
      block.writeUInt32BE(ssrc, 4);
      block.writeUInt32BE(index, 8);
    };
    const rnd = prng(42);
    const ssrcs = Array.from({ length: 64 }, () => Math.floor(rnd() * 2 ** 32));
    const runs = new KeystreamRuns(counting, firstBlock);
    for (step = 0; step < 64; step++) {
      for (const ssrc of ssrcs) runs.keystream(ssrc, 5000 + step, 1200);
    }
    t.equal(calls[0], 64, 'the first packet of each stream needs its keystream');
    const later = Array.from({ length: 63 }, (_, i) => calls[i + 1] ?? 0);
    t.ok(Math.max(...later) <= 24, `no step makes most streams' runs (max ${Math.max(...later)})`);
    const total = later.reduce((a, b) => a + b, 0);
    t.ok(total <= 64 * 9, `runs stay RUN_PACKETS long after the first (${total} calls)`);
  },
);
