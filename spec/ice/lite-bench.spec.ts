import t from 'tap';
import { benchMux, formatMuxRows } from '../../bench/ice/mux.js';

t.test(
  'bench/ice/mux runs in a tiny mode: a bare echo row and a mux row with the core-only figure',
  async (t) => {
    // 3,000 sessions (~2.5 MB) so the heap delta stands clear of GC and arrayBuffers noise;
    // with 200 (~170 kB) it read 0 or less once in CI.
    const rows = await benchMux({ sessions: 3000, durationMs: 300, window: 8, rounds: 1 });
    t.equal(rows.length, 2);
    const [bare, mux] = rows;
    t.ok((mux?.coreOnlyPerCpuSecond ?? 0) > 0, 'the core alone was timed');
    t.match(bare, { kind: 'bare', ratioToBare: 1 });
    t.match(mux, { kind: 'mux', sessions: 3000 });
    t.ok((mux?.perSecond ?? 0) > 0, 'the mux answered checks');
    t.ok((mux?.muxAnswered ?? 0) > 0, 'with valid integrity (counted as answered by the mux)');
    t.ok(
      (mux?.bytesPerSession ?? 0) > 0 && (mux?.bytesPerSession ?? 0) < 20_000,
      'memory per session measured',
    );
    const text = formatMuxRows(rows);
    t.match(text, /bare dgram echo/);
    t.match(text, /memory per idle session/);
    t.match(text, /lite core alone/);
  },
);
