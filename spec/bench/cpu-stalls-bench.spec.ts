import t from 'tap';
import {
  BUCKET_STARTS_MS,
  formatStalls,
  main,
  measureCpuStalls,
  parseConfig,
  startProbe,
  summarize,
} from '../../bench/cpu-stalls.js';

t.test('options: defaults, --quick, and bad values refused', async (t) => {
  t.same(parseConfig([]), { seconds: 3, thresholdMs: 1, alone: false });
  t.same(parseConfig(['--quick', '--alone']), { seconds: 0.3, thresholdMs: 1, alone: true });
  t.equal(parseConfig(['--threshold-ms', '0.5']).thresholdMs, 0.5);
  t.throws(() => parseConfig(['--seconds', '0']), TypeError);
  t.throws(() => parseConfig(['--threshold-ms', '0.001']), TypeError);
  t.throws(() => parseConfig(['--bogus']));
  t.equal(await main(['--seconds', 'x']), 1, 'a bad option exits 1');
});

t.test('summarize buckets the gaps and sums what was lost', async (t) => {
  const s = summarize(1, [1.5, 3, 7, 12, 80, 2], 2, 1);
  t.equal(s.stalls, 6);
  t.equal(s.lostMs, 105.5);
  t.equal(s.lostShare, 105.5 / 2000);
  t.equal(s.maxMs, 80);
  t.same(s.buckets, [1, 2, 1, 1, 1], `buckets start at ${BUCKET_STARTS_MS.join(', ')} ms`);
  t.same(summarize(0, [], 1, 1).buckets, [0, 0, 0, 0, 0]);
  t.equal(summarize(0, [], 1, 1).lostShare, 0);
  t.match(
    formatStalls(s),
    /^cpu1 lost 5\.3% \(106 ms\) in 6 gap\(s\) >= 1 ms, max 80\.0 ms \(1-2 ms: 1, 2-5 ms: 2, .* 50\+ ms: 1\)$/,
  );
  t.match(
    formatStalls(summarize(0, [1], 10, 1)),
    /^cpu0 lost 0\.01% /,
    'small shares keep 2 decimals',
  );
});

t.test('a probe sees its process stopped for 150 ms as one gap of about that', async (t) => {
  const probe = startProbe(0, 1.2, 1);
  await probe.ready;
  await new Promise((r) => setTimeout(r, 50));
  const pid = probe.pid;
  if (pid === undefined) throw new Error('the probe has no pid');
  process.kill(pid, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 150));
  process.kill(pid, 'SIGCONT');
  const gaps = await probe.done;
  const longest = Math.max(...gaps);
  t.ok(longest >= 140 && longest < 5000, `the stop shows as a gap of ${longest.toFixed(1)} ms`);
  const s = summarize(0, gaps, 1.2, 1);
  t.ok(s.buckets[4]! >= 1, 'in the 50+ ms bucket');
  t.ok(s.lostShare >= 0.11, `at least 140 of 1,200 ms lost (${(s.lostShare * 100).toFixed(1)}%)`);
});

t.test('every CPU is probed, at once or one at a time', async (t) => {
  for (const alone of [false, true]) {
    const r = await measureCpuStalls({ seconds: 0.1, thresholdMs: 1, alone });
    t.ok(r.length >= 1, `${r.length} CPU(s) probed (alone: ${alone})`);
    t.same(
      r.map((s) => s.cpu),
      r.map((_, i) => i),
      'one result per CPU, in order',
    );
    for (const s of r) t.ok(s.lostShare >= 0 && s.lostShare < 1, `cpu${s.cpu}: a share of time`);
  }
});

t.test('a probe that cannot run rejects instead of hanging', async (t) => {
  const probe = startProbe(9999, 0.1, 1);
  await probe.ready;
  await t.rejects(probe.done, /cpu-stalls probe on cpu 9999 exited with 1: taskset: failed to set/);
});
