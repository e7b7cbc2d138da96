/**
 * `npm run bench -- dtls [--seconds 1.5] [--size 1200] [--suites c02b,c02c,cca9]
 *  [--no-werift] [--no-records] [--no-handshakes] [--no-json]`: DTLS 1.2 record throughput
 * (bench/dtls/records.ts: AEAD seal/open vs a bare node:crypto loop and werift) and full
 * handshakes per second (bench/dtls/handshakes.ts, when present: rtcd vs werift). Checks the
 * issue's targets (records within 1.2× of the bare loop; handshakes ≥ 2× werift) and writes
 * bench/out/dtls-<date>.json. See bench/RESULTS.md, section DTLS.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  defaultRecordConfig,
  type RecordBenchConfig,
  type RecordRow,
  runRecordBench,
} from './dtls/records.js';
import type { HandshakeRow, RunHandshakeBench } from './dtls/types.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface DtlsBenchConfig {
  records: RecordBenchConfig | undefined;
  handshakes: { seconds: number; werift: boolean } | undefined;
}

export interface TargetCheck {
  name: string;
  met: boolean;
  worst: number;
  where: string;
}

export interface DtlsBenchResult {
  date: string;
  node: string;
  config: DtlsBenchConfig;
  records: RecordRow[];
  handshakes: HandshakeRow[];
  handshakesSkipped: string | undefined;
  targets: TargetCheck[];
}

/** Records: rtcd at least 1/1.2 of the bare loop's rate. Handshakes: ≥ 2× werift. */
export function checkTargets(
  records: readonly RecordRow[],
  handshakes: readonly HandshakeRow[],
): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (records.length > 0) {
    let worst = Number.POSITIVE_INFINITY;
    let where = '';
    for (const r of records) {
      const slowdown = r.bare / r.rtcd;
      if (1 / slowdown < worst) {
        worst = 1 / slowdown;
        where = `${r.suite} ${r.direction}`;
      }
    }
    out.push({ name: 'records within 1.2× of bare', met: worst >= 1 / 1.2, worst, where });
  }
  const vsWerift = handshakes.filter((h) => h.werift !== undefined);
  if (vsWerift.length > 0) {
    let worst = Number.POSITIVE_INFINITY;
    let where = '';
    for (const h of vsWerift) {
      const x = h.rtcd / h.werift!;
      if (x < worst) {
        worst = x;
        where = h.name;
      }
    }
    out.push({ name: 'handshakes ≥ 2× werift', met: worst >= 2, worst, where });
  }
  return out;
}

function rate(n: number | undefined): string {
  if (n === undefined) return '—';
  return n >= 10_000 ? `${Math.round(n / 1000)} k` : `${Math.round(n)}`;
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined ? '—' : `${(a / b).toFixed(2)}×`;
}

export function formatRecordTable(rows: readonly RecordRow[]): string[] {
  const lines = [
    '| suite | direction | rtcd rec/s | bare loop | × bare | werift | × werift |',
    '| ----- | --------- | ---------- | --------- | ------ | ------ | -------- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.suite} | ${r.direction} | ${rate(r.rtcd)} | ${rate(r.bare)} | ` +
        `${ratio(r.rtcd, r.bare)} | ${rate(r.werift)} | ${ratio(r.rtcd, r.werift)} |`,
    );
  }
  return lines;
}

export function formatHandshakeTable(rows: readonly HandshakeRow[]): string[] {
  const lines = [
    '| handshake | rtcd /s | werift /s | × werift |',
    '| --------- | ------- | --------- | -------- |',
  ];
  for (const h of rows) {
    lines.push(`| ${h.name} | ${rate(h.rtcd)} | ${rate(h.werift)} | ${ratio(h.rtcd, h.werift)} |`);
  }
  return lines;
}

function isRunHandshakeBench(f: unknown): f is RunHandshakeBench {
  return typeof f === 'function';
}

/** bench/dtls/handshakes.ts's runner, or the reason there is none. */
async function loadHandshakeBench(): Promise<RunHandshakeBench | string> {
  const file = join(here, 'dtls', 'handshakes.ts');
  if (!existsSync(file)) return 'bench/dtls/handshakes.ts is not there yet';
  const mod: unknown = await import(pathToFileURL(file).href);
  const run = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'runHandshakeBench') : 0;
  return isRunHandshakeBench(run) ? run : 'bench/dtls/handshakes.ts exports no runHandshakeBench';
}

export async function runDtlsBench(
  config: DtlsBenchConfig,
  log: (line: string) => void = console.log,
): Promise<DtlsBenchResult> {
  const records = config.records === undefined ? [] : runRecordBench(config.records, log);
  let handshakes: HandshakeRow[] = [];
  let handshakesSkipped: string | undefined = 'not asked (--no-handshakes)';
  if (config.handshakes !== undefined) {
    const run = await loadHandshakeBench();
    if (typeof run === 'string') handshakesSkipped = run;
    else {
      handshakes = await run(config.handshakes, log);
      handshakesSkipped = undefined;
    }
  }
  const result: DtlsBenchResult = {
    date: new Date().toISOString(),
    node: process.version,
    config,
    records,
    handshakes,
    handshakesSkipped,
    targets: checkTargets(records, handshakes),
  };
  if (records.length > 0) {
    log(`\nDTLS 1.2 records, ${config.records!.size}-byte plaintext, records per CPU-second:`);
    for (const l of formatRecordTable(records)) log(l);
  }
  if (handshakes.length > 0) {
    log('\nFull handshakes per second:');
    for (const l of formatHandshakeTable(handshakes)) log(l);
  } else if (handshakesSkipped !== undefined) {
    log(`\nhandshakes: skipped (${handshakesSkipped})`);
  }
  for (const t of result.targets) {
    log(`target ${t.name}: ${t.met ? 'met' : 'MISSED'} (worst ${t.worst.toFixed(2)}×, ${t.where})`);
  }
  return result;
}

function parseSuites(s: string): number[] | string {
  const ids = s.split(',').map((x) => Number.parseInt(x, 16));
  return ids.every((n) => Number.isInteger(n) && n > 0) ? ids : `bad --suites '${s}'`;
}

export function parseConfig(args: string[]): { config: DtlsBenchConfig; json: boolean } | string {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const v = parsed.values;
  const seconds = Number(v.seconds ?? defaultRecordConfig.seconds);
  const size = Number(v.size ?? defaultRecordConfig.size);
  if (!Number.isFinite(seconds) || seconds <= 0) return `bad --seconds '${v.seconds}'`;
  if (!Number.isInteger(size) || size < 0 || size > 16384) return `bad --size '${v.size}'`;
  const suites = v.suites === undefined ? [...defaultRecordConfig.suites] : parseSuites(v.suites);
  if (typeof suites === 'string') return suites;
  const werift = v['no-werift'] !== true;
  return {
    config: {
      records: v['no-records'] ? undefined : { seconds, size, suites, werift },
      handshakes: v['no-handshakes'] ? undefined : { seconds, werift },
    },
    json: v['no-json'] !== true,
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      seconds: { type: 'string' },
      size: { type: 'string' },
      suites: { type: 'string' },
      'no-werift': { type: 'boolean' },
      'no-records': { type: 'boolean' },
      'no-handshakes': { type: 'boolean' },
      'no-json': { type: 'boolean' },
    },
    strict: true,
  });
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseConfig(args);
  if (typeof parsed === 'string') {
    console.error(parsed);
    return 1;
  }
  const result = await runDtlsBench(parsed.config);
  if (parsed.json) {
    const out = join(here, 'out');
    mkdirSync(out, { recursive: true });
    const file = join(out, `dtls-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${file}`);
  }
  return 0;
}
