/**
 * GhashSimd.seal (GCM-CTR and GHASH fused, NIST SP 800-38D §6.5/§6.4, as RFC 7714 protect uses
 * it) against the JS Ghash's seal, byte for byte: every length 0-1,500 B, in place and into a
 * separate `out`, src/out/keystream at unaligned offsets inside larger buffers, the bytes
 * around the written range untouched, and the paths a packet rarely takes (a src too long to
 * copy whole, a header past the scratch's free room, the memory growing between seals).
 */
import t from 'tap';
import { Ghash } from '../../lib/srtp/ghash.js';
import { GhashSimd, ghashSimdStats } from '../../lib/srtp/ghash-simd.js';
import { prng } from '../helpers/prng.js';

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** `data` copied `lead` bytes into a larger random pool; `trail` random bytes after it. */
function inPool(r: () => number, data: Buffer, lead: number, trail: number): Buffer {
  const host = bytes(r, lead + data.length + trail);
  data.copy(host, lead);
  return host.subarray(lead, lead + data.length + trail);
}

interface Sealed {
  out: Buffer;
  /** The whole pool `out` lives in (to check nothing around the packet was written). */
  host: Buffer;
  src: Buffer;
  tag: Buffer;
}

interface Case {
  aad: Buffer;
  header: number;
  plain: Buffer;
  ks: Buffer;
  ksLead: number;
  srcLead: number;
  srcTrail: number;
  outLead: number;
  inPlace: boolean;
}

/** protectRtp's steps with `g`: AAD, seal of the payload at `header`, finish, tag. */
function run(g: GhashSimd | Ghash, c: Case, seed: number): Sealed {
  const r = prng(seed);
  const n = c.plain.length;
  const packet = Buffer.concat([bytes(r, c.header), c.plain]);
  const src = inPool(r, packet, c.srcLead, c.srcTrail);
  const host = bytes(r, c.outLead + packet.length + 32);
  const out = c.inPlace ? src : host.subarray(c.outLead, c.outLead + packet.length);
  const ksHost = inPool(r, c.ks, c.ksLead, 16);
  const ks = new DataView(ksHost.buffer, ksHost.byteOffset - 3, ksHost.length + 3);
  g.reset();
  g.update(c.aad, 0, c.aad.length);
  g.seal(src, out, c.header, ks, 3, n);
  g.finish(c.aad.length, n, ks, 3);
  const tag = Buffer.alloc(16);
  g.writeTag(tag, 0);
  return {
    out: Buffer.from(out.subarray(c.header, c.header + n)),
    host: Buffer.from(c.inPlace ? new Uint8Array(src.buffer) : host),
    src: Buffer.from(src),
    tag,
  };
}

function differs(a: Sealed, b: Sealed): string | undefined {
  if (!a.out.equals(b.out)) return 'ciphertext';
  if (!a.tag.equals(b.tag)) return 'tag';
  if (!a.host.equals(b.host)) return 'bytes outside the ciphertext';
  if (!a.src.equals(b.src)) return 'src';
  return undefined;
}

function makeCase(r: () => number, n: number, inPlace: boolean): Case {
  const aadLength = Math.floor(r() * 48);
  return {
    aad: bytes(r, aadLength),
    header: 12 + Math.floor(r() * 24),
    plain: bytes(r, n),
    ks: bytes(r, n + 16),
    ksLead: 3 + Math.floor(r() * 37),
    srcLead: 1 + Math.floor(r() * 37),
    srcTrail: Math.floor(r() * 3) * 17,
    outLead: 1 + Math.floor(r() * 37),
    inPlace,
  };
}

t.test('every length 0-1,500 B, in place and not, at unaligned offsets: as the JS Ghash', (t) => {
  const r = prng(7714);
  const h = bytes(r, 16);
  const simd = new GhashSimd(h);
  const other = new GhashSimd(bytes(r, 16));
  const js = new Ghash(h);
  const bad: string[] = [];
  for (let n = 0; n <= 1500; n++) {
    for (const inPlace of [false, true]) {
      const c = makeCase(r, n, inPlace);
      const seed = n * 2 + (inPlace ? 1 : 0);
      // Another key's pending blocks in the scratch first, now and then.
      if (n % 7 === 0) other.update(c.plain, 0, Math.min(n, 40));
      const why = differs(run(simd, c, seed), run(js, c, seed));
      if (why !== undefined) bad.push(`n=${n} inPlace=${inPlace}: ${why}`);
    }
  }
  t.same(bad.slice(0, 5), [], 'every case equals the JS Ghash (first failures shown)');
  simd.release();
  other.release();
  t.end();
});

t.test('a src too long to copy whole, and a header past the free scratch', (t) => {
  const r = prng(3);
  const h = bytes(r, 16);
  const simd = new GhashSimd(h);
  const js = new Ghash(h);
  const cases: [string, Case][] = [
    // Copied whole, 60 kB would run past the scratch page into the tables.
    ['src with 60 kB after the payload', { ...makeCase(r, 1200, false), srcTrail: 60_000 }],
    ['the same, in place', { ...makeCase(r, 1200, true), srcTrail: 60_000 }],
    // Copied whole, its bytes before the payload would overwrite the pending AAD blocks.
    ['a 16,360 B header', { ...makeCase(r, 1000, false), header: 16_360, aad: bytes(r, 40) }],
    ['AAD near a full scratch', { ...makeCase(r, 1500, false), aad: bytes(r, 16_000) }],
    ['14 kB of payload', makeCase(r, 14_000, true)],
  ];
  for (const [name, c] of cases) {
    const a = run(simd, c, 1);
    const b = run(js, c, 1);
    t.equal(differs(a, b), undefined, name);
  }
  simd.release();
  t.end();
});

t.test('seals before and after the linear memory grows give the same bytes', (t) => {
  const r = prng(11);
  const h = bytes(r, 16);
  const simd = new GhashSimd(h);
  const js = new Ghash(h);
  const c = makeCase(r, 300, false);
  t.equal(differs(run(simd, c, 5), run(js, c, 5)), undefined, 'before');
  const before = ghashSimdStats().memoryBytes;
  const extra: GhashSimd[] = [];
  while (ghashSimdStats().memoryBytes === before) extra.push(new GhashSimd(bytes(r, 16)));
  t.ok(ghashSimdStats().memoryBytes > before, 'the memory grew');
  t.equal(differs(run(simd, c, 5), run(js, c, 5)), undefined, 'after');
  for (const g of extra) g.release();
  simd.release();
  t.end();
});
