import { Counter, type Registry } from 'prom-client';

/**
 * A Prometheus counter that follows running totals kept elsewhere (plain numbers bumped on
 * the hot path): each scrape adds what each labelled total grew since the last scrape, and a
 * series is exported (at 0) from the first time it is read. Totals never shrink the counter.
 */
export function totalsCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Iterable<[Record<string, string>, number]>,
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, total] of read()) {
        const key = JSON.stringify(labels);
        const delta = total - (seen.get(key) ?? 0);
        if (delta > 0) this.inc(labels, delta);
        else if (!seen.has(key)) this.inc(labels, 0);
        seen.set(key, Math.max(total, seen.get(key) ?? 0));
      }
    },
  });
}
