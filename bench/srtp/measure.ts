/**
 * Timing and heap measurement for `npm run bench -- srtp`: packets per CPU-second of a step,
 * and heap growth per packet in steady state.
 */
import { GCProfiler, setFlagsFromString } from 'node:v8';
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
  /**
   * Bytes of JS heap allocated per packet (short-lived garbage included): the mean heapUsed
   * growth over up to `MAX_CHUNKS` chunks (and `packets` packets), each started right after a forced GC, sized to
   * allocate ~256 kB, and kept only if V8's GCProfiler saw no collection inside it.
   */
  usedBytesPerPacket: number;
  /**
   * heapUsed after a forced GC at the end of all the packets minus after one at the start,
   * per packet: what they left behind (0 in steady state, give or take noise).
   */
  retainedBytesPerPacket: number | undefined;
  /** Packets over which `usedBytesPerPacket` was measured, and chunks left out (a GC ran). */
  sampledPackets: number;
  skippedChunks: number;
  forcedGc: boolean;
}

const MAX_CHUNKS = 40;
const CHUNK_BYTES = 256 * 1024;

/** Collections V8 ran during `f`, from its GCProfiler (synchronous, Node ≥ 18.15). */
function collectionsDuring(f: () => void): number {
  const profiler = new GCProfiler();
  profiler.start();
  f();
  return profiler.stop().statistics.length;
}

/**
 * Heap growth per packet over `packets` steps after a warm-up of the same step: allocation
 * from chunks between forced GCs, retention over all the packets (without GC control: one
 * raw delta for both, which a GC may shrink).
 */
export function heapGrowth(step: Step, packets: number): HeapGrowth {
  const gc = findGc();
  let sum = 0;
  for (let i = 0; i < Math.min(packets, 5000); i++) sum = (sum + step()) | 0;
  let used = 0;
  let sampled = 0;
  let skipped = 0;
  let chunk = Math.min(packets, 200);
  for (let c = 0; gc !== undefined && c < MAX_CHUNKS && sampled < packets; c++) {
    gc();
    const n = chunk;
    let delta = 0;
    const collections = collectionsDuring(() => {
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < n; i++) sum = (sum + step()) | 0;
      delta = process.memoryUsage().heapUsed - before;
    });
    if (collections > 0 || delta < 0) {
      skipped++;
      chunk = Math.max(50, chunk >>> 1);
      continue;
    }
    used += delta;
    sampled += n;
    // Next chunks: ~CHUNK_BYTES of allocation each, from 200 to 20,000 packets.
    const perPacket = used / sampled;
    chunk = Math.max(200, Math.min(20_000, Math.floor(CHUNK_BYTES / Math.max(perPacket, 1))));
  }
  gc?.();
  const start = process.memoryUsage().heapUsed;
  for (let i = 0; i < packets; i++) sum = (sum + step()) | 0;
  const end = process.memoryUsage().heapUsed;
  let retained: number | undefined;
  if (gc !== undefined) {
    gc();
    retained = (process.memoryUsage().heapUsed - start) / packets;
  }
  if (sum === 0.5) console.log('unreachable');
  return {
    usedBytesPerPacket: gc === undefined ? (end - start) / packets : used / Math.max(sampled, 1),
    retainedBytesPerPacket: retained,
    sampledPackets: sampled,
    skippedChunks: skipped,
    forcedGc: gc !== undefined,
  };
}
