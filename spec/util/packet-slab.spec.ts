import t from 'tap';
import { DatagramPool, PacketSlab } from '../../lib/util/packet-slab.js';

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

t.test(
  'datagram pool: disjoint buffers for `slots` takes, then the first slot again',
  async (t) => {
    const pool = new DatagramPool(4, 64);
    const first = [0, 1, 2, 3].map((i) => pool.take(40 + i).fill(i));
    for (const [i, b] of first.entries()) {
      t.equal(b.length, 40 + i);
      t.ok(
        b.every((x) => x === i),
        `slot ${i} kept its bytes while the others were written`,
      );
    }
    const again = pool.take(40);
    t.equal(again, first[0], 'same slot, same size: the very same view (no allocation)');
    const resized = pool.take(50);
    t.equal(resized.length, 50);
    t.equal(resized.buffer, first[1]!.buffer, 'same memory, a view of the new size');
    t.equal(resized.byteOffset, first[1]!.byteOffset);
    t.equal(pool.take(65).length, 65, 'larger than a slot: a buffer of its own');
    t.not(pool.take(65).buffer, first[0]!.buffer);
  },
);

t.test('datagram pool: renew leaves taken buffers alone (a send the socket queued)', async (t) => {
  const pool = new DatagramPool(2, 64);
  const queued = [pool.take(10).fill(7), pool.take(10).fill(8)];
  pool.renew();
  for (let i = 0; i < 4; i++) pool.take(10).fill(0);
  t.ok(queued[0]!.every((x) => x === 7));
  t.ok(queued[1]!.every((x) => x === 8));
  t.not(pool.take(10).buffer, queued[0]!.buffer);
  t.throws(() => new DatagramPool(1), TypeError);
  t.throws(() => new DatagramPool(4, 0), TypeError);
});
