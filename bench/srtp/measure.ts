/**
 * Timing and heap measurement for `npm run bench -- srtp`: packets per CPU-second of a step,
 * and heap growth per packet in steady state.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Step } from './workloads.js';

/**
 * Runs `step` for `seconds` (wall clock) after a warm-up of up to `warmSeconds`; returns
 * packets per CPU-second.
 */
export function packetsPerCpuSecond(step: Step, seconds: number, warmSeconds = 0.2): number {
  let checksum = 0;
  const warm = Math.min(warmSeconds, seconds);
  const warmUntil = process.hrtime.bigint() + BigInt(Math.round(warm * 1e9));
  while (process.hrtime.bigint() < warmUntil) {
    for (let i = 0; i < 256; i++) checksum = (checksum + step()) | 0;
  }
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (process.hrtime.bigint() < until) {
    for (let i = 0; i < 256; i++) checksum = (checksum + step()) | 0;
    n += 256;
  }
  const cpu = process.cpuUsage(cpu0);
  if (checksum === 0.5) console.log('unreachable'); // keeps the checksum live
  return n / ((cpu.user + cpu.system) / 1e6);
}

/**
 * A forced full GC: `global.gc` under `--expose-gc`, else V8's flag set at run time (works on
 * Node 20), else undefined (heap figures are then raw deltas that a GC may have shrunk).
 */
export function findGc(): (() => void) | undefined {
  const exposed: unknown = Reflect.get(globalThis, 'gc');
  if (typeof exposed === 'function') return () => void exposed();
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') return () => void gc();
  } catch {
    // fall through: no GC control
  }
  return undefined;
}

/**
 * Rates of several steps measured in `rounds` interleaved rounds of `seconds / rounds` each
 * (warm-up in the first only); each step's best round, so a burst of load elsewhere on the
 * machine during one round does not skew one implementation against another.
 */
export function interleavedRates(steps: readonly Step[], seconds: number, rounds = 3): number[] {
  const best = steps.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    steps.forEach((step, i) => {
      const rate = packetsPerCpuSecond(step, seconds / rounds, r === 0 ? 0.2 : 0);
      best[i] = Math.max(best[i] ?? 0, rate);
    });
  }
  return best;
}

export interface HeapGrowth {
  /** heapUsed after `packets` steps minus before (GC'd before; none forced in between). */
  usedBytesPerPacket: number;
  /** The same after a forced GC at the end: what the steps left behind. */
  retainedBytesPerPacket: number | undefined;
  /** GC runs V8 made during the steps (0 with a near-zero used delta: no allocation). */
  gcRuns: number;
  forcedGc: boolean;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

/** Heap growth per packet over `packets` steps, after a warm-up of the same step. */
export async function heapGrowth(step: Step, packets: number): Promise<HeapGrowth> {
  const gc = findGc();
  let gcRuns = 0;
  const obs = new PerformanceObserver((list) => {
    gcRuns += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  let sum = 0;
  for (let i = 0; i < Math.min(packets, 5000); i++) sum = (sum + step()) | 0;
  gc?.();
  await settle();
  gcRuns = 0;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < packets; i++) sum = (sum + step()) | 0;
  const after = process.memoryUsage().heapUsed;
  const runs = gcRuns;
  let retained: number | undefined;
  if (gc !== undefined) {
    gc();
    retained = (process.memoryUsage().heapUsed - before) / packets;
  }
  await settle();
  obs.disconnect();
  if (sum === 0.5) console.log('unreachable');
  return {
    usedBytesPerPacket: (after - before) / packets,
    retainedBytesPerPacket: retained,
    gcRuns: runs,
    forcedGc: gc !== undefined,
  };
}
