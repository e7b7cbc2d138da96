/**
 * RFC 3711 §4.1.1 AES-CM keystream when lib/srtp makes it ahead, several packets per cipher
 * call (transform-cm.ts `KeystreamRun`): every protected packet must equal an independent
 * per-packet computation (createCipheriv('aes-128-ctr') + createHmac), whatever the order of
 * indices, the packet sizes (growing and shrinking past the run's stride) and the number of
 * SSRCs (more than the runs kept).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import t from 'tap';
import { deriveSessionKeys, type SessionKeys } from '../../lib/srtp/key-derivation.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const profile = 'AES_CM_128_HMAC_SHA1_80';
const keys = {
  masterKey: Buffer.from('e1f97a0d3e018be0d64fa32c06de4139', 'hex'),
  masterSalt: Buffer.from('0ec675ad498afeebb6960b3aabe6', 'hex'),
};

/** A seeded generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
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

/** RFC 3711 by the letter, one fresh cipher and HMAC per packet (12-byte header). */
function reference(k: SessionKeys, plain: Buffer, index: number): Buffer {
  const iv = Buffer.alloc(16);
  k.salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ plain.readUInt32BE(8)) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ Math.floor(index / 65536)) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ (index & 0xffff), 12);
  const body = createCipheriv('aes-128-ctr', k.encryptionKey, iv).update(plain.subarray(12));
  const sealed = Buffer.concat([plain.subarray(0, 12), body]);
  const roc = Buffer.alloc(4);
  roc.writeUInt32BE(Math.floor(index / 65536), 0);
  const tag = createHmac('sha1', k.authKey).update(sealed).update(roc).digest().subarray(0, 10);
  return Buffer.concat([sealed, tag]);
}

t.test('keystream made ahead equals per-packet keystream: sizes, order, SSRCs', (t) => {
  const rtpKeys = deriveSessionKeys(profile, keys).rtp;
  const next = random(3711);
  const tx = new SrtpSession({ profile, keys, replayWindow: 1024 });
  const rx = new SrtpSession({ profile, keys, replayWindow: 1024 });
  // 80 SSRCs: more than the runs a transform keeps, so runs are dropped and remade.
  const ssrcs = Array.from({ length: 80 }, (_, i) => (0x10000000 + i * 0x01010101) >>> 0);
  // Every stream starts below 65,535 (ROC 0) and crosses the wrap.
  const seqs = new Map<number, number>(ssrcs.map((s, i) => [s, 65000 + i * 5]));
  const sealed: { bytes: Buffer; plain: Buffer }[] = [];
  let mismatches = 0;
  let skippedBack = 0;
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
    const out = Buffer.alloc(size + 10);
    const n = tx.protectRtp(plain, size, out);
    if (typeof n !== 'number') continue; // that late index was used already: refused, fine
    if (!out.subarray(0, n).equals(reference(rtpKeys, plain, sendSeq))) mismatches++;
    sealed.push({ bytes: out.subarray(0, n), plain });
  }
  t.ok(skippedBack > 50, `late packets were sent (${skippedBack})`);
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

t.test('a forged packet inside a run opens nothing and the next genuine one still opens', (t) => {
  const tx = new SrtpSession({ profile, keys });
  const rx = new SrtpSession({ profile, keys });
  const seal = (seq: number) => {
    const plain = packet(seq, 0xcafe, 1200);
    const out = Buffer.alloc(1210);
    const n = tx.protectRtp(plain, 1200, out);
    if (typeof n !== 'number') throw new Error(n.error);
    return { bytes: out.subarray(0, n), plain };
  };
  const first = seal(1);
  const second = seal(2);
  const third = seal(3);
  const open = (b: Buffer) => {
    const out = Buffer.alloc(b.length);
    const n = rx.unprotectRtp(b, b.length, out);
    return typeof n === 'number' ? out.subarray(0, n) : n.error;
  };
  t.same(open(first.bytes), first.plain);
  const forged = Buffer.from(second.bytes);
  forged[500] = (forged[500] ?? 0) ^ 1;
  t.equal(open(forged), 'auth-failed');
  t.same(open(third.bytes), third.plain);
  t.same(open(second.bytes), second.plain, 'the genuine one, late');
  t.end();
});
