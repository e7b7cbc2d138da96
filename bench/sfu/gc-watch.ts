/**
 * Every GC pause of the process it runs in, between two `take()`s: for the SFU bench's server
 * children (their packets wait through each pause) and its client children (whose pauses are
 * part of every measured latency, on both paths).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { GcPauses } from './protocol.js';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-sweep',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

export const noGcPauses = (): GcPauses => ({ count: 0, totalMs: 0, maxMs: 0, byKind: {} });

/** Adds `b`'s pauses into `a` (the longest is the longer of the two). */
export function addGcPauses(a: GcPauses, b: GcPauses): void {
  a.count += b.count;
  a.totalMs += b.totalMs;
  a.maxMs = Math.max(a.maxMs, b.maxMs);
  for (const [k, n] of Object.entries(b.byKind)) a.byKind[k] = (a.byKind[k] ?? 0) + n;
}

export class GcWatch {
  private pauses = noGcPauses();

  constructor() {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail: unknown = Reflect.get(e, 'detail');
        const kind =
          typeof detail === 'object' && detail !== null ? Reflect.get(detail, 'kind') : 0;
        const name = GC_KINDS[Number(kind)] ?? 'other';
        const g = this.pauses;
        g.count++;
        g.totalMs += e.duration;
        g.maxMs = Math.max(g.maxMs, e.duration);
        g.byKind[name] = (g.byKind[name] ?? 0) + 1;
      }
    }).observe({ entryTypes: ['gc'] });
  }

  /** The pauses since the last call (or since the watch started). */
  take(): GcPauses {
    const g = this.pauses;
    this.pauses = noGcPauses();
    return g;
  }
}
