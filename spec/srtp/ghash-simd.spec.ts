/**
 * GhashSimd (lib/srtp/ghash-simd.ts), GHASH in WebAssembly SIMD with resident per-key tables:
 * the same results as the JS Ghash and as node:crypto's GCM (GMAC and sealed packets) on
 * thousands of random keys and sizes, the NIST SP 800-38D / GCM-spec and RFC 7714 vectors
 * through it, and keys interleaved mid-computation (the shared scratch changes hands).
 */
import { createCipheriv } from 'node:crypto';
import t from 'tap';
import { Ghash } from '../../lib/srtp/ghash.js';
import { GhashSimd, ghashSimdAvailable } from '../../lib/srtp/ghash-simd.js';
import { prng } from '../helpers/prng.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** `n` bytes at an odd offset inside a larger ArrayBuffer (views must use byteOffset). */
function placed(data: Buffer, lead = 7): Buffer {
  const host = Buffer.alloc(data.length + lead + 9);
  data.copy(host, lead);
  return host.subarray(lead, lead + data.length);
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

interface Key {
  key: Buffer;
  ecb: ReturnType<typeof createCipheriv>;
  simd: GhashSimd;
  js: Ghash;
}

function makeKey(key: Buffer): Key {
  const ecb = createCipheriv(key.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  const h = ecb.update(Buffer.alloc(16));
  return { key, ecb, simd: new GhashSimd(h), js: new Ghash(h) };
}

/** E_K(J0) then the CTR keystream for `n` bytes (J0 = iv || 0^31 || 1; counters from 2). */
function keystream(k: Key, iv: Buffer, n: number): Buffer {
  const blocks = 1 + Math.ceil(n / 16);
  const counters = Buffer.alloc(blocks * 16);
  for (let i = 0; i < blocks; i++) {
    iv.copy(counters, i * 16);
    counters.writeUInt32BE(1 + i, i * 16 + 12);
  }
  return placed(k.ecb.update(counters), 5);
}

/** The SRTP way (protectRtp): AAD, fused seal, finish, tag; `inPlace` seals over `plain`. */
function seal(g: GhashSimd | Ghash, ks: Buffer, aad: Buffer, plain: Buffer, inPlace: boolean) {
  const packet = placed(Buffer.concat([aad, plain]), 3);
  const out = inPlace ? packet : placed(Buffer.alloc(packet.length), 11);
  if (!inPlace) aad.copy(out, 0);
  g.reset();
  g.update(out, 0, aad.length);
  g.seal(packet, out, aad.length, dv(ks), 16, plain.length);
  g.finish(aad.length, plain.length, dv(ks), 0);
  const tag = Buffer.alloc(16);
  g.writeTag(tag, 0);
  return { out: Buffer.from(out), tag };
}

function nativeGcm(key: Buffer, iv: Buffer, aad: Buffer, plain: Buffer) {
  const c = createCipheriv(key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

t.test('WebAssembly SIMD is available on this Node (the tests below need it)', (t) => {
  t.ok(ghashSimdAvailable());
  t.end();
});

t.test('GMAC on 3,000 random keys and AAD sizes 0-1,500 B: node:crypto and Ghash agree', (t) => {
  const r = prng(7714);
  const live: Key[] = [];
  let tagBad = 0;
  let yBad = 0;
  for (let i = 0; i < 3000; i++) {
    if (live.length < 40 || r() < 0.3) {
      const k = makeKey(bytes(r, r() < 0.5 ? 16 : 32));
      if (live.length >= 40) live.splice(Math.floor(r() * live.length), 1)[0]?.simd.release();
      live.push(k);
    }
    const k = live[Math.floor(r() * live.length)] as Key;
    const n = i < 1501 ? i : Math.floor(r() * 1501);
    const aad = placed(bytes(r, n), 1 + (i % 13));
    const iv = bytes(r, 12);
    const expected = nativeGcm(k.key, iv, aad, Buffer.alloc(0)).tag;
    const ks = keystream(k, iv, 0);
    for (const g of [k.simd, k.js]) {
      g.reset();
      g.update(aad, 0, n);
    }
    if (
      k.simd.y0 !== k.js.y0 ||
      k.simd.y1 !== k.js.y1 ||
      k.simd.y2 !== k.js.y2 ||
      k.simd.y3 !== k.js.y3
    ) {
      yBad++;
    }
    k.simd.finish(n, 0, dv(ks), 0);
    const tag = Buffer.alloc(16);
    k.simd.writeTag(tag, 0);
    if (!tag.equals(expected) || !k.simd.tagEquals(expected, 0)) tagBad++;
  }
  for (const k of live) k.simd.release();
  t.equal(yBad, 0, 'Y equals the JS Ghash after every AAD');
  t.equal(tagBad, 0, 'every GMAC tag equals node:crypto');
  t.end();
});

t.test('GCM-sealed packets, 2,000 random keys/sizes 0-1,500 B: node:crypto and Ghash', (t) => {
  const r = prng(3711);
  const live: Key[] = [];
  let bad = 0;
  let openBad = 0;
  for (let i = 0; i < 2000; i++) {
    if (live.length < 30 || r() < 0.2) {
      const k = makeKey(bytes(r, 16));
      if (live.length >= 30) live.shift()?.simd.release();
      live.push(k);
    }
    const k = live[Math.floor(r() * live.length)] as Key;
    const n = i < 1501 ? i : Math.floor(r() * 1501);
    const aad = bytes(r, 12 + 4 * Math.floor(r() * 4));
    const plain = bytes(r, n);
    const iv = bytes(r, 12);
    const ks = keystream(k, iv, n);
    const expected = nativeGcm(k.key, iv, aad, plain);
    const inPlace = (i & 1) === 1;
    const a = seal(k.simd, ks, aad, plain, inPlace);
    const b = seal(k.js, ks, aad, plain, inPlace);
    const ct = a.out.subarray(aad.length);
    if (!ct.equals(expected.ct) || !a.tag.equals(expected.tag) || !b.tag.equals(a.tag)) bad++;
    // Opening (unprotectRtp's steps): GHASH over AAD and ciphertext, the tag compared.
    const sealed = placed(Buffer.concat([aad, expected.ct, expected.tag]));
    k.simd.reset();
    k.simd.update(sealed, 0, aad.length);
    k.simd.update(sealed, aad.length, n);
    k.simd.finish(aad.length, n, dv(ks), 0);
    if (!k.simd.tagEquals(sealed, aad.length + n)) openBad++;
    sealed[aad.length + n] = (sealed[aad.length + n] ?? 0) ^ 1;
    if (k.simd.tagEquals(sealed, aad.length + n)) openBad++;
  }
  for (const k of live) k.simd.release();
  t.equal(bad, 0, 'ciphertext and tag equal node:crypto and the JS Ghash');
  t.equal(openBad, 0, 'every tag verifies, and a flipped tag bit does not');
  t.end();
});

t.test('more than one scratch of data (update and seal of 70,000 B)', (t) => {
  const r = prng(1);
  const k = makeKey(bytes(r, 16));
  const iv = bytes(r, 12);
  const aad = bytes(r, 70_001);
  const plain = bytes(r, 70_000);
  const ks = keystream(k, iv, plain.length);
  const a = seal(k.simd, ks, aad, plain, false);
  const expected = nativeGcm(k.key, iv, aad, plain);
  t.ok(a.out.subarray(aad.length).equals(expected.ct), 'ciphertext');
  t.equal(a.tag.toString('hex'), expected.tag.toString('hex'), 'tag');
  k.simd.reset();
  k.simd.blocks(dv(aad), aad.byteOffset, aad.byteOffset + 70_000);
  k.js.reset();
  k.js.blocks(dv(aad), aad.byteOffset, aad.byteOffset + 70_000);
  t.same([k.simd.y0, k.simd.y1, k.simd.y2, k.simd.y3], [k.js.y0, k.js.y1, k.js.y2, k.js.y3]);
  k.simd.release();
  t.end();
});

t.test('keys interleaved mid-GHASH: each result as if computed alone', (t) => {
  const r = prng(42);
  const keys = Array.from({ length: 5 }, () => makeKey(bytes(r, 16)));
  const parts = keys.map(() => [bytes(r, 37), bytes(r, 64), bytes(r, 5)]);
  for (const k of keys) k.simd.reset();
  for (let p = 0; p < 3; p++) {
    keys.forEach((k, i) => {
      const d = parts[i]?.[p] as Buffer;
      k.simd.update(d, 0, d.length);
      if (i === 2 && p === 1) t.ok(Number.isInteger(k.simd.y0), 'Y read mid-way');
    });
  }
  keys.forEach((k, i) => {
    k.js.reset();
    for (const d of parts[i] ?? []) k.js.update(d, 0, d.length);
    t.same(
      [k.simd.y0, k.simd.y1, k.simd.y2, k.simd.y3],
      [k.js.y0, k.js.y1, k.js.y2, k.js.y3],
      `key ${i}`,
    );
    k.simd.release();
  });
  t.end();
});

t.test('GCM specification test cases 1-4 (SP 800-38D, McGrew & Viega)', (t) => {
  const K = hex('feffe9928665731c6d6a8f9467308308');
  const IV = hex('cafebabefacedbaddecaf888');
  const P = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255`);
  const C = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
    21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985`);
  const cases = [
    {
      n: 1,
      key: Buffer.alloc(16),
      iv: Buffer.alloc(12),
      aad: Buffer.alloc(0),
      p: Buffer.alloc(0),
      c: Buffer.alloc(0),
      tag: '58e2fccefa7e3061367f1d57a4e7455a',
    },
    {
      n: 2,
      key: Buffer.alloc(16),
      iv: Buffer.alloc(12),
      aad: Buffer.alloc(0),
      p: Buffer.alloc(16),
      c: hex('0388dace60b6a392f328c2b971b2fe78'),
      tag: 'ab6e47d42cec13bdf53a67b21257bddf',
    },
    {
      n: 3,
      key: K,
      iv: IV,
      aad: Buffer.alloc(0),
      p: P,
      c: C,
      tag: '4d5c2af327cd64a62cf35abd2ba6fab4',
    },
    {
      n: 4,
      key: K,
      iv: IV,
      aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
      p: P.subarray(0, 60),
      c: C.subarray(0, 60),
      tag: '5bc94fbc3221a5db94fae95ae7121a47',
    },
  ];
  for (const v of cases) {
    const k = makeKey(v.key);
    const a = seal(k.simd, keystream(k, v.iv, v.p.length), v.aad, v.p, false);
    t.equal(a.out.subarray(v.aad.length).toString('hex'), v.c.toString('hex'), `case ${v.n} C`);
    t.equal(a.tag.toString('hex'), v.tag, `case ${v.n} T`);
    k.simd.release();
  }
  t.end();
});

t.test('RFC 7714 §16.1 and §16.2: the SRTP packets, sealed through GhashSimd', (t) => {
  const salt = hex('517569642070726f2071756f');
  const rtp = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
    20646976 69736120 696e2070 61727465 73207472 6573`);
  const vectors = [
    {
      key: hex('000102030405060708090a0b0c0d0e0f'),
      srtp: `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
        0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`,
    },
    {
      key: hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
      srtp: `8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
        9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`,
    },
  ];
  // IV = 00 00 || SSRC || ROC || SEQ, XOR the salt (RFC 7714 §8.1); ROC 0, SEQ 0xf17b.
  const iv = Buffer.alloc(12);
  rtp.copy(iv, 2, 8, 12);
  rtp.copy(iv, 10, 2, 4);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
  for (const v of vectors) {
    const k = makeKey(v.key);
    const n = rtp.length - 12;
    const a = seal(k.simd, keystream(k, iv, n), rtp.subarray(0, 12), rtp.subarray(12), true);
    t.equal(Buffer.concat([a.out, a.tag]).toString('hex'), hex(v.srtp).toString('hex'));
    k.simd.release();
  }
  t.end();
});
