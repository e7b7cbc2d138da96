import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { isClean, type StepResult, sweep } from '../../bench/turn/load.js';
import { processCpuUs, treeCpuUs } from '../../bench/turn/proc.js';
import { computeChecks, computeRatios, formatReport } from '../../bench/turn/report.js';
import { COTURN, hasReusePort } from '../../bench/turn/servers.js';
import {
  defaultConfig,
  parseConfig,
  runTurnBench,
  type TurnBenchConfig,
} from '../../bench/turn.js';

/** A step whose loss is given by a table of rate → loss (the sweep logic without sockets). */
function fakeStep(lossAt: (rate: number) => number, sentShare = 1) {
  const asked: number[] = [];
  const run = async (rate: number): Promise<StepResult> => {
    asked.push(rate);
    const sent = Math.round(rate * sentShare);
    const loss = lossAt(rate);
    return {
      rate,
      sent,
      received: Math.round(sent * (1 - loss)),
      loss,
      relayedPps: sent * (1 - loss),
      generatorLimited: sentShare < 0.97,
      generatorCpu: 0,
      sinkCpu: 0,
    };
  };
  return { run, asked };
}

const ladder = { durationMs: 1, drainMs: 0, maxLoss: 0.01, maxSteps: 20 };

t.test(
  'sweep stops at the first rate over the loss limit and reports the last clean one',
  async (t) => {
    const { run, asked } = fakeStep((r) => (r >= 40 ? 0.05 : 0));
    const s = await sweep(run, { ...ladder, rates: [10, 20, 40, 80], retry: false, refine: false });
    t.same(asked, [10, 20, 40]);
    t.equal(s.clean?.rate, 20);
    t.equal(s.stoppedBy, 'loss');
  },
);

t.test('a failed step is retried once, and a refinement step lands between', async (t) => {
  let first40 = true;
  const { run, asked } = fakeStep((r) => {
    if (r === 40_000 && first40) {
      first40 = false;
      return 0.5; // one noisy step
    }
    return r >= 80_000 ? 0.2 : 0;
  });
  const rates = [20_000, 40_000, 80_000, 160_000];
  const s = await sweep(run, { ...ladder, rates, retry: true, refine: true });
  t.same(asked, [20_000, 40_000, 40_000, 80_000, 80_000, 60_000]);
  t.equal(s.clean?.rate, 60_000);
});

t.test('a generator that cannot keep up ends the sweep as generator-limited', async (t) => {
  const { run } = fakeStep(() => 0, 0.5);
  const s = await sweep(run, { ...ladder, rates: [10, 20], retry: true, refine: true });
  t.equal(s.stoppedBy, 'generator');
  t.equal(s.clean, undefined);
  t.notOk(isClean(s.steps[0]!, 0.01));
});

t.test('reusePort needs Node 22.12 or 23.1', async (t) => {
  t.notOk(hasReusePort('20.20.2'));
  t.notOk(hasReusePort('22.11.0'));
  t.ok(hasReusePort('22.12.0'));
  t.notOk(hasReusePort('23.0.0'));
  t.ok(hasReusePort('23.1.0'));
  t.ok(hasReusePort('24.0.0'));
});

t.test('options parse into a config; bad ones throw', async (t) => {
  const c = parseConfig(['--servers', 'bare,coturn', '--sizes', '100', '--alloc-count', '0']);
  t.not(c, 'help');
  if (c === 'help') return;
  t.same(c.servers, ['bare', 'coturn']);
  t.same(c.sizes, [100]);
  t.equal(c.alloc, undefined);
  t.throws(() => parseConfig(['--servers', 'nginx']), /unknown server/);
  t.throws(() => parseConfig(['--rates', '10,x']), /bad list/);
});

t.test('CPU time of a process tree includes its children', async (t) => {
  // The child burns CPU time, not wall time (up to 1 s of CPU or 20 s of wall), so a loaded
  // machine only makes the test slower; the check polls until the tree has been charged.
  const burn =
    'const s = Date.now(); while (process.cpuUsage().user < 1e6 && Date.now() - s < 20000);';
  const script = `require('child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(burn)}]);`;
  const parent = spawn(process.execPath, ['-e', `${script} setTimeout(() => {}, 2000);`]);
  t.teardown(() => {
    parent.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 150));
  const before = treeCpuUs(parent.pid!);
  let tree = 0;
  for (let waited = 0; waited < 15_000 && tree < 150_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    tree = treeCpuUs(parent.pid!) - before;
  }
  t.ok(tree >= 150_000, `tree CPU grew by ${tree} µs while the child burned`);
  t.ok(processCpuUs(parent.pid!) < 250_000, 'the parent alone stayed mostly idle');
});

t.test('tiny run: load generator and bare forwarder (and coturn when installed)', async (t) => {
  const withCoturn = existsSync(COTURN);
  const c: TurnBenchConfig = {
    ...defaultConfig(),
    servers: withCoturn ? ['bare', 'coturn'] : ['bare'],
    clients: 2,
    sizes: [100],
    rates: [2000],
    ceilingRates: [2000],
    stepMs: 300,
    drainMs: 100,
    alloc: withCoturn ? { count: 4, concurrency: 2, timeoutMs: 5000 } : undefined,
    retry: false,
    refine: false,
    ceilingTwice: false,
    outDir: undefined,
  };
  const lines: string[] = [];
  const r = await runTurnBench(c, (l) => lines.push(l));
  const gen = r.generator['100'];
  t.equal(gen?.clean?.rate, 2000, 'the generator alone delivers 2000 pps cleanly');
  const bare = r.servers.find((s) => s.id === 'bare');
  const step = bare?.relay['100']?.clean;
  t.ok(step, 'the bare forwarder relays 2000 pps cleanly');
  t.ok(step && step.received >= 0.99 * step.sent, 'sinks count what was relayed');
  t.ok(step?.cpuUsPerPacket !== undefined && step.cpuUsPerPacket > 0, 'server CPU was read');
  t.equal(r.ratios.bare?.['100']?.bare, 1);
  if (withCoturn) {
    const coturn = r.servers.find((s) => s.id === 'coturn');
    t.equal(coturn?.skip, undefined);
    t.ok(coturn?.relay['100']?.clean, 'coturn relays through TurnClient flows');
    t.equal(coturn?.alloc?.[0]?.ok, 4, 'allocate + close cycles succeed');
  }
  const report = formatReport(r);
  t.match(report, /\| bare Node dgram forwarder \| node \d+/);
  t.match(report, /target rtcd turn ≥ 0\.9× bare forwarder, 100 B: .*n\/a/);
  t.ok(lines.some((l) => l.startsWith('load generator alone, 100 B')));
});

t.test('ratios compare clean rates, and CPU per packet at the reference rate', async (t) => {
  const step = (rate: number, cpuUsPerPacket?: number): StepResult => ({
    rate,
    sent: rate,
    received: rate,
    loss: 0,
    relayedPps: rate,
    generatorLimited: false,
    generatorCpu: 0,
    sinkCpu: 0,
    ...(cpuUsPerPacket === undefined ? {} : { cpuUsPerPacket }),
  });
  const sw = (pps: number, cpuAt20k: number) => ({
    steps: [step(20_000, cpuAt20k * 2), step(20_000, cpuAt20k), step(pps)],
    clean: step(pps),
    stoppedBy: 'loss' as const,
  });
  const servers = [
    { id: 'bare' as const, label: 'b', relay: { '100': sw(100_000, 8) } },
    { id: 'rtcd' as const, label: 'r', relay: { '100': sw(95_000, 10) } },
    { id: 'rtcd-workers' as const, label: 'w', relay: { '100': sw(150_000, 12) } },
    { id: 'coturn' as const, label: 'c', relay: { '100': sw(160_000, 3) } },
  ];
  const ratios = computeRatios(servers, [100], 20_000);
  t.equal(ratios.rtcd?.['100']?.bare, 0.95);
  t.equal(ratios.rtcd?.['100']?.cpuVsBare, 1.25, 'the retried (last) step at 20k counts');
  t.equal(ratios['rtcd-workers']?.['100']?.coturn, 150 / 160);
  const checks = computeChecks({ config: { sizes: [100], workers: 2 }, ratios, servers });
  t.same(
    checks.map((c) => c.pass),
    [true, false],
  );
});
