/**
 * bench/signal.ts in its small mode, so it cannot rot: idle connections are held and counted,
 * the three relays (bare ceiling, one node, two nodes via Redis) carry messages, and the
 * report prints the ratios and the target checks.
 */
import t from 'tap';
import { formatReport, parseConfig, runSignalBench } from '../../bench/signal.js';

t.test('argument errors', async (t) => {
  t.throws(() => parseConfig(['--idle', 'many']), /--idle must be a positive number/);
  t.throws(() => parseConfig(['--bogus']));
  t.match(parseConfig([]), { idle: 19_800, rate: 5000, seconds: 3 });
});

t.test('small run', async (t) => {
  const config = { ...parseConfig(['--small']), seconds: 0.3, idle: 60, rate: 300 };
  const r = await runSignalBench(config);
  t.equal(r.idle.connections, 60, 'every idle client joined');
  t.equal(r.idle.failed, 0);
  t.same(
    r.rows.map((row) => row.label),
    ['bare ws relay (ceiling)', 'rtcd signal, one node', 'rtcd signal, two nodes via Redis'],
  );
  for (const row of r.rows) {
    t.ok(row.rate > 0, `${row.label} relays`);
    t.ok(
      row.latency.received > 0 && row.latency.received === row.latency.sent,
      `${row.label} loses nothing`,
    );
  }
  const text = formatReport(r);
  t.match(text, /ratios: one node \/ bare \d+\.\d\d×/);
  t.match(text, /\[(met|MISSED)\] cross-node p99 < 5 ms at 300 msgs\/s/);
});
