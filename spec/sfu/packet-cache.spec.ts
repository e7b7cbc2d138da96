import t from 'tap';
import { PacketCache } from '../../lib/sfu/packet-cache.js';

const packet = (seq: number, length = 1200): Buffer => Buffer.alloc(length, seq & 0xff);

t.test('a cached packet comes back whole until its slot is reused or it is too old', (t) => {
  const c = new PacketCache(100, 2000);
  c.put(7, packet(7), 0);
  t.ok(c.has(7));
  t.same(c.get(7, 1000), packet(7));
  t.equal(c.get(7, 2001), undefined, 'older than maxAgeMs');
  t.equal(c.get(8, 0), undefined, 'never stored');
  c.put(107, packet(107, 900), 10); // same slot
  t.notOk(c.has(7));
  t.equal(c.get(7, 10), undefined);
  t.same(c.get(107, 10), packet(107, 900), 'a shorter packet in a used slot is exactly its bytes');
  t.end();
});

t.test('neighbouring slots do not overlap, across chunk boundaries', (t) => {
  const c = new PacketCache(100, 2000, 64);
  for (let s = 0; s < 100; s++) c.put(s, packet(s, 64), 0);
  for (let s = 0; s < 100; s++) t.same(c.get(s, 0), packet(s, 64), `seq ${s}`);
  t.end();
});

t.test('a packet longer than a slot is kept on its own, and the slot works again after', (t) => {
  const c = new PacketCache(64, 2000, 100);
  c.put(3, packet(3, 250), 0);
  c.put(4, packet(4, 100), 0);
  t.same(c.get(3, 0), packet(3, 250));
  t.same(c.get(4, 0), packet(4, 100), 'the next slot is untouched');
  c.put(67, packet(67, 90), 0);
  t.same(c.get(67, 0), packet(67, 90));
  t.end();
});

t.test('a full ring is stored in one buffer per 32 slots, reused on the next lap', (t) => {
  const c = new PacketCache(1000, 60_000);
  const buffers = new Set<ArrayBufferLike>();
  for (let lap = 0; lap < 2; lap++) {
    for (let s = lap * 1000; s < (lap + 1) * 1000; s++) c.put(s % 65536, packet(s), 0);
    for (let s = lap * 1000; s < (lap + 1) * 1000; s++) buffers.add(c.get(s % 65536, 0)!.buffer);
  }
  t.equal(buffers.size, Math.ceil(1000 / 32));
  t.end();
});

t.test('clear forgets every packet', (t) => {
  const c = new PacketCache(16, 2000);
  c.put(1, packet(1), 0);
  c.put(2, packet(2, 2000), 0);
  c.clear();
  t.notOk(c.has(1));
  t.equal(c.get(2, 0), undefined);
  c.put(1, packet(1, 10), 0);
  t.same(c.get(1, 0), packet(1, 10));
  t.end();
});
