/**
 * GhashSimd's resident tables and their lifetime: a released key's slot serves the next key
 * correctly, create/release cycles keep the linear memory bounded, thousands of live keys are
 * each correct, a key collected unreleased frees its slot (FinalizationRegistry), and on a
 * Node without WebAssembly (`--jitless`) importing is safe and ghashSimdAvailable() is false.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import t from 'tap';
import { Ghash } from '../../lib/srtp/ghash.js';
import {
  GcmGhash,
  GhashJs,
  GhashSimd,
  GhashSimdError,
  ghashSimdAvailable,
  ghashSimdStats,
} from '../../lib/srtp/ghash-simd.js';

const run = promisify(execFile);
const module = new URL('../../lib/srtp/ghash-simd.ts', import.meta.url).href;

function hOf(key: Buffer): Buffer {
  const ecb = createCipheriv('aes-128-ecb', key, null);
  return ecb.update(Buffer.alloc(16));
}

function y(g: GhashSimd | Ghash): number[] {
  return [g.y0, g.y1, g.y2, g.y3];
}

/** Y after GHASH over `data` with a fresh state. */
function hash(g: GhashSimd | Ghash, data: Buffer): number[] {
  g.reset();
  g.update(data, 0, data.length);
  return y(g);
}

t.test('a released slot serves the next key correctly; release is idempotent', (t) => {
  t.ok(ghashSimdAvailable());
  const data = randomBytes(1200);
  const k1 = hOf(randomBytes(16));
  const k2 = hOf(randomBytes(16));
  const before = ghashSimdStats().liveKeys;
  const a = new GhashSimd(k1);
  const ya = hash(a, data);
  t.same(ya, hash(new Ghash(k1), data), 'first key');
  // Leave blocks pending in the scratch, then release: they must not reach the next key.
  a.reset();
  a.update(data, 0, 64);
  a.release();
  a.release();
  t.equal(ghashSimdStats().liveKeys, before, 'one release freed one slot');
  const b = new GhashSimd(k2);
  t.same(hash(b, data), hash(new Ghash(k2), data), 'the next key, in the reused slot');
  t.notSame(hash(b, data), ya);
  t.throws(() => a.update(data, 0, 16), { code: 'ghash-simd-released' });
  t.throws(() => a.finish(0, 0, new DataView(data.buffer), 0), GhashSimdError);
  b.release();
  t.end();
});

t.test('GcmGhash is GhashSimd here; GhashJs is Ghash with a no-op release', (t) => {
  t.equal(GcmGhash, GhashSimd);
  const h = hOf(randomBytes(16));
  const data = randomBytes(500);
  const g = new GcmGhash(h);
  const j = new GhashJs(h);
  t.same(hash(g, data), hash(j, data));
  j.release();
  j.release();
  t.same(hash(j, data), hash(new Ghash(h), data), 'GhashJs works after release');
  g.release();
  t.end();
});

t.test('10,000 create/release cycles keep the memory bounded', (t) => {
  const warm = new GhashSimd(hOf(randomBytes(16)));
  warm.release();
  const start = ghashSimdStats();
  const data = randomBytes(100);
  const key = randomBytes(16);
  let bad = 0;
  for (let i = 0; i < 10_000; i++) {
    key.writeUInt32BE(i, 0);
    const h = hOf(key);
    const g = new GhashSimd(h);
    if (i % 500 === 0 && hash(g, data).join() !== hash(new Ghash(h), data).join()) bad++;
    else hash(g, data);
    g.release();
  }
  const end = ghashSimdStats();
  t.equal(bad, 0, 'sampled keys correct');
  t.equal(end.liveKeys, start.liveKeys, 'no slot leaked');
  t.equal(end.memoryBytes, start.memoryBytes, 'the memory did not grow');
  t.equal(end.slots, start.slots);
  t.end();
});

t.test('2,500 live keys, used interleaved, are each correct; then all freed', (t) => {
  const start = ghashSimdStats();
  const hs = Array.from({ length: 2500 }, () => hOf(randomBytes(16)));
  const simd = hs.map((h) => new GhashSimd(h));
  const grown = ghashSimdStats();
  t.ok(grown.liveKeys >= start.liveKeys + 2500, `${grown.liveKeys} live`);
  t.ok(grown.slots >= grown.liveKeys, `${grown.slots} slots`);
  t.ok(grown.memoryBytes <= 65536 + grown.slots * GhashSimd.tableBytes + 65536, 'bounded');
  const data = randomBytes(300);
  let bad = 0;
  // Two passes over the keys, each absorbing half (160 + 140 B, the second half padded), so
  // the scratch changes hands every call.
  for (const g of simd) g.reset();
  for (const g of simd) g.update(data, 0, 160);
  for (const g of simd) g.update(data, 160, 140);
  simd.forEach((g, i) => {
    const js = new Ghash(hs[i] as Buffer);
    js.update(data, 0, 160);
    js.update(data, 160, 140);
    if (y(g).join() !== y(js).join()) bad++;
  });
  t.equal(bad, 0, 'every key');
  for (const g of simd) g.release();
  t.equal(ghashSimdStats().liveKeys, start.liveKeys);
  // The freed slots serve again without growing.
  const again = hs.map((h) => new GhashSimd(h));
  t.equal(ghashSimdStats().memoryBytes, grown.memoryBytes, 'reused, not grown');
  for (const g of again) g.release();
  t.end();
});

t.test('a key collected unreleased frees its slot (FinalizationRegistry)', async (t) => {
  const script = `
    const m = await import(${JSON.stringify(module)});
    const h = new Uint8Array(16).fill(7);
    (() => { for (let i = 0; i < 200; i++) new m.GhashSimd(h).reset(); })();
    const made = m.ghashSimdStats().liveKeys;
    for (let i = 0; i < 10 && m.ghashSimdStats().liveKeys > 0; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(JSON.stringify({ made, after: m.ghashSimdStats().liveKeys }));`;
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    { timeout: 30_000 },
  );
  const r = JSON.parse(stdout) as { made: number; after: number };
  t.equal(r.made, 200);
  t.equal(r.after, 0, 'every slot back on the free list');
});

t.test('node --jitless (no WebAssembly): import safe, unavailable, GcmGhash is JS', async (t) => {
  const script = `
    const m = await import(${JSON.stringify(module)});
    let code = 'none';
    try { new m.GhashSimd(new Uint8Array(16)); } catch (e) { code = e.code; }
    const g = new m.GcmGhash(new Uint8Array(16).fill(9));
    g.update(new Uint8Array(40).fill(3), 0, 40);
    g.release();
    console.log(JSON.stringify({
      wasm: typeof WebAssembly, available: m.ghashSimdAvailable(), code,
      fallback: m.GcmGhash === m.GhashJs, y: [g.y0, g.y1, g.y2, g.y3],
    }));`;
  const { stdout } = await run(
    process.execPath,
    ['--jitless', '--import', 'tsx', '--input-type=module', '-e', script],
    { timeout: 30_000 },
  );
  const r = JSON.parse(stdout) as {
    wasm: string;
    available: boolean;
    code: string;
    fallback: boolean;
    y: number[];
  };
  t.equal(r.wasm, 'undefined', 'the child really has no WebAssembly');
  t.equal(r.available, false);
  t.equal(r.code, 'ghash-simd-unavailable', 'the constructor refuses');
  t.ok(r.fallback, 'GcmGhash is the JS GhashJs there');
  const js = new Ghash(new Uint8Array(16).fill(9));
  js.update(new Uint8Array(40).fill(3), 0, 40);
  t.same(r.y, y(js), 'and computes GHASH');
});
