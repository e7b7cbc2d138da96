/**
 * The WebAssembly SIMD GHASH candidate (bench/srtp/ghash-wasm.ts) and its encoder: LEB128
 * vectors (WebAssembly Core Specification §5.2.2), the module validating, GMAC and full
 * AES-GCM (NIST SP 800-38D) against node:crypto on random keys and every size class 0–1,500 B,
 * and the same Y as the JS GHASH (lib/srtp/ghash.ts) with keys interleaved.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import t from 'tap';
import {
  compactTable,
  type GhashState,
  ghashModuleBytes,
  loadGhashWasm,
  validWasm,
} from '../../bench/srtp/ghash-wasm.js';
import { sleb, uleb } from '../../bench/srtp/wasm-encoder.js';
import { fillProducts, Ghash, powersOfH } from '../../lib/srtp/ghash.js';

const wasm = loadGhashWasm();

function hex(f: (out: number[]) => void): string {
  const out: number[] = [];
  f(out);
  return Buffer.from(out).toString('hex');
}

function tableOf(h: Uint8Array): Uint8Array {
  const m = new Int32Array(256 * 4);
  fillProducts(m, 0, powersOfH(h, 8), 0, 8);
  return compactTable(m);
}

function state(): GhashState {
  return { y0: 0, y1: 0, y2: 0, y3: 0 };
}

function tagOf(s: GhashState, j0: Buffer): string {
  const tag = Buffer.alloc(16);
  tag.writeInt32BE(s.y0 ^ j0.readInt32BE(0), 0);
  tag.writeInt32BE(s.y1 ^ j0.readInt32BE(4), 4);
  tag.writeInt32BE(s.y2 ^ j0.readInt32BE(8), 8);
  tag.writeInt32BE(s.y3 ^ j0.readInt32BE(12), 12);
  return tag.toString('hex');
}

function lengths(aadBytes: number, textBytes: number): DataView {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(aadBytes * 8, 4);
  b.writeUInt32BE(textBytes * 8, 12);
  return new DataView(b.buffer, b.byteOffset, 16);
}

/** Sizes 0–1,500: every size up to 48, the block boundaries above, and random ones. */
const SIZES = [
  ...Array.from({ length: 49 }, (_, i) => i),
  ...[63, 64, 65, 255, 256, 257, 1023, 1024, 1025, 1188, 1200, 1488, 1499, 1500],
  ...Array.from({ length: 60 }, () => Math.floor(Math.random() * 1501)),
];

t.test('LEB128 as the WebAssembly binary format encodes integers', (t) => {
  t.equal(
    hex((o) => uleb(o, 0)),
    '00',
  );
  t.equal(
    hex((o) => uleb(o, 127)),
    '7f',
  );
  t.equal(
    hex((o) => uleb(o, 128)),
    '8001',
  );
  t.equal(
    hex((o) => uleb(o, 624485)),
    'e58e26',
  );
  t.equal(
    hex((o) => uleb(o, 0xffffffff)),
    'ffffffff0f',
  );
  t.equal(
    hex((o) => sleb(o, 63)),
    '3f',
  );
  t.equal(
    hex((o) => sleb(o, 64)),
    'c000',
  );
  t.equal(
    hex((o) => sleb(o, -1)),
    '7f',
  );
  t.equal(
    hex((o) => sleb(o, -123456)),
    'c0bb78',
  );
  t.equal(
    hex((o) => sleb(o, 0x1fe0)),
    'e03f',
  );
  t.end();
});

t.test('the GHASH module is valid WebAssembly with SIMD and loads here (Node 20)', (t) => {
  const bytes = ghashModuleBytes();
  t.same([...bytes.subarray(0, 8)], [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'magic and version');
  t.ok(validWasm(bytes), 'validates');
  const broken = Uint8Array.from(bytes);
  broken[broken.length - 1] = 0x00; // the last function's `end` gone
  t.notOk(validWasm(broken), 'a damaged module does not');
  t.ok(wasm !== undefined, 'loadGhashWasm gives an instance');
  t.end();
});

t.test('GMAC: the WASM GHASH gives node:crypto AES-GCM tags for AAD of 0-1,500 B', (t) => {
  if (wasm === undefined) throw new Error('no WebAssembly SIMD');
  let failures = 0;
  for (const n of SIZES) {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = randomBytes(n);
    const c = createCipheriv('aes-128-gcm', key, iv);
    c.setAAD(aad);
    c.final();
    const expected = c.getAuthTag().toString('hex');
    const ecb = createCipheriv('aes-128-ecb', key, null);
    const h = ecb.update(Buffer.alloc(16));
    const j0 = ecb.update(Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]));
    const s = state();
    const table = tableOf(h);
    // At an odd offset into a larger buffer, so views and offsets are exercised.
    const host = Buffer.alloc(n + 7);
    aad.copy(host, 5);
    wasm.update(s, table, host, 5, n);
    wasm.blocks(s, table, lengths(n, 0), 0, 16);
    if (tagOf(s, j0) !== expected) failures++;
  }
  t.equal(failures, 0, `${SIZES.length} sizes, every tag equal`);
  t.end();
});

t.test('AES-GCM: seal gives node:crypto ciphertext and tag (AAD 12 B, text 0-1,500 B)', (t) => {
  if (wasm === undefined) throw new Error('no WebAssembly SIMD');
  let failures = 0;
  for (const n of SIZES) {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = randomBytes(12);
    const plain = randomBytes(n);
    const c = createCipheriv('aes-128-gcm', key, iv);
    c.setAAD(aad);
    const sealed = Buffer.concat([c.update(plain), c.final()]).toString('hex');
    const expected = c.getAuthTag().toString('hex');
    const ecb = createCipheriv('aes-128-ecb', key, null);
    const h = ecb.update(Buffer.alloc(16));
    const j0 = ecb.update(Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]));
    // Counter blocks J0 + 1, + 2, … (inc32; the low word starts at 2, so it cannot wrap here).
    const ctr = createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.from([0, 0, 0, 2])]));
    const ks = ctr.update(Buffer.alloc(n + 16));
    const s = state();
    const table = tableOf(h);
    const out = Buffer.alloc(n + 3);
    wasm.update(s, table, aad, 0, 12);
    wasm.seal(s, table, plain, out, 0, new DataView(ks.buffer, ks.byteOffset, ks.length), 0, n);
    wasm.blocks(s, table, lengths(12, n), 0, 16);
    if (out.subarray(0, n).toString('hex') !== sealed || tagOf(s, j0) !== expected) failures++;
  }
  t.equal(failures, 0, `${SIZES.length} sizes, ciphertext and tag equal`);
  t.end();
});

t.test('the WASM GHASH and the JS one agree, keys interleaved (the table is swapped in)', (t) => {
  if (wasm === undefined) throw new Error('no WebAssembly SIMD');
  const hs = Array.from({ length: 5 }, () => randomBytes(16));
  const js = hs.map((h) => new Ghash(h));
  const ws = hs.map((h) => ({ s: state(), table: tableOf(h) }));
  let failures = 0;
  for (let round = 0; round < 200; round++) {
    const k = Math.floor(Math.random() * hs.length);
    const n = Math.floor(Math.random() * 1501);
    const data = randomBytes(n);
    const j = js[k] as Ghash;
    const w = ws[k] as { s: GhashState; table: Uint8Array };
    j.update(data, 0, n);
    wasm.update(w.s, w.table, data, 0, n);
    if (j.y0 !== w.s.y0 || j.y1 !== w.s.y1 || j.y2 !== w.s.y2 || j.y3 !== w.s.y3) failures++;
  }
  t.equal(failures, 0, '200 random updates over 5 keys: Y equal after each');
  const a = state();
  wasm.update(a, tableOf(hs[0] as Uint8Array), Buffer.from('x'), 0, 1);
  const b = state();
  wasm.update(b, tableOf(hs[1] as Uint8Array), Buffer.from('x'), 0, 1);
  t.not(a.y0, b.y0, 'a different key gives a different Y');
  t.end();
});
