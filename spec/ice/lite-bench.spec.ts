import t from 'tap';
import { benchMux, formatMuxRows } from '../../bench/ice/mux.js';

t.test(
  'bench/ice/mux runs in a tiny mode: a bare echo row and a mux row with the core-only figure',
  async (t) => {
    const rows = await benchMux({ sessions: 200, durationMs: 300, window: 8, rounds: 1 });
    t.equal(rows.length, 2);
    const [bare, mux] = rows;
    t.ok((mux?.coreOnlyPerCpuSecond ?? 0) > 0, 'the core alone was timed');
    t.match(bare, { kind: 'bare', ratioToBare: 1 });
    t.match(mux, { kind: 'mux', sessions: 200 });
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
