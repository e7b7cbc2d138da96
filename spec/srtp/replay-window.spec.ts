import t from 'tap';
import { estimateIndex, ReplayWindow } from '../../lib/srtp/replay-window.js';

t.test('RFC 3711 Appendix A: the index guess from s_l and ROC', (t) => {
  const cases: [string, number, number, number][] = [
    // name, highest accepted index (ROC * 65536 + s_l), received SEQ, expected index
    ['the first packet takes ROC 0', -1, 40000, 40000],
    ['in order, same ROC', 5 * 65536 + 100, 101, 5 * 65536 + 101],
    ['a little late, same ROC', 5 * 65536 + 100, 90, 5 * 65536 + 90],
    [
      's_l low, SEQ far above: from before the wrap, ROC - 1',
      5 * 65536 + 100,
      65000,
      4 * 65536 + 65000,
    ],
    ['s_l high, SEQ far below: after the wrap, ROC + 1', 5 * 65536 + 65000, 100, 6 * 65536 + 100],
    ['s_l high, 1,200 lost across the wrap', 65535, 1200, 65536 + 1200],
    ['s_l high, SEQ just below s_l - 32768 stays', 40000, 7233, 7233],
    ['s_l high, SEQ below s_l - 32768 wraps', 40000, 7231, 65536 + 7231],
    ['s_l low, SEQ = s_l + 32768 stays', 100, 32868, 32868],
    // ROC - 1 does not exist at ROC 0, so the only index is a forward jump (libsrtp agrees).
    ['ROC 0: SEQ more than 2^15 above s_l is a forward jump', 100, 65000, 65000],
  ];
  for (const [name, highest, seq, expected] of cases) {
    t.equal(estimateIndex(highest, seq), expected, name);
  }
  t.end();
});

t.test('ReplayWindow: check reads, accept commits', (t) => {
  const w = new ReplayWindow(64);
  t.equal(w.size, 64);
  t.ok(w.check(1000));
  t.ok(w.check(1000), 'check alone commits nothing');
  w.accept(1000);
  t.notOk(w.check(1000), 'accepted once');
  t.ok(w.check(999));
  t.ok(w.check(937), '63 behind');
  t.notOk(w.check(936), '64 behind is outside');
  w.accept(950);
  t.notOk(w.check(950));
  w.accept(1010);
  t.notOk(w.check(1000), 'still remembered after sliding 10');
  t.notOk(w.check(946), 'now outside');
  t.ok(w.check(1005));
  w.accept(100_000);
  t.ok(w.check(99_999), 'a long jump clears the bitmap');
  t.notOk(w.check(1010));
  t.equal(new ReplayWindow(1000).size, 1024, 'rounded up to whole words');
  t.end();
});
