import t from 'tap';
import { PacketSlab } from '../../lib/util/packet-slab.js';

t.test('buffers are disjoint, exactly sized, 8-byte aligned, across slab refills', async (t) => {
  const slab = new PacketSlab(4096);
  const taken: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const size = 100 + ((i * 37) % 900);
    const b = slab.take(size);
    t.equal(b.length, size);
    t.equal(b.byteOffset % 8, 0, 'aligned');
    b.fill(i);
    taken.push(b);
  }
  for (const [i, b] of taken.entries()) {
    t.ok(
      b.every((x) => x === i),
      `buffer ${i} kept its bytes`,
    );
  }
  const buffers = new Set(taken.map((b) => b.buffer));
  t.ok(buffers.size > 1 && buffers.size < 40, `${buffers.size} slabs served 40 buffers`);
});

t.test('a request over a quarter of a slab gets a buffer of its own', async (t) => {
  const slab = new PacketSlab(4096);
  const small = slab.take(10);
  const big = slab.take(1025);
  t.equal(big.length, 1025);
  t.not(big.buffer, small.buffer);
  t.equal(slab.take(10).buffer, small.buffer, 'the slab goes on after it');
});

t.test('slab size is validated', async (t) => {
  t.throws(() => new PacketSlab(100), TypeError);
  t.throws(() => new PacketSlab(4096.5), TypeError);
});
