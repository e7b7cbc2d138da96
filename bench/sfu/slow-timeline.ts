/**
 * Where a path's slow packets are in the measured window: latency counted per 10 ms of send
 * time, so a step's p99 can be told apart as a spread of slightly late packets (queueing at a
 * busy SFU) or as episodes where nearly every packet is late (a pause, a burst of work, a
 * start-up transient): at 80% of a core busy, a pause of P ms leaves a backlog that takes
 * ~4P ms more to drain, and one such episode of 30 ms is already 1% of a 3 s window.
 */

/** Width of a timeline bin, ms of send time. */
export const BIN_MS = 10;
/** A packet counts as slow above this latency, µs: a 2 ms target over a ~0.5 ms direct path. */
export const SLOW_US = 2500;

/** Per-bin counts of one path in one client process (sent into the parent with phase-done). */
export class SlowTimeline {
  readonly all: number[];
  readonly slow: number[];
  constructor(
    readonly windowStartUs: number,
    windowMs: number,
  ) {
    const bins = Math.max(1, Math.ceil(windowMs / BIN_MS));
    this.all = new Array<number>(bins).fill(0);
    this.slow = new Array<number>(bins).fill(0);
  }

  add(sentUs: number, latencyUs: number): void {
    const b = Math.floor((sentUs - this.windowStartUs) / (BIN_MS * 1000));
    if (b < 0 || b >= this.all.length) return;
    this.all[b]!++;
    if (latencyUs > SLOW_US) this.slow[b]!++;
  }
}

export interface SlowSummary {
  thresholdUs: number;
  /** Share of the window's packets over the threshold. */
  share: number;
  /** Runs of bins in which most packets were slow; their count and the longest, ms. */
  episodes: number;
  longestMs: number;
  /** Share of the slow packets that were in those episodes. */
  inEpisodes: number;
  /** Share of the slow packets sent in the window's first 100 ms. */
  inFirst100Ms: number;
}

/** Sums the processes' timelines (same window) and summarizes them. */
export function summarizeSlow(parts: readonly { all: number[]; slow: number[] }[]): SlowSummary {
  const n = Math.max(0, ...parts.map((p) => p.all.length));
  const all = new Array<number>(n).fill(0);
  const slow = new Array<number>(n).fill(0);
  for (const p of parts) {
    for (let i = 0; i < p.all.length; i++) {
      all[i]! += p.all[i] ?? 0;
      slow[i]! += p.slow[i] ?? 0;
    }
  }
  let total = 0;
  let slowTotal = 0;
  let episodes = 0;
  let longest = 0;
  let run = 0;
  let inEpisodes = 0;
  let first = 0;
  for (let i = 0; i < n; i++) {
    total += all[i]!;
    slowTotal += slow[i]!;
    if (i * BIN_MS < 100) first += slow[i]!;
    const mostlySlow = all[i]! > 0 && slow[i]! * 2 > all[i]!;
    if (mostlySlow) {
      if (run === 0) episodes++;
      run++;
      inEpisodes += slow[i]!;
      longest = Math.max(longest, run);
    } else {
      run = 0;
    }
  }
  return {
    thresholdUs: SLOW_US,
    share: total === 0 ? 0 : slowTotal / total,
    episodes,
    longestMs: longest * BIN_MS,
    inEpisodes: slowTotal === 0 ? 0 : inEpisodes / slowTotal,
    inFirst100Ms: slowTotal === 0 ? 0 : first / slowTotal,
  };
}

/** One line: "over 2.5 ms: 3.10% of packets, 85% of them in 9 episodes (longest 180 ms)…". */
export function formatSlow(s: SlowSummary): string {
  const p = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 0)}%`;
  if (s.share === 0) return `none over ${s.thresholdUs / 1000} ms`;
  return (
    `over ${s.thresholdUs / 1000} ms: ${p(s.share)} of packets, ${p(s.inEpisodes)} of them in ` +
    `${s.episodes} episode(s) of mostly-late ${BIN_MS} ms bins (longest ${s.longestMs} ms), ` +
    `${p(s.inFirst100Ms)} in the window's first 100 ms`
  );
}
