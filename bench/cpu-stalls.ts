/**
 * `npm run bench -- cpu-stalls [--seconds 3] [--threshold-ms 1] [--alone] [--quick]`
 *
 * How much of each CPU this machine really gives a thread that never sleeps. One probe per CPU
 * (bench/cpu-stalls/probe.ts, pinned with `taskset`) spins on the clock and records every gap
 * of at least `--threshold-ms` between two readings: time the CPU spent elsewhere. All CPUs
 * are probed at once by default (the way a loaded benchmark uses them); `--alone` probes them
 * one after another with the others idle.
 *
 * Why it exists: the SFU bench's added-latency p99 is a few milliseconds, and on a virtual
 * machine a vCPU can be taken away by the host for 5–25 ms at a time without the guest seeing
 * it (no steal time, no guest task running). A process on that vCPU then stalls, and every
 * packet that waits for it is late. The SFU bench runs this check before its ramp and prints
 * it next to its figures (bench/sfu/e2e.ts), so a p99 can be read against the machine it was
 * measured on. Results: bench/RESULTS.md, "SFU".
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface CpuStallsConfig {
  /** Seconds each probe spins (default 3). */
  seconds: number;
  /** Shortest gap counted as a stall, ms (default 1). */
  thresholdMs: number;
  /** Probe the CPUs one at a time instead of all at once (default false). */
  alone: boolean;
}

/** Gap lengths (ms) the buckets start at: [1, 2), [2, 5), … , [50, ∞). */
export const BUCKET_STARTS_MS = [1, 2, 5, 10, 50] as const;

export interface CpuStalls {
  cpu: number;
  seconds: number;
  thresholdMs: number;
  /** Gaps of at least the threshold. */
  stalls: number;
  /** Their total length, ms, and that as a share of the probed time. */
  lostMs: number;
  lostShare: number;
  maxMs: number;
  /** Gaps per bucket of `BUCKET_STARTS_MS` (gaps under 1 ms, with a lower threshold, in none). */
  buckets: number[];
}

export function parseConfig(args: string[]): CpuStallsConfig {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      seconds: { type: 'string', default: '3' },
      'threshold-ms': { type: 'string', default: '1' },
      alone: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(v.seconds);
  if (!(seconds > 0 && seconds <= 600)) {
    throw new TypeError(`--seconds must be in (0, 600], got ${v.seconds}`);
  }
  const thresholdMs = Number(v['threshold-ms']);
  if (!(thresholdMs >= 0.05 && thresholdMs <= 1000)) {
    throw new TypeError(`--threshold-ms must be in [0.05, 1000], got ${v['threshold-ms']}`);
  }
  return { seconds: v.quick ? 0.3 : seconds, thresholdMs, alone: v.alone };
}

/** The summary of one probe's gaps (ms) over `seconds`. */
export function summarize(
  cpu: number,
  gaps: readonly number[],
  seconds: number,
  thresholdMs: number,
): CpuStalls {
  const buckets = BUCKET_STARTS_MS.map(() => 0);
  let lostMs = 0;
  let maxMs = 0;
  for (const g of gaps) {
    lostMs += g;
    if (g > maxMs) maxMs = g;
    for (let b = BUCKET_STARTS_MS.length - 1; b >= 0; b--) {
      if (g >= BUCKET_STARTS_MS[b]!) {
        buckets[b]!++;
        break;
      }
    }
  }
  return {
    cpu,
    seconds,
    thresholdMs,
    stalls: gaps.length,
    lostMs,
    lostShare: lostMs / (seconds * 1000),
    maxMs,
    buckets,
  };
}

/** One line per CPU: `cpu0 lost 2.9% (87 ms) in 14 gaps >= 1 ms, max 21.3 ms`. */
export function formatStalls(s: CpuStalls): string {
  const pct = (s.lostShare * 100).toFixed(s.lostShare < 0.01 ? 2 : 1);
  const hist = BUCKET_STARTS_MS.map((start, i) => {
    const end = BUCKET_STARTS_MS[i + 1];
    return `${start}${end === undefined ? '+' : `-${end}`} ms: ${s.buckets[i]}`;
  }).join(', ');
  return (
    `cpu${s.cpu} lost ${pct}% (${s.lostMs.toFixed(0)} ms) in ${s.stalls} gap(s) >= ` +
    `${s.thresholdMs} ms, max ${s.maxMs.toFixed(1)} ms (${hist})`
  );
}

const probeFile = fileURLToPath(new URL('./cpu-stalls/probe.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

/** A running probe: `ready` resolves when its timed part starts, `done` with its gaps. */
export interface Probe {
  pid: number | undefined;
  ready: Promise<void>;
  done: Promise<number[]>;
}

/** Starts a probe, pinned to `cpu` with `taskset` (unpinned when `cpu` is undefined). */
export function startProbe(cpu: number | undefined, seconds: number, thresholdMs: number): Probe {
  const node = [process.execPath, '--import', tsx, probeFile];
  const args = [...node, String(seconds * 1000), String(thresholdMs)];
  const child =
    cpu === undefined
      ? spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['--cpu-list', String(cpu), ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
  });
  let markReady = (): void => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) markReady();
  });
  const done = new Promise<number[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        const why = err.trim().split('\n').slice(-3).join(' / ');
        reject(new Error(`cpu-stalls probe on cpu ${cpu ?? 'any'} exited with ${code}: ${why}`));
        return;
      }
      const parsed: unknown = JSON.parse(line);
      const gaps = typeof parsed === 'object' && parsed !== null && Reflect.get(parsed, 'gaps');
      resolve(Array.isArray(gaps) ? gaps.map(Number) : []);
    });
  });
  // A probe that dies before `ready` must not leave `ready` pending forever.
  done.then(markReady, markReady);
  return { pid: child.pid, ready, done };
}

/** Probes every CPU (all at once, or one at a time with `alone`). */
export async function measureCpuStalls(c: CpuStallsConfig): Promise<CpuStalls[]> {
  const cpus = Array.from({ length: availableParallelism() }, (_, i) => i);
  const one = async (cpu: number): Promise<CpuStalls> =>
    summarize(cpu, await startProbe(cpu, c.seconds, c.thresholdMs).done, c.seconds, c.thresholdMs);
  if (!c.alone) return Promise.all(cpus.map(one));
  const out: CpuStalls[] = [];
  for (const cpu of cpus) out.push(await one(cpu));
  return out;
}

export async function main(args: string[]): Promise<number> {
  let c: CpuStallsConfig;
  try {
    c = parseConfig(args);
  } catch (err) {
    console.error(String(err));
    return 1;
  }
  console.log(
    `CPU stalls: a probe per CPU spinning on the clock for ${c.seconds} s ` +
      `(${c.alone ? 'one CPU at a time, the others idle' : 'all CPUs at once'}), ` +
      `node ${process.version}; a gap is time the CPU gave to something else`,
  );
  for (const s of await measureCpuStalls(c)) console.log(formatStalls(s));
  return 0;
}
