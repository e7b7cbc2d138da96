/**
 * RFC 8285 header extensions as the SFU forwards them: the element layout found once per
 * incoming packet, then applied to each subscriber's copy, must give exactly what a full
 * parse and `rewriteExtensionIds` of that copy gives (ids mapped, unnegotiated elements
 * blanked into padding, nothing past a stop or a malformed element touched), and find the
 * transport-cc value where `findExtension` finds it.
 */
import t from 'tap';
import {
  ExtensionElement,
  findExtension,
  RtpPacket,
  rewriteExtensionIds,
} from '../../lib/rtp/index.js';
import { ExtensionLayout, MAX_LAYOUT_ELEMENTS } from '../../lib/sfu/extension-layout.js';

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 0x100000000;
  };
}

/**
 * An RTP packet (at `origin` in a larger buffer) whose extension block is random bytes shaped
 * like elements: well-formed ones, padding, sometimes an ID 15 stop or an overrunning length.
 */
function randomPacket(rand: () => number, origin: number): { buf: Buffer; length: number } {
  const oneByte = rand() < 0.6;
  const body: number[] = [];
  const elements = Math.floor(rand() * 8);
  for (let e = 0; e < elements; e++) {
    const r = rand();
    if (r < 0.1)
      body.push(0); // padding
    else if (oneByte && r < 0.13)
      body.push(0xf0 | Math.floor(rand() * 16)); // stop
    else {
      const len = oneByte ? 1 + Math.floor(rand() * 4) : Math.floor(rand() * 5);
      const id = oneByte ? 1 + Math.floor(rand() * 14) : 1 + Math.floor(rand() * 255);
      if (oneByte) body.push((id << 4) | (len - 1));
      else body.push(id, len);
      for (let i = 0; i < len; i++) body.push(Math.floor(rand() * 256));
    }
  }
  if (rand() < 0.1) body.push(oneByte ? 0x5f : 9, 40); // runs past the block
  while (body.length % 4 !== 0) body.push(0);
  const payload = 20;
  const length = 12 + 4 + body.length + payload;
  const buf = Buffer.alloc(origin + length + 7, 0xee);
  buf[origin] = 0x90; // V=2, X
  buf[origin + 1] = 96;
  buf.writeUInt16BE(oneByte ? 0xbede : 0x1000, origin + 12);
  buf.writeUInt16BE(body.length / 4, origin + 14);
  Buffer.from(body).copy(buf, origin + 16);
  buf.fill(0xab, origin + 16 + body.length, origin + length);
  return { buf, length };
}

function randomMap(rand: () => number, max: number): Uint8Array {
  const map = new Uint8Array(256);
  for (let id = 1; id < 256; id++) {
    if (rand() < 0.5) map[id] = 1 + Math.floor(rand() * max);
  }
  return map;
}

t.test('layout + apply rewrites a copy exactly as parse + rewriteExtensionIds', async (t) => {
  const rand = prng(7);
  const layout = new ExtensionLayout();
  const view = new RtpPacket();
  const el = new ExtensionElement();
  let compared = 0;
  let withTwcc = 0;
  for (let n = 0; n < 3000; n++) {
    const origin = Math.floor(rand() * 5);
    const { buf, length } = randomPacket(rand, origin);
    const src = new RtpPacket();
    if (src.parse(buf, origin, length) !== undefined) continue;
    layout.scan(src, origin);
    const oneByte = src.extensionProfile === 0xbede;
    const map = randomMap(rand, oneByte ? 14 : 255);
    const find = 1 + Math.floor(rand() * (oneByte ? 14 : 255));
    const bytes = buf.subarray(origin, origin + length);
    const fast = Buffer.from(bytes);
    const at = layout.apply(fast, map, find, 2);
    const slow = Buffer.from(bytes);
    view.parse(slow);
    rewriteExtensionIds(view, map);
    const want = findExtension(view, find, el) && el.length >= 2 ? el.offset : -1;
    if (!fast.equals(slow) || at !== want) {
      t.fail(`packet ${n}: ${bytes.toString('hex')} map/find ${find}: ${at} vs ${want}`);
      return;
    }
    compared++;
    if (at >= 0) withTwcc++;
  }
  t.ok(compared > 2500, `${compared} packets compared byte for byte`);
  t.ok(withTwcc > 50, `${withTwcc} of them with the searched id found`);
});

t.test('a packet without an extension block has an empty layout', async (t) => {
  const p = new RtpPacket();
  const buf = Buffer.alloc(40);
  buf[0] = 0x80;
  t.equal(p.parse(buf), undefined);
  const layout = new ExtensionLayout();
  layout.scan(p, 0);
  t.equal(layout.count, 0);
  t.equal(layout.overflow, false);
  t.equal(layout.apply(buf, new Uint8Array(256).fill(3), 3, 2), -1);
});

t.test('more elements than the layout holds: overflow, nothing recorded', async (t) => {
  const count = MAX_LAYOUT_ELEMENTS + 1;
  const body = Buffer.alloc(Math.ceil((count * 2) / 4) * 4);
  for (let i = 0; i < count; i++) body[2 * i] = 0x10; // id 1, one byte of value
  const buf = Buffer.concat([
    Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),
    Buffer.alloc(4),
    body,
  ]);
  buf.writeUInt16BE(0xbede, 12);
  buf.writeUInt16BE(body.length / 4, 14);
  const p = new RtpPacket();
  t.equal(p.parse(buf), undefined);
  const layout = new ExtensionLayout();
  layout.scan(p, 0);
  t.equal(layout.overflow, true);
  t.equal(layout.count, 0);
  const small = Buffer.from(buf);
  small.writeUInt16BE(4, 14); // 8 elements fit
  p.parse(small.subarray(0, 16 + 16));
  layout.scan(p, 0);
  t.equal(layout.overflow, false, 'a later packet within bounds is recorded again');
  t.equal(layout.count, 8);
});
