import { createCipheriv, randomBytes } from 'node:crypto';
import t from 'tap';
import {
  Byte16Ghash,
  Nibble32Ghash,
  Shoup4Ghash,
  Shoup8Ghash,
  Shoup16Ghash,
  WasmResidentGhash,
} from '../../bench/srtp/ghash-candidates.js';
import { runGhashBench } from '../../bench/srtp-ghash.js';

t.test('every GHASH candidate gives the GCM tag node:crypto gives (AAD only, GMAC)', (t) => {
  const candidates = [
    Byte16Ghash,
    Nibble32Ghash,
    Shoup4Ghash,
    Shoup8Ghash,
    Shoup16Ghash,
    WasmResidentGhash,
  ];
  for (const C of candidates) {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = randomBytes(64);
    const c = createCipheriv('aes-128-gcm', key, iv);
    c.setAAD(aad);
    c.final();
    const expected = c.getAuthTag();
    const ecb = createCipheriv('aes-128-ecb', key, null);
    const h = ecb.update(Buffer.alloc(16));
    const j0 = ecb.update(Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]));
    const g = new C(h);
    g.blocks(new DataView(aad.buffer, aad.byteOffset, 64), 0, 64);
    const len = Buffer.alloc(16);
    len.writeUInt32BE(64 * 8, 4);
    g.blocks(new DataView(len.buffer, len.byteOffset, 16), 0, 16);
    const tag = Buffer.alloc(16);
    tag.writeInt32BE(g.y0 ^ j0.readInt32BE(0), 0);
    tag.writeInt32BE(g.y1 ^ j0.readInt32BE(4), 4);
    tag.writeInt32BE(g.y2 ^ j0.readInt32BE(8), 8);
    tag.writeInt32BE(g.y3 ^ j0.readInt32BE(12), 12);
    t.equal(tag.toString('hex'), expected.toString('hex'), new C(h).name);
  }
  t.end();
});

t.test('the srtp-ghash bench runs, tiny', async (t) => {
  const lines: string[] = [];
  const r = await runGhashBench({ seconds: 0.03, keys: [1, 3], size: 300 }, (l) => lines.push(l));
  t.equal(r.ghash.length, 6, 'six candidates');
  for (const row of r.ghash) {
    t.equal(row.nsPerBlock.length, 2);
    t.ok(
      row.nsPerBlock.every((x) => x > 0 && Number.isFinite(x)),
      row.candidate,
    );
  }
  t.equal(r.packets.length, 2);
  for (const p of r.packets) t.ok(p.rtcdUs > 0 && p.nativeUs > 0, `${p.keys} keys`);
  t.match(lines.join('\n'), /shoup-8bit \(lib\)/);
  t.match(lines.join('\n'), /wasm-resident/);
  t.equal(r.harness.length, 2, 'the protect harness, JS Ghash vs GhashSimd');
  for (const h of r.harness) t.ok(h.jsUs > 0 && h.simdUs > 0, `harness, ${h.keys} keys`);
});
