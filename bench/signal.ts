/**
 * `npm run bench -- signal [--small] [--idle N] [--idle-procs P] [--seconds S] [--rate R]
 * [--pairs K]`: in one run,
 * - idle WebSocket connections one `rtcd signal` process holds (each joined to a two-peer
 *   room) and its memory per connection (RSS and heap after GC), clients spread over P child
 *   processes (the fd limit is per process);
 * - relayed messages per second (closed loop) and p50/p99 latency at a fixed rate (open loop)
 *   between clients on one node and across two nodes through Redis (a redis-server started
 *   here), beside a bare `ws` relay of a few lines as the ceiling, with the ratios.
 * Targets (issue 6): ≥ 20,000 idle in < 1 GB; ≥ 0.8× the bare rate on one node; cross-node
 * p99 < 5 ms at 5,000 msgs/s. Writes bench/out/signal-<date>.json. See bench/RESULTS.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../spec/helpers/redis.js';
import { field, forkChild, startServer } from './signal/proc.js';
import { connectPair, type LatencyResult, latency, type Pair, throughput } from './signal/relay.js';

export interface SignalBenchConfig {
  idle: number;
  idleProcs: number;
  seconds: number;
  rate: number;
  pairs: number;
  window: number;
  /** Rounds over the three relays, interleaved; the best round of each counts (noisy hosts). */
  rounds: number;
  outDir: string | undefined;
}

export function parseConfig(args: string[]): SignalBenchConfig {
  const { values } = parseArgs({
    args,
    options: {
      small: { type: 'boolean' },
      idle: { type: 'string' },
      'idle-procs': { type: 'string' },
      seconds: { type: 'string' },
      rate: { type: 'string' },
      pairs: { type: 'string' },
      rounds: { type: 'string' },
      'no-out': { type: 'boolean' },
    },
  });
  const small = values.small === true;
  const num = (v: string | undefined, def: number, name: string) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!(n > 0)) throw new TypeError(`--${name} must be a positive number`);
    return n;
  };
  return {
    // One process may hold 20,000 fds here; the server needs a few dozen for itself.
    idle: num(values.idle, small ? 200 : 19_800, 'idle'),
    idleProcs: num(values['idle-procs'], small ? 2 : 5, 'idle-procs'),
    seconds: num(values.seconds, small ? 0.5 : 3, 'seconds'),
    rate: num(values.rate, small ? 500 : 5000, 'rate'),
    pairs: num(values.pairs, small ? 2 : 4, 'pairs'),
    window: 64,
    rounds: num(values.rounds, small ? 1 : 3, 'rounds'),
    outDir: values['no-out'] || small ? undefined : resolve('bench/out'),
  };
}

export interface IdleResult {
  connections: number;
  failed: number;
  rssPerConnection: number;
  heapPerConnection: number;
  rssTotal: number;
}

async function idleRun(c: SignalBenchConfig): Promise<IdleResult> {
  const server = await startServer({ kind: 'rtcd' });
  try {
    const before = await server.stats();
    const per = Math.ceil(c.idle / c.idleProcs);
    const children = Array.from({ length: c.idleProcs }, (_, i) =>
      forkChild('./idle-child.ts', {
        url: `ws://127.0.0.1:${server.port}/ws`,
        count: Math.min(per, c.idle - i * per),
        prefix: `idle${i}-`,
        concurrency: 50,
      }),
    );
    let ready = 0;
    let failed = 0;
    for (const child of children) {
      const r = await child.next(field('ready'), 300_000);
      ready += r.ready as number;
      failed += (r as { failed?: number }).failed ?? 0;
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await server.stats();
    await Promise.all(children.map((ch) => ch.close()));
    return {
      connections: ready,
      failed,
      rssPerConnection: (after.rss - before.rss) / ready,
      heapPerConnection:
        (after.heapUsed + after.external - before.heapUsed - before.external) / ready,
      rssTotal: after.rss,
    };
  } finally {
    await server.child.close();
  }
}

export interface RelayRow {
  label: string;
  rate: number;
  latency: LatencyResult;
}

async function relayRun(
  label: string,
  kind: 'rtcd' | 'bare',
  urls: [string, string],
  c: SignalBenchConfig,
): Promise<RelayRow> {
  const pairs: Pair[] = [];
  for (let i = 0; i < c.pairs; i++)
    pairs.push(await connectPair(kind, urls[0], urls[1], `bench${i}`));
  try {
    const rate = await throughput(pairs, c.window, c.seconds * 1000);
    const lat = await latency(pairs, c.rate, c.seconds * 1000);
    return { label, rate, latency: lat };
  } finally {
    for (const p of pairs) p.close();
  }
}

export interface SignalBenchResult {
  config: SignalBenchConfig;
  idle: IdleResult;
  rows: RelayRow[];
  ratios: { oneNodeVsBare: number; crossNodeVsBare: number };
  checks: { name: string; ok: boolean; value: string }[];
}

export async function runSignalBench(c: SignalBenchConfig): Promise<SignalBenchResult> {
  const idle = await idleRun(c);
  const redis = await startRedis();
  const servers = await Promise.all([
    startServer({ kind: 'bare' }),
    startServer({ kind: 'rtcd' }),
    startServer({ kind: 'rtcd', redis: redis.url }),
    startServer({ kind: 'rtcd', redis: redis.url }),
  ]);
  const [bare, one, n1, n2] = servers;
  const ws = (port: number, path = '/ws') => `ws://127.0.0.1:${port}${path}`;
  const relays: [string, 'rtcd' | 'bare', [string, string]][] = [
    ['bare ws relay (ceiling)', 'bare', [ws(bare.port, ''), ws(bare.port, '')]],
    ['rtcd signal, one node', 'rtcd', [ws(one.port), ws(one.port)]],
    ['rtcd signal, two nodes via Redis', 'rtcd', [ws(n1.port), ws(n2.port)]],
  ];
  const rows: RelayRow[] = [];
  try {
    for (let round = 0; round < c.rounds; round++) {
      for (const [i, [label, kind, urls]] of relays.entries()) {
        const r = await relayRun(label, kind, urls, c);
        const best = rows[i];
        if (best === undefined) rows[i] = r;
        else {
          // Best rate and best latency of the rounds, each on its own.
          if (r.rate > best.rate) best.rate = r.rate;
          if (r.latency.p99 < best.latency.p99) best.latency = r.latency;
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.child.close()));
    await redis.close();
  }
  const [b, o, x] = rows as [RelayRow, RelayRow, RelayRow];
  const ratios = { oneNodeVsBare: o.rate / b.rate, crossNodeVsBare: x.rate / b.rate };
  const gb = (idle.rssPerConnection * 20_000) / 1e9;
  const checks = [
    {
      name: '≥ 20,000 idle connections in < 1 GB',
      ok: idle.connections >= 20_000 && idle.rssTotal < 1e9,
      value:
        `${idle.connections} held (fd limit ${fdLimit()} per process), RSS ` +
        `${(idle.rssTotal / 1e6).toFixed(0)} MB; 20,000 at this rate ≈ ${gb.toFixed(2)} GB`,
    },
    {
      name: '≥ 0.8× the bare relay rate on one node',
      ok: ratios.oneNodeVsBare >= 0.8,
      value: `${ratios.oneNodeVsBare.toFixed(2)}×`,
    },
    {
      name: `cross-node p99 < 5 ms at ${c.rate} msgs/s`,
      ok: x.latency.p99 < 5,
      value: `${x.latency.p99.toFixed(2)} ms`,
    },
  ];
  return { config: c, idle, rows, ratios, checks };
}

/** The soft open-files limit of this process (children inherit it). */
function fdLimit(): string {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    return /Max open files\s+(\d+)/.exec(limits)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

export function formatReport(r: SignalBenchResult): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [
    `rtcd signal bench — Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}`,
    '',
    `idle: ${r.idle.connections} connections held by one process (${r.idle.failed} failed), ` +
      `RSS ${(r.idle.rssTotal / 1e6).toFixed(0)} MB; per connection ${kb(r.idle.rssPerConnection)} RSS, ` +
      `${kb(r.idle.heapPerConnection)} heap+external`,
    '',
    `relay (${r.config.pairs} pairs, ${r.config.window} in flight each; latency at ${r.config.rate} msgs/s; ` +
      `best of ${r.config.rounds} interleaved rounds):`,
    '  server                               msgs/s    p50 ms   p99 ms   max ms   received',
  ];
  for (const row of r.rows) {
    const l = row.latency;
    lines.push(
      `  ${row.label.padEnd(35)} ${row.rate.toFixed(0).padStart(8)}  ${l.p50.toFixed(2).padStart(7)}  ${l.p99
        .toFixed(2)
        .padStart(7)}  ${l.max.toFixed(2).padStart(7)}   ${l.received}/${l.sent}`,
    );
  }
  lines.push(
    '',
    `ratios: one node / bare ${r.ratios.oneNodeVsBare.toFixed(2)}×, two nodes / bare ${r.ratios.crossNodeVsBare.toFixed(2)}×`,
    '',
    ...r.checks.map((c) => `  [${c.ok ? 'met' : 'MISSED'}] ${c.name}: ${c.value}`),
  );
  return lines.join('\n');
}

export async function main(args: string[]): Promise<number> {
  let config: SignalBenchConfig;
  try {
    config = parseConfig(args);
  } catch (err) {
    console.error(`bench signal: ${(err as Error).message}`);
    return 2;
  }
  const result = await runSignalBench(config);
  console.log(formatReport(result));
  if (config.outDir !== undefined) {
    mkdirSync(config.outDir, { recursive: true });
    const file = resolve(config.outDir, `signal-${new Date().toISOString().slice(0, 19)}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`\nwritten ${file}`);
  }
  return 0;
}
