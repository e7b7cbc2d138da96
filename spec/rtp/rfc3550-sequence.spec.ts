import t from 'tap';
import {
  SequenceTracker,
  seqAdd,
  seqDiff,
  seqIsNewer,
  tsAdd,
  tsDiff,
  tsIsNewer,
} from '../../lib/rtp/sequence.js';

t.test('16-bit sequence numbers wrap: 65535 → 0 is one step forward', async (t) => {
  t.ok(seqIsNewer(0, 65535));
  t.notOk(seqIsNewer(65535, 0));
  t.equal(seqDiff(0, 65535), 1);
  t.equal(seqDiff(65535, 0), -1);
  t.equal(seqDiff(5, 5), 0);
  t.notOk(seqIsNewer(5, 5));
  t.equal(seqAdd(65535, 1), 0);
  t.equal(seqAdd(0, -1), 65535);
  t.equal(seqDiff(100, 65000), 636);
  t.ok(seqIsNewer(0x8000, 0), 'at exactly half, the larger is newer');
  t.notOk(seqIsNewer(0, 0x8000));
  t.equal(seqDiff(0x7fff, 0), 0x7fff);
  t.equal(seqDiff(0x8000, 0), -0x8000);
});

t.test('32-bit timestamps wrap: 2^32-1 → 0 is one step forward', async (t) => {
  const max = 0xffffffff;
  t.ok(tsIsNewer(0, max));
  t.notOk(tsIsNewer(max, 0));
  t.equal(tsDiff(0, max), 1);
  t.equal(tsDiff(max, 0), -1);
  t.equal(tsDiff(90000, max - 89999), 180000);
  t.equal(tsAdd(max, 1), 0);
  t.equal(tsAdd(0, -3000), max - 2999);
  t.ok(tsIsNewer(0x80000000, 0));
  t.notOk(tsIsNewer(0, 0x80000000));
  t.notOk(tsIsNewer(7, 7));
});

t.test('A.1: extended numbers count cycles across the wrap', async (t) => {
  const s = new SequenceTracker();
  const got = [65533, 65534, 65535, 0, 1, 2].map((q) => s.update(q));
  t.same(got, [65533, 65534, 65535, 65536, 65537, 65538]);
  t.equal(s.cycles, 65536);
  t.equal(s.extendedMax, 65538);
  t.equal(s.expected, 6);
  t.equal(s.lost, 0);
});

t.test(
  'A.1: reordering and loss around the wrap keep late packets in the previous cycle',
  async (t) => {
    const s = new SequenceTracker();
    // 65530 arrives, then a burst crosses the wrap with 65534 late, 65533 and 1 lost.
    const order = [65530, 65531, 65532, 0, 65535, 2, 65534, 3];
    const got = order.map((q) => s.update(q));
    t.same(got, [65530, 65531, 65532, 65536, 65535, 65538, 65534, 65539]);
    t.equal(s.extendedMax, 65539);
    t.equal(s.received, 8);
    t.equal(s.expected, 10);
    t.equal(s.lost, 2, '65533 and 1');
  },
);

t.test('A.1: a duplicate is counted (lost can go negative) and keeps its number', async (t) => {
  const s = new SequenceTracker();
  t.same(
    [10, 11, 11].map((q) => s.update(q)),
    [10, 11, 11],
  );
  t.equal(s.lost, -1);
});

t.test(
  'A.1: a forward gap under MAX_DROPOUT is loss; a big jump needs a second packet',
  async (t) => {
    const s = new SequenceTracker({ maxDropout: 3000 });
    s.update(100);
    t.equal(s.update(2000), 2000, 'a 1900-packet gap is loss');
    t.equal(s.lost, 1899);
    t.equal(s.update(40000), -1, 'a jump of 38000 is doubted');
    t.equal(s.update(2001), 2001, 'the stream continued: the jump was a stray');
    t.equal(s.update(50000), -1);
    t.equal(s.update(50001), 50001, 'two in sequence after a jump restart the count');
    t.equal(s.restarts, 1);
    t.equal(s.received, 1);
    t.equal(s.update(50002), 50002);
    t.equal(s.expected, 2);
  },
);

t.test('A.1: probation (MIN_SEQUENTIAL) accepts a source after packets in sequence', async (t) => {
  const s = new SequenceTracker({ minSequential: 2 });
  t.equal(s.update(500), -1);
  t.equal(s.update(700), -1, 'out of sequence restarts probation');
  t.equal(s.update(701), 701);
  t.equal(s.update(702), 702);
  t.equal(s.received, 2);
});

t.test('extended numbers stay exact over many cycles (Numbers up to 2^53)', async (t) => {
  const s = new SequenceTracker();
  let seq = 0;
  let last = 0;
  for (let i = 0; i < 70000 * 20; i++) {
    last = s.update(seq);
    seq = (seq + 7) & 0xffff;
  }
  t.equal(last, (70000 * 20 - 1) * 7);
  t.equal(s.lost, 70000 * 20 * 6 - 6);
});

t.test('options are validated once, at construction', async (t) => {
  t.throws(() => new SequenceTracker({ maxDropout: 0 }), TypeError);
  t.throws(() => new SequenceTracker({ maxMisorder: -1 }), TypeError);
  t.throws(() => new SequenceTracker({ minSequential: 1.5 }), TypeError);
});
