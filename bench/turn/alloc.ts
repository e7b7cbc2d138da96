/**
 * Allocations per second: a forked worker runs `count` allocate + close cycles against the
 * server, first one at a time, then `concurrency` at once, while the server's CPU is read.
 */
import { fileURLToPath } from 'node:url';
import { Child, treeCpuUs } from './proc.js';
import type { AllocJob, Credentials, Endpoint, FromAllocWorker } from './protocol.js';

const worker = fileURLToPath(new URL('./alloc-worker.ts', import.meta.url));

export interface AllocRun {
  concurrency: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  perSecond: number;
  /** Server tree CPU µs per successful allocate + close. */
  cpuUsPerAllocation?: number;
}

export interface AllocOptions {
  count: number;
  concurrency: number;
  timeoutMs: number;
}

export async function allocationRate(
  server: Endpoint,
  serverPid: number,
  users: Credentials[],
  o: AllocOptions,
): Promise<AllocRun[]> {
  const child = new Child<AllocJob, FromAllocWorker>(worker, 'alloc worker');
  try {
    const runs: AllocRun[] = [];
    for (const [k, concurrency] of [1, o.concurrency].entries()) {
      const job: AllocJob = {
        type: 'alloc',
        server,
        users,
        count: o.count,
        concurrency,
        timeoutMs: o.timeoutMs,
        sourceOffset: k * o.count,
      };
      const cpu0 = treeCpuUs(serverPid);
      const r = await child.request(job, 'alloc-done', o.timeoutMs + 15_000);
      const cpu = treeCpuUs(serverPid) - cpu0;
      runs.push({
        concurrency,
        ok: r.ok,
        failed: r.failed,
        errors: r.errors,
        perSecond: r.elapsedMs > 0 ? (r.ok * 1000) / r.elapsedMs : 0,
        ...(r.ok > 0 ? { cpuUsPerAllocation: cpu / r.ok } : {}),
      });
    }
    return runs;
  } finally {
    await child.close();
  }
}
