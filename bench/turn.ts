/**
 * `npm run bench -- turn [options]`: relayed ChannelData packets per second at ≤ 1% loss, CPU µs
 * per relayed packet and allocations per second, for the bare Node forwarder (the runtime's
 * ceiling), `rtcd turn`, `rtcd turn --workers N` and coturn, with one load generator in one run.
 * Prints ratios and writes bench/out/turn-<date>.json. See bench/RESULTS.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AllocOptions, allocationRate } from './turn/alloc.js';
import { LoadSystem, type SweepOptions, type SweepResult, sweep } from './turn/load.js';
import { type Credentials, errorText } from './turn/protocol.js';
import {
  type BenchResult,
  cleanRate,
  computeChecks,
  computeRatios,
  formatReport,
  type ServerResult,
} from './turn/report.js';
import {
  type RunningServer,
  repoRoot,
  type ServerId,
  type StartContext,
  type StartResult,
  startBare,
  startCoturn,
  startRtcd,
} from './turn/servers.js';

export interface TurnBenchConfig {
  servers: ServerId[];
  clients: number;
  generators: number;
  sizes: number[];
  rates: number[];
  ceilingRates: number[];
  stepMs: number;
  drainMs: number;
  maxLoss: number;
  workers: number;
  /** Offered rate at which CPU µs per packet is compared across servers (on the ladder). */
  cpuRefRate: number;
  /** Node binary for the `--workers` row (RTCD_BENCH_NODE). */
  workersNode: string;
  useDist: boolean;
  alloc: AllocOptions | undefined;
  retry: boolean;
  refine: boolean;
  /** SO_RCVBUF of the bare forwarder (coturn asks 4 MiB); 0 keeps the system default. */
  bareRecvBuffer: number;
  /**
   * rtcd sends relayed datagrams with Node's `socket.send` (`--no-fast-udp-send`) instead of
   * through the socket's handle, to compare the two.
   */
  dgramSend: boolean;
  /** Measure the generator's ceiling again after the servers; the better run counts. */
  ceilingTwice: boolean;
  /** Directory of the JSON output; none to skip writing. */
  outDir: string | undefined;
}

const ALL_SERVERS: ServerId[] = ['bare', 'rtcd', 'rtcd-workers', 'coturn'];

const LABELS: Record<ServerId, (c: TurnBenchConfig) => string> = {
  bare: () => 'bare Node dgram forwarder',
  rtcd: (c) => `rtcd turn${c.dgramSend ? ' --no-fast-udp-send' : ''}`,
  'rtcd-workers': (c) =>
    `rtcd turn --workers ${c.workers}${c.dgramSend ? ' --no-fast-udp-send' : ''}`,
  coturn: () => 'coturn turnserver',
};

export function defaultConfig(): TurnBenchConfig {
  const k = 1000;
  return {
    servers: ALL_SERVERS,
    clients: 12,
    generators: 2,
    sizes: [100, 1000],
    rates: [10, 20, 40, 60, 80, 100, 120, 150, 200, 250, 300].map((r) => r * k),
    ceilingRates: [100, 150, 200, 300, 400, 500].map((r) => r * k),
    stepMs: 1500,
    drainMs: 250,
    maxLoss: 0.01,
    workers: 2,
    cpuRefRate: 20 * k,
    workersNode: process.env.RTCD_BENCH_NODE || process.execPath,
    useDist: false,
    alloc: { count: 2000, concurrency: 10, timeoutMs: 30_000 },
    retry: true,
    refine: true,
    bareRecvBuffer: 4 * 1024 * 1024,
    dgramSend: false,
    ceilingTwice: true,
    outDir: resolve(repoRoot, 'bench/out'),
  };
}

/** Distinct users, so per-user allocation quotas never limit the load. */
function benchUsers(n: number): Credentials[] {
  return Array.from({ length: n }, (_, i) => ({ username: `bench${i + 1}`, password: 'bench' }));
}

function startServer(id: ServerId, ctx: StartContext, c: TurnBenchConfig): Promise<StartResult> {
  if (id === 'bare') return startBare(ctx);
  if (id === 'coturn') return startCoturn(ctx);
  return startRtcd(ctx, {
    useDist: c.useDist,
    dgramSend: c.dgramSend,
    ...(id === 'rtcd-workers' ? { workers: c.workers } : {}),
  });
}

async function measureServer(
  srv: RunningServer,
  result: ServerResult,
  load: LoadSystem,
  c: TurnBenchConfig,
  users: Credentials[],
  o: SweepOptions,
  log: (line: string) => void,
): Promise<void> {
  for (const size of c.sizes) {
    await load.setup(srv.mode, srv.endpoint, size, users);
    const sw = await sweep((rate) => load.step(rate, c.stepMs, c.drainMs, srv.pid), o);
    result.relay[size] = sw;
    await load.teardown();
    log(`${result.label}, ${size} B: ${summary(sw)}`);
  }
  if (srv.mode === 'turn' && c.alloc) {
    result.alloc = await allocationRate(srv.endpoint, srv.pid, users, c.alloc);
    const [seq, par] = result.alloc;
    log(
      `${result.label}, allocations/s: ${seq?.perSecond.toFixed(0)} one at a time, ` +
        `${par?.perSecond.toFixed(0)} with ${par?.concurrency} at once`,
    );
  }
}

/** The load generator straight into the sinks, no server: its own clean ceiling per size. */
async function measureGenerator(
  load: LoadSystem,
  c: TurnBenchConfig,
  o: SweepOptions,
  log: (line: string) => void,
): Promise<Record<string, SweepResult>> {
  const out: Record<string, SweepResult> = {};
  for (const size of c.sizes) {
    await load.setup('direct', undefined, size, []);
    out[size] = await sweep((rate) => load.step(rate, c.stepMs, c.drainMs), o);
    await load.teardown();
    log(`load generator alone, ${size} B: ${summary(out[size])}`);
  }
  return out;
}

export async function runTurnBench(
  c: TurnBenchConfig,
  log: (line: string) => void = console.log,
  command = 'npm run bench -- turn',
): Promise<BenchResult> {
  const t0 = performance.now();
  const users = benchUsers(4);
  const sweepOptions = (rates: number[]): SweepOptions => ({
    rates,
    durationMs: c.stepMs,
    drainMs: c.drainMs,
    maxLoss: c.maxLoss,
    retry: c.retry,
    refine: c.refine,
    maxSteps: rates.length + 3,
  });
  const load = await LoadSystem.start({ clients: c.clients, generators: c.generators });
  const generatorRuns: Record<string, SweepResult>[] = [];
  const servers: ServerResult[] = [];
  try {
    generatorRuns.push(await measureGenerator(load, c, sweepOptions(c.ceilingRates), log));
    const ctx: StartContext = {
      sinks: load.sinks,
      users,
      realm: 'rtcd',
      workers: c.workers,
      workersNode: c.workersNode,
      node: process.execPath,
      bareRecvBuffer: c.bareRecvBuffer,
    };
    for (const id of c.servers) {
      const label = LABELS[id](c);
      const started = await startServer(id, ctx, c);
      if (!started.ok) {
        log(`${label}: skipped (${started.skip})`);
        servers.push({ id, label, skip: started.skip, relay: {} });
        continue;
      }
      const srv = started.server;
      const result: ServerResult = { id, label, runtime: srv.runtime, relay: {} };
      servers.push(result);
      try {
        await measureServer(srv, result, load, c, users, sweepOptions(c.rates), log);
      } catch (err) {
        result.error = errorText(err);
        log(`${label}: failed (${result.error})`);
        await load.teardown().catch(() => {});
      } finally {
        await srv.stop();
      }
    }
    if (c.ceilingTwice) {
      generatorRuns.push(await measureGenerator(load, c, sweepOptions(c.ceilingRates), log));
    }
  } finally {
    await load.close();
  }
  const generator: Record<string, SweepResult> = {};
  for (const size of c.sizes) {
    for (const run of generatorRuns) {
      const sw = run[size];
      if (sw && cleanRate(sw).pps >= cleanRate(generator[size]).pps) generator[size] = sw;
    }
  }
  const result: BenchResult = {
    date: new Date().toISOString(),
    command,
    node: process.versions.node,
    cpus: cpus().length,
    loadAverage: loadavg(),
    config: {
      clients: c.clients,
      generators: c.generators,
      sizes: c.sizes,
      rates: c.rates,
      ceilingRates: c.ceilingRates,
      stepMs: c.stepMs,
      drainMs: c.drainMs,
      maxLoss: c.maxLoss,
      workers: c.workers,
      cpuRefRate: c.cpuRefRate,
    },
    generator,
    generatorRuns,
    servers,
    ratios: computeRatios(servers, c.sizes, c.cpuRefRate),
    checks: [],
    elapsedMs: performance.now() - t0,
  };
  result.checks = computeChecks(result);
  if (c.outDir) {
    mkdirSync(c.outDir, { recursive: true });
    const file = resolve(c.outDir, `turn-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file}`);
  }
  return result;
}

function summary(s: SweepResult | undefined): string {
  if (!s) return 'not run';
  const steps = s.steps
    .map(
      (x) => `${x.rate / 1000}k:${(x.loss * 100).toFixed(1)}%${x.generatorLimited ? '(gen)' : ''}`,
    )
    .join(' ');
  const clean = s.clean ? Math.round(s.clean.relayedPps) : 0;
  return `clean ${clean} pps (stopped by ${s.stoppedBy}) [${steps}]`;
}

const HELP = `usage: npm run bench -- turn [options]
  --servers <list>     bare,rtcd,rtcd-workers,coturn (default all)
  --clients <n>        simulated TURN clients, each with its own allocation (default 12)
  --generators <n>     load generator processes (default 2)
  --sizes <list>       payload bytes (default 100,1000)
  --rates <list>       offered packets/s ladder (default 10000,…,300000)
  --step-ms <ms>       duration of one rate step (default 1500)
  --max-loss <frac>    loss that still counts as clean (default 0.01)
  --workers <n>        rtcd --workers and coturn relay threads (default 2)
  --alloc-count <n>    allocations per allocation-rate run, 0 to skip (default 2000)
  --bare-recv-buffer <bytes>  SO_RCVBUF of the bare forwarder, 0 = system default (default 4 MiB,
                       as coturn asks)
  --dgram-send         rtcd sends with Node's socket.send (--no-fast-udp-send), to compare with
                       the default send through the socket's handle
  --dist               run rtcd from dist/ (npm run build) instead of the sources via tsx
  --no-json            do not write bench/out/turn-<date>.json
  --quick              short smoke run: 4 clients, 100 B, 3 steps, 200 allocations
env RTCD_BENCH_NODE=/path/to/node22 runs the --workers row under that Node (needs >= 22.12).`;

function list(text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const out = text.split(',').map(Number);
  if (out.some((n) => !Number.isFinite(n) || n <= 0)) throw new TypeError(`bad list '${text}'`);
  return out;
}

export function parseConfig(args: string[]): TurnBenchConfig | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      servers: { type: 'string' },
      clients: { type: 'string' },
      generators: { type: 'string' },
      sizes: { type: 'string' },
      rates: { type: 'string' },
      'step-ms': { type: 'string' },
      'max-loss': { type: 'string' },
      workers: { type: 'string' },
      'alloc-count': { type: 'string' },
      'bare-recv-buffer': { type: 'string' },
      'dgram-send': { type: 'boolean' },
      dist: { type: 'boolean' },
      'no-json': { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const c = defaultConfig();
  if (values.quick) {
    Object.assign(c, { clients: 4, sizes: [100], rates: [5000, 20_000, 40_000], stepMs: 800 });
    c.cpuRefRate = 20_000;
    c.ceilingRates = [40_000];
    c.ceilingTwice = false;
    c.alloc = { count: 200, concurrency: 4, timeoutMs: 15_000 };
  }
  if (values.servers) {
    const ids = values.servers.split(',');
    for (const id of ids) {
      if (!ALL_SERVERS.includes(id as ServerId)) throw new TypeError(`unknown server '${id}'`);
    }
    c.servers = ids as ServerId[];
  }
  c.clients = list(values.clients, [c.clients])[0]!;
  c.generators = list(values.generators, [c.generators])[0]!;
  c.sizes = list(values.sizes, c.sizes);
  if (values.rates) c.rates = list(values.rates, c.rates);
  c.stepMs = list(values['step-ms'], [c.stepMs])[0]!;
  c.maxLoss = list(values['max-loss'], [c.maxLoss])[0]!;
  c.workers = list(values.workers, [c.workers])[0]!;
  if (values['alloc-count'] !== undefined) {
    const n = Number(values['alloc-count']);
    c.alloc =
      n > 0 ? { ...(c.alloc ?? { concurrency: 10, timeoutMs: 30_000 }), count: n } : undefined;
  }
  if (values['bare-recv-buffer'] !== undefined) {
    c.bareRecvBuffer = Number(values['bare-recv-buffer']);
    if (!Number.isInteger(c.bareRecvBuffer) || c.bareRecvBuffer < 0) {
      throw new TypeError(`bad --bare-recv-buffer '${values['bare-recv-buffer']}'`);
    }
  }
  c.useDist = values.dist ?? false;
  c.dgramSend = values['dgram-send'] ?? false;
  if (values['no-json']) c.outDir = undefined;
  return c;
}

export async function main(args: string[]): Promise<number> {
  const c = parseConfig(args);
  if (c === 'help') {
    console.log(HELP);
    return 0;
  }
  const watchdog = setTimeout(() => {
    console.error('turn bench: over 10 minutes, giving up');
    process.exit(1);
  }, 600_000);
  watchdog.unref();
  const command = ['npm run bench -- turn', ...args].join(' ');
  const r = await runTurnBench(c, console.log, command);
  console.log(`\n${formatReport(r)}`);
  console.log(`\ntook ${(r.elapsedMs / 1000).toFixed(0)} s`);
  clearTimeout(watchdog);
  return 0;
}
