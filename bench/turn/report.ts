/**
 * Tables and ratios of a TURN bench run. Ratios are what to compare: absolute rates on a
 * shared 2-core machine drift from run to run, ratios within one run much less.
 */
import type { AllocRun } from './alloc.js';
import type { StepResult, SweepResult } from './load.js';
import type { ServerId } from './servers.js';

export interface ServerResult {
  id: ServerId;
  label: string;
  runtime?: string;
  skip?: string;
  /** The server started but the measurement failed (e.g. a flow could not allocate). */
  error?: string;
  /** Sweep per payload size (bytes, as a string key for JSON). */
  relay: Record<string, SweepResult>;
  alloc?: AllocRun[];
}

export interface BenchResult {
  date: string;
  command: string;
  node: string;
  cpus: number;
  loadAverage: number[];
  config: {
    clients: number;
    generators: number;
    sizes: number[];
    rates: number[];
    ceilingRates: number[];
    stepMs: number;
    drainMs: number;
    maxLoss: number;
    workers: number;
    cpuRefRate: number;
  };
  /** The better of the generator's runs per size (the one the verdict uses). */
  generator: Record<string, SweepResult>;
  /** Every generator-alone run: before the servers, and after them if asked. */
  generatorRuns: Record<string, SweepResult>[];
  servers: ServerResult[];
  /**
   * Per server and size: clean rate over the bare forwarder's and coturn's, and CPU µs per
   * packet at the reference rate over the bare forwarder's (less sensitive to a busy machine
   * than clean rates, which depend on the server being scheduled in time).
   */
  ratios: Record<string, Record<string, { bare?: number; coturn?: number; cpuVsBare?: number }>>;
  checks: { name: string; ratio?: number; target: number; pass?: boolean; note?: string }[];
  elapsedMs: number;
}

/** The clean relayed rate, and whether it is only a lower bound (the sweep never failed). */
export function cleanRate(s: SweepResult | undefined): { pps: number; lowerBound: boolean } {
  if (!s?.clean) return { pps: 0, lowerBound: false };
  return { pps: s.clean.relayedPps, lowerBound: s.stoppedBy !== 'loss' };
}

/** The last step run at `rate` (a retry replaces the first attempt). */
export function stepAt(s: SweepResult | undefined, rate: number): StepResult | undefined {
  return s?.steps.filter((x) => x.rate === rate).at(-1);
}

export function computeRatios(
  servers: ServerResult[],
  sizes: number[],
  cpuRefRate = 0,
): BenchResult['ratios'] {
  const out: BenchResult['ratios'] = {};
  const find = (id: ServerId) => servers.find((s) => s.id === id && !s.skip);
  for (const s of servers) {
    if (s.skip) continue;
    out[s.id] = {};
    for (const size of sizes) {
      const mine = cleanRate(s.relay[size]).pps;
      const bare = cleanRate(find('bare')?.relay[size]).pps;
      const coturn = cleanRate(find('coturn')?.relay[size]).pps;
      const myCpu = stepAt(s.relay[size], cpuRefRate)?.cpuUsPerPacket;
      const bareCpu = stepAt(find('bare')?.relay[size], cpuRefRate)?.cpuUsPerPacket;
      out[s.id]![size] = {
        ...(mine > 0 && bare > 0 ? { bare: mine / bare } : {}),
        ...(mine > 0 && coturn > 0 ? { coturn: mine / coturn } : {}),
        ...(myCpu && bareCpu ? { cpuVsBare: myCpu / bareCpu } : {}),
      };
    }
  }
  return out;
}

export function computeChecks(r: {
  config: Pick<BenchResult['config'], 'sizes' | 'workers'>;
  ratios: BenchResult['ratios'];
  servers: ServerResult[];
}): BenchResult['checks'] {
  const checks: BenchResult['checks'] = [];
  const skipOf = (id: ServerId) => {
    const s = r.servers.find((x) => x.id === id);
    return s?.skip ?? (s?.error ? `failed: ${s.error}` : undefined);
  };
  for (const size of r.config.sizes) {
    const name = `rtcd turn ≥ 0.9× bare forwarder, ${size} B`;
    const ratio = r.ratios.rtcd?.[size]?.bare;
    checks.push(withPass(name, ratio, 0.9, skipOf('rtcd') ?? skipOf('bare')));
  }
  for (const size of r.config.sizes) {
    const name = `rtcd turn --workers ${r.config.workers} ≥ 1.0× coturn, ${size} B`;
    const ratio = r.ratios['rtcd-workers']?.[size]?.coturn;
    checks.push(withPass(name, ratio, 1.0, skipOf('rtcd-workers') ?? skipOf('coturn')));
  }
  return checks;
}

function withPass(
  name: string,
  ratio: number | undefined,
  target: number,
  skip: string | undefined,
): BenchResult['checks'][number] {
  if (ratio === undefined) return { name, target, note: skip ?? 'no clean rate' };
  return { name, ratio, target, pass: ratio >= target };
}

const fmtPps = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRatio = (n: number | undefined): string => (n === undefined ? '–' : `${n.toFixed(2)}×`);

function rateCell(s: SweepResult | undefined): string {
  const c = cleanRate(s);
  if (c.pps === 0) return 'none';
  return `${c.lowerBound ? '≥ ' : ''}${fmtPps(c.pps)}`;
}

function cpuCell(step: StepResult | undefined): string {
  return step?.cpuUsPerPacket === undefined ? '–' : step.cpuUsPerPacket.toFixed(1);
}

function loadCell(step: StepResult | undefined): string {
  if (!step) return '–';
  return `${Math.round(step.generatorCpu * 100)}% / ${Math.round(step.sinkCpu * 100)}%`;
}

/** Markdown tables (they read fine in a terminal and paste into bench/RESULTS.md). */
export function formatReport(r: BenchResult): string {
  const lines: string[] = [];
  const c = r.config;
  lines.push(
    `TURN relay: clean rate = highest relayed ChannelData rate with loss ≤ ${c.maxLoss * 100}%`,
    `${c.clients} clients, ${c.stepMs} ms steps, ${r.date}, node ${r.node}, ${r.cpus} CPUs, ` +
      `load average ${r.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    `| server | runtime | payload | clean pps | × bare | × coturn | µs/pkt at clean rate ` +
      `| µs/pkt at ${c.cpuRefRate / 1000}k pps (× bare) | gen / sink CPU |`,
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const size of c.sizes) {
    const g = r.generator[size];
    const runs =
      r.generatorRuns.length > 1
        ? ` (before ${r.generatorRuns.map((x) => rateCell(x[size])).join(', after ')})`
        : '';
    lines.push(
      `| load generator alone (no server) | node ${r.node} | ${size} B | ${rateCell(g)}${runs} ` +
        `| – | – | – | – | ${loadCell(g?.clean)} |`,
    );
  }
  for (const s of r.servers) {
    if (s.skip) {
      lines.push(`| ${s.label} | ${s.runtime ?? '–'} | – | skipped: ${s.skip} | | | | | |`);
      continue;
    }
    if (s.error) {
      lines.push(`| ${s.label} | ${s.runtime ?? '–'} | – | failed: ${s.error} | | | | | |`);
    }
    for (const size of c.sizes) {
      const sw = s.relay[size];
      const ratio = r.ratios[s.id]?.[size];
      const ref = cpuCell(stepAt(sw, c.cpuRefRate));
      lines.push(
        `| ${s.label} | ${s.runtime ?? ''} | ${size} B | ${rateCell(sw)} ` +
          `| ${fmtRatio(ratio?.bare)} | ${fmtRatio(ratio?.coturn)} | ${cpuCell(sw?.clean)} ` +
          `| ${ref} (${fmtRatio(ratio?.cpuVsBare)}) | ${loadCell(sw?.clean)} |`,
      );
    }
  }
  const allocRows = r.servers.filter((s) => s.alloc);
  if (allocRows.length > 0) {
    lines.push(
      '',
      '| server | allocs/s, 1 at a time | allocs/s, N at once | CPU µs/alloc | failures |',
      '|---|---:|---:|---:|---|',
    );
    for (const s of allocRows) {
      const [seq, par] = s.alloc ?? [];
      const failures = (s.alloc ?? [])
        .flatMap((a) => Object.entries(a.errors).map(([k, n]) => `${k} ×${n}`))
        .join(', ');
      lines.push(
        `| ${s.label} | ${seq ? Math.round(seq.perSecond) : '–'} | ` +
          `${par ? `${Math.round(par.perSecond)} (N=${par.concurrency})` : '–'} | ` +
          `${seq?.cpuUsPerAllocation?.toFixed(0) ?? '–'} | ${failures || 'none'} |`,
      );
    }
  }
  lines.push('');
  for (const ch of r.checks) {
    const verdict = ch.pass === undefined ? 'n/a' : ch.pass ? 'PASS' : 'FAIL';
    const detail = ch.ratio === undefined ? (ch.note ?? '') : fmtRatio(ch.ratio);
    lines.push(`target ${ch.name}: ${detail} ${verdict}`);
  }
  lines.push(...generatorVerdicts(r));
  return lines.join('\n');
}

/** The generator must be well above every server: say so per size, or warn. */
function generatorVerdicts(r: BenchResult): string[] {
  const out: string[] = [];
  for (const size of r.config.sizes) {
    const gen = cleanRate(r.generator[size]);
    let best = 0;
    for (const s of r.servers) best = Math.max(best, cleanRate(s.relay[size]).pps);
    if (best === 0 || gen.pps === 0) continue;
    const margin = gen.pps / best;
    const ok = margin >= 1.5;
    out.push(
      `load generator ${size} B: ${gen.lowerBound ? '≥ ' : ''}${fmtPps(gen.pps)} pps alone, ` +
        `${margin.toFixed(1)}× the best server (${fmtPps(best)})` +
        (ok ? ': not the bottleneck' : ': WARNING, too close to call the servers'),
    );
  }
  return out;
}
