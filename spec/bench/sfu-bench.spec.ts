import { availableParallelism } from 'node:os';
import t from 'tap';
import { audienceChild } from '../../bench/sfu/child-link.js';
import {
  type E2eStep,
  latencyHeldAt,
  medianRun,
  targetOf,
  targetTracksOf,
} from '../../bench/sfu/e2e.js';
import { Histogram } from '../../bench/sfu/protocol.js';
import { formatHostCheck, formatRepeats } from '../../bench/sfu/report.js';
import { main, parseSfuArgs, runCoreBench, runSfuBench } from '../../bench/sfu.js';

t.test('the router-core part forwards through the router and SRTP in a tiny run', async (t) => {
  const r = runCoreBench({
    seconds: 0.05,
    subscribers: 3,
    memorySubscribers: 20,
    profile: 'AES_CM_128_HMAC_SHA1_80',
  });
  t.ok(r.forwardedPerCpuSecond > 0, `${r.forwardedPerCpuSecond} packets/s`);
  t.ok(r.bareProtectPerCpuSecond > 0);
  t.ok(r.fanoutP99Ms >= r.fanoutP50Ms);
  t.ok(r.tracksPerCore > 0);
  const lines: string[] = [];
  t.equal(await main(['--quick', '--only', 'core'], (l) => lines.push(l)), 0);
  t.match(lines.join('\n'), /router core only \(no sockets\)[\s\S]*tracks\/core/);
});

t.test('end to end, quick: SfuServer and light clients in child processes', async (t) => {
  const lines: string[] = [];
  const r = await runSfuBench(parseSfuArgs(['--quick', '--only', 'e2e']), (l) => lines.push(l));
  const e = r.e2e;
  if (!e) throw new Error('no end-to-end result');
  t.equal(r.core, undefined, '--only e2e skips the router core');
  t.same(
    e.steps.map((s) => [s.rooms, s.tracks]),
    [
      [1, 2],
      [2, 4],
    ],
    'two steps: rooms of 1 publisher + 2 subscribers',
  );
  for (const s of e.steps) {
    t.ok(s.loss < 0.5, `SFU path: packets flowed end to end (loss ${s.loss})`);
    t.ok(s.directLoss < 0.5, `direct path: packets flowed (loss ${s.directLoss})`);
    t.ok(s.forwardedPerSecond > 0, `the SFU counted ${s.forwardedPerSecond} forwarded/s`);
    t.ok(s.sfuCpuShare > 0, 'the SFU process used CPU');
    t.ok(s.latencySamples > 0 && s.sfuP50 > 0 && s.sfuP99 >= s.sfuP50, 'SFU latency measured');
    t.ok(s.directP50 > 0 && s.directP99 >= s.directP50, 'direct latency measured');
    t.equal(s.addedP50, s.sfuP50 - s.directP50, 'added = SFU path minus direct path');
    t.equal(s.badPackets, 0, 'every packet authenticated');
    t.ok(s.verifiedPackets >= s.latencySamples, '--quick fully unprotects every packet');
    const r = s.relay;
    t.ok(r !== undefined && r.loss < 0.5, `the bare relay's path carried packets (${r?.loss})`);
    t.ok(r !== undefined && r.p99 >= r.p50 && r.p50 > 0, 'its latency measured');
    t.equal(r?.addedP99, (r?.p99 ?? 0) - s.directP99, 'against the direct path');
    t.ok((r?.cpuShare ?? 0) > 0, 'the relaying process used CPU');
  }
  t.equal(e.failedConnects, 0);
  t.ok((e.bareSendsPerCpuSecond ?? 0) > 0, 'the bare dgram ceiling was measured');
  t.equal(e.memory?.subscribers, 2, 'two idle subscribers joined for the memory figure');
  t.ok(Number.isFinite(e.memory?.heapPerSubscriber ?? Number.NaN));
  t.equal(e.target?.step.tracks, 4, 'the target is judged at the step closest to 500');
  const out = lines.join('\n');
  t.match(out, /^tracks rooms fwd pkt\/s/m);
  t.match(out, /tracks per core: \d+ = \d+ subscriber tracks/);
  t.match(out, /mediasoup/);
  t.match(out, /Janus/);
  t.match(out, /bare ceiling: Node dgram sends alone/);
  t.match(out, /memory per subscriber \(2 idle/);
  t.match(out, /fully SRTP-unprotect every packet/);
  t.match(out, /SRTP at subscribers: [1-9]\d* packets fully unprotected .*, 0 bad/);
  t.match(out, /TARGET at 4 tracks, 1 SFU worker: .*>= 500: target (NOT )?met.*< 2 ms: target/);
  t.match(out, /clients: SFU path GC \d+ pauses.*direct path lag/);
  t.match(out, /bare relay in the SFU's place \(.*\): p50\/p99 [\d.]+\/[\d.]+ ms, added /);
  t.match(out, /TARGET at 4 tracks.*; a bare relay in the SFU's place added p99 -?[\d.]+ ms/);
  t.match(
    out,
    /^added p99 < 2 ms: (at no step|largest step \d+ tracks \(SFU CPU [\d.]+ of a core)/m,
  );
  t.equal(e.cpuStalls?.before.length, availableParallelism(), 'a host check of every CPU before');
  t.equal(e.cpuStalls?.after.length, availableParallelism(), 'and after the ramp');
  t.match(out, /host check \(bench\/cpu-stalls\.ts.*\n {2}before the ramp: cpu0 lost /);
  t.match(out, /after the ramp: {2}cpu\d lost .*\n {2}worst: cpu\d lost \d+\.\d%/);
});

t.test(
  '--sfu-workers 2, --sfu-arrival, --split-rooms: two SfuServers, rooms across clients',
  async (t) => {
    const lines: string[] = [];
    const c = parseSfuArgs([
      ...['--quick', '--only', 'e2e', '--sfu-workers', '2', '--steps', '4', '--sfu-arrival'],
      ...['--clients', '2', '--split-rooms'],
    ]);
    const r = await runSfuBench(c, (l) => lines.push(l));
    const e = r.e2e;
    if (!e) throw new Error('no end-to-end result');
    const s = e.steps[0];
    if (!s) throw new Error('no step');
    t.equal(s.rooms, 2);
    t.equal(s.sfuWorkers, 2);
    t.ok(s.loss < 0.5, `packets flowed through both workers (loss ${s.loss})`);
    // --split-rooms: each room's subscribers in the other client process; the direct path
    // (publisher → subscribers' sockets in that other process) carried packets too.
    t.ok(s.directLoss < 0.5, `direct path across processes (loss ${s.directLoss})`);
    t.ok(s.latencySamples > 0 && s.directP50 > 0, 'both paths measured');
    t.equal(s.badPackets, 0);
    // One room per worker: both used CPU, so the busiest has less than the sum.
    const busiest = s.busiestWorkerCpuShare ?? 0;
    t.ok(busiest > 0 && busiest < s.sfuCpuShare, `busiest ${busiest} of ${s.sfuCpuShare}`);
    t.equal(e.memory, undefined, 'memory per subscriber with one worker only');
    const out = lines.join('\n');
    t.match(out, /2 SFU workers, each an SfuServer .* round-robin/);
    t.match(out, /SFU GC \(busiest of 2 workers, \d\.\d\d of a core\)/);
    t.match(out, /TARGET at 4 tracks, 2 SFU workers/);
    t.match(out, /subscribers in another client process than the publisher's, --split-rooms/);
    t.match(out, /memory per subscriber: measured with one SFU worker only/);
    // --sfu-arrival: both workers' routers timed every packet against its send stamp.
    const a = s.sfuArrival;
    if (!a) throw new Error('no --sfu-arrival split');
    t.ok(a.waitedP50 > 0 && a.waitedP99 >= a.waitedP50, `waited p50 ${a.waitedP50} µs`);
    t.ok(a.handledP50 > 0 && a.handledP99 >= a.handledP50, `handled p50 ${a.handledP50} µs`);
    t.ok(a.waitedP50 < s.sfuP50, 'the router has a packet before its subscribers do');
    t.match(out, /SFU path split \(--sfu-arrival\): send stamp -> the router has the packet p50/);
  },
);

t.test('the latency histogram merges and reads quantiles (5 µs, then 1 ms bins)', async (t) => {
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 98; i++) a.add(i * 10);
  b.add(150_200); // 150 ms: a 1 ms bin
  b.add(60_000_000); // a minute: the last bin
  a.merge(new Histogram(b.toArray()));
  t.equal(a.total, 100);
  t.equal(a.quantile(0.5), 502.5);
  t.equal(a.quantile(0.99), 150_500);
  t.equal(a.quantile(1), 20_000 + 4999.5 * 1000);
  t.ok(Number.isNaN(new Histogram().quantile(0.5)));
});

t.test('bad options are refused with exit code 1', async (t) => {
  const err = console.error;
  console.error = () => {};
  try {
    t.equal(await main(['--core-subscribers', '0']), 1);
    t.equal(await main(['--profile', 'NULL']), 1);
    t.equal(await main(['--only', 'nothing']), 1);
    t.equal(await main(['--steps', '100,x']), 1);
    t.equal(await main(['--bogus']), 1);
    t.equal(await main(['--sfu-workers', '0']), 1);
    t.equal(await main(['--client-tick-ms', '0']), 1);
  } finally {
    console.error = err;
  }
});

t.test('--verify-every and --sfu-node-option reach the end-to-end options', async (t) => {
  t.equal(parseSfuArgs([]).e2e.verifyEvery, 16, 'subscribers verify 1 packet in 16 by default');
  t.equal(parseSfuArgs(['--quick']).e2e.verifyEvery, 1, 'every packet with --quick');
  t.equal(parseSfuArgs(['--verify-every', '4']).e2e.verifyEvery, 4);
  t.equal(parseSfuArgs([]).e2e.tickMs, 4, 'publishers send every 4 ms by default');
  t.same(parseSfuArgs([]).e2e.clientNodeOptions, ['--max-semi-space-size=1'], 'clients too');
  t.equal(parseSfuArgs(['--client-tick-ms', '1']).e2e.tickMs, 1);
  t.equal(parseSfuArgs([]).e2e.sfuArrival, false, 'no per-packet timing wrapper by default');
  t.equal(parseSfuArgs(['--split-rooms']).e2e.splitRooms, true);
  t.equal(audienceChild(3, 2, false), 1, "a room's subscribers in its publisher's child");
  t.equal(audienceChild(3, 2, true), 0, '--split-rooms: in the next child');
  t.equal(audienceChild(3, 1, true), 0, 'one child: nowhere else to go');
  t.equal(parseSfuArgs(['--sfu-arrival']).e2e.sfuArrival, true);
  t.equal(parseSfuArgs([]).e2e.sfuNice, undefined, 'the SFU at the default priority');
  t.equal(parseSfuArgs(['--sfu-nice=-10']).e2e.sfuNice, -10);
  t.throws(() => parseSfuArgs(['--sfu-nice=-21']), TypeError);
  t.same(parseSfuArgs(['--client-node-option=--max-semi-space-size=1']).e2e.clientNodeOptions, [
    '--max-semi-space-size=1',
  ]);
  t.throws(() => parseSfuArgs(['--verify-every', '0']), TypeError);
  t.same(
    parseSfuArgs([]).e2e.sfuNodeOptions,
    ['--max-semi-space-size=1'],
    'the SFU runs as `rtcd sfu` does (its bin passes the small semi-space)',
  );
  t.same(
    parseSfuArgs(['--sfu-node-option=--max-semi-space-size=1', '--sfu-node-option=--trace-gc']).e2e
      .sfuNodeOptions,
    ['--max-semi-space-size=1', '--trace-gc'],
  );
});

t.test(
  'the target row: the step nearest 500 tracks, each half met only without loss',
  async (t) => {
    const step = (tracks: number, cpu: number, loss: number, addedP99: number) =>
      ({ tracks, sfuCpuShare: cpu, loss, addedP99 }) as E2eStep;
    const clean = targetOf(
      [step(100, 0.2, 0, 900), step(500, 0.9, 0, 1500), step(700, 1, 0, 0)],
      1,
    );
    t.equal(clean?.step.tracks, 500);
    t.ok(clean?.tracksMet, '500 / 0.9 >= 500');
    t.ok(clean?.latencyMet, 'added p99 1.5 ms < 2 ms');
    const slow = targetOf([step(300, 0.5, 0, 900), step(600, 1.3, 0, 2500)], 2);
    t.equal(slow?.step.tracks, 600, 'the closest step that ran');
    t.equal(slow?.workers, 2);
    t.notOk(slow?.tracksMet, '600 / 1.3 < 500');
    t.notOk(slow?.latencyMet, '2.5 ms');
    const lossy = targetOf([step(500, 0.5, 0.05, 100)], 1);
    t.notOk(lossy?.tracksMet || lossy?.latencyMet, 'a lossy step meets neither half');
    t.equal(targetOf([], 1), undefined);
  },
);

t.test(
  '--target-repeats: the run with the median added p99 stands for the target step',
  async (t) => {
    const run = (addedP99: number, loss = 0) =>
      ({ tracks: 500, sfuCpuShare: addedP99 / 10_000, loss, addedP50: 1, addedP99 }) as E2eStep;
    const m = medianRun([run(4000), run(2000), run(9000)]);
    t.equal(m.addedP99, 4000, 'the middle of three');
    t.same(m.repeats?.addedP99, [4000, 2000, 9000], 'every run kept, in the order run');
    t.same(m.repeats?.sfuCpuShare, [0.4, 0.2, 0.9]);
    t.equal(medianRun([run(3000), run(1000)]).addedP99, 1000, 'the lower middle of two');
    t.equal(
      medianRun([run(100, 0.5), run(3000), run(5000)]).addedP99,
      5000,
      'lossy runs sort last',
    );
    t.equal(medianRun([run(7000)]).repeats, undefined, 'one run: no repeats');
    t.equal(targetTracksOf([100, 300, 700, 1000]), 700, 'closest to 500, the larger on a tie');
    t.equal(targetTracksOf([100, 500, 1000]), 500);
    t.equal(targetTracksOf([]), undefined);
    t.equal(parseSfuArgs([]).e2e.targetRepeats, 3, 'the target step three times by default');
    t.equal(parseSfuArgs(['--quick']).e2e.targetRepeats, 1);
    t.match(formatRepeats(m), /500 tracks measured 3 times .*added p99 4\.00 \/ 2\.00 \/ 9\.00 ms/);
  },
);

t.test(
  'the host check, the bare relay, and the largest step that met the latency target',
  async (t) => {
    const at = (tracks: number, addedP99: number, loss = 0) =>
      ({ tracks, sfuCpuShare: 0.5, loss, addedP50: 1, addedP99 }) as E2eStep;
    t.equal(
      latencyHeldAt([at(100, 1900), at(200, 2300), at(300, 1200), at(500, 3300)])?.tracks,
      300,
      'the largest step under 2 ms, not the last of a run of them',
    );
    t.equal(
      latencyHeldAt([at(100, 1500, 0.02), at(300, 2500)]),
      undefined,
      'lossy steps do not count',
    );
    t.equal(parseSfuArgs([]).e2e.stallCheckSeconds, 2, 'a 2 s host check by default');
    t.equal(parseSfuArgs([]).e2e.relay, true, 'the bare relay runs by default');
    t.equal(parseSfuArgs(['--no-relay']).e2e.relay, false);
    t.equal(parseSfuArgs([]).e2e.relayWorkUs, undefined, 'with no work per copy');
    t.equal(parseSfuArgs(['--relay-work-us', '5']).e2e.relayWorkUs, 5);
    t.throws(() => parseSfuArgs(['--relay-work-us', '-1']), TypeError);
    t.equal(parseSfuArgs(['--stall-check', '0']).e2e.stallCheckSeconds, 0, '0 skips it');
    t.throws(() => parseSfuArgs(['--stall-check', '-1']), TypeError);
    t.same(formatHostCheck(undefined), ['host check: not run (--stall-check 0)']);
  },
);
