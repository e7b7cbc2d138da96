/**
 * Allocation measurement for the router-core bench: V8's sampling heap profiler (through the
 * in-process inspector) counts the bytes a piece of code allocates, garbage included, and
 * names where; a `gc` PerformanceObserver counts the scavenges it caused.
 */
import { Session } from 'node:inspector';
import { type PerformanceEntry, PerformanceObserver, constants as perf } from 'node:perf_hooks';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

export interface AllocationSite {
  /** `function file:line` of the allocating frame (no line where the profile has none). */
  site: string;
  bytes: number;
}

export interface AllocationProfile {
  /** Bytes allocated (sampled, scaled by V8 to an estimate of the whole). */
  bytes: number;
  /** Top allocating frames, most bytes first. */
  sites: AllocationSite[];
}

/** `session.post`, whose callback a same-thread session runs before returning. */
function post<T>(s: Session, method: string, params?: object): T {
  let result: { r: T } | undefined;
  s.post(method, params ?? {}, (err, r) => {
    if (err) throw err;
    result = { r: r as T };
  });
  if (result === undefined) throw new Error(`inspector: ${method} did not answer synchronously`);
  return result.r;
}

/**
 * Runs `work` under the sampling heap profiler (one sample per ~`interval` bytes, objects
 * collected by scavenges and full GCs included) and returns what it allocated.
 */
export function sampleAllocations(
  work: () => void,
  interval = 512,
  topSites = 12,
): AllocationProfile {
  const s = new Session();
  s.connect();
  try {
    post(s, 'HeapProfiler.enable');
    post(s, 'HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    work();
    const { profile } = post<{ profile: { head: SampleNode } }>(s, 'HeapProfiler.stopSampling');
    const bySite = new Map<string, number>();
    let bytes = 0;
    const walk = (n: SampleNode): void => {
      if (n.selfSize > 0) {
        const f = n.callFrame;
        const file = f.url.slice(f.url.lastIndexOf('/') + 1) || '(native)';
        const line = f.lineNumber > 0 ? `:${f.lineNumber + 1}` : '';
        const site = `${f.functionName || '(anonymous)'} ${file}${line}`;
        bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
        bytes += n.selfSize;
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    const sites = [...bySite]
      .map(([site, b]) => ({ site, bytes: b }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, topSites);
    return { bytes, sites };
  } finally {
    s.disconnect();
  }
}

/**
 * Counts scavenges (minor GCs) from now until the returned function's promise resolves (GC
 * entries arrive after the synchronous work that caused them: it waits a turn for them).
 */
export function countScavenges(): () => Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (isScavenge(e)) n++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return async () => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
    const pending = obs.takeRecords();
    for (const e of pending) {
      if (isScavenge(e)) n++;
    }
    obs.disconnect();
    return n;
  };
}

function isScavenge(e: PerformanceEntry): boolean {
  const detail: unknown = Reflect.get(e, 'detail');
  return (
    typeof detail === 'object' &&
    detail !== null &&
    Reflect.get(detail, 'kind') === perf.NODE_PERFORMANCE_GC_MINOR
  );
}
