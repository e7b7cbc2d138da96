/**
 * `npm run bench -- srtp [--seconds 1] [--sizes 1200,160] [--heap-packets 20000]
 *  [--no-werift] [--no-libsrtp] [--no-json]`: SRTP protect and unprotect, packets per
 * CPU-second, for every profile of lib/srtp, beside werift-rtp's SrtpSession (the profiles it
 * has), a bare node:crypto loop (one cipher object per packet: the naive ceiling) and libsrtp
 * (native, timed inside the C harness of spec/helpers). Checks the targets (≥ 1.5×
 * werift, ≥ 1.0× the bare loop), reports heap growth per packet in steady state and writes
 * bench/out/srtp-<date>.json. See bench/RESULTS.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SrtpProfileName } from '../lib/srtp/index.js';
import { type Libsrtp, libsrtpSkipReason, startLibsrtp } from '../spec/helpers/libsrtp.js';
import { type HeapGrowth, heapGrowth, interleavedRates } from './srtp/measure.js';
import {
  bareStep,
  benchKeys,
  crossCheck,
  type Direction,
  PROFILES,
  plainPacket,
  rtcdStep,
  weriftStep,
} from './srtp/workloads.js';

export interface SrtpBenchConfig {
  /**
   * Timed seconds per implementation and row (wall clock; rates are per CPU-second), split
   * into three interleaved rounds of which the best counts.
   */
  seconds: number;
  /** RTP packet sizes in bytes, header included. */
  sizes: number[];
  profiles: readonly SrtpProfileName[];
  werift: boolean;
  libsrtp: boolean;
  /** Packets per heap-growth measurement (1,200-byte packets, rtcd rows). */
  heapPackets: number;
}

export const defaultConfig: SrtpBenchConfig = {
  seconds: 1,
  sizes: [1200, 160],
  profiles: PROFILES,
  werift: true,
  libsrtp: true,
  heapPackets: 20_000,
};

export interface SrtpRow {
  size: number;
  profile: SrtpProfileName;
  direction: Direction;
  /** Packets per CPU-second (libsrtp: per second of its own timed loop, one thread). */
  rtcd: number;
  bare: number;
  werift: number | undefined;
  libsrtp: number | undefined;
}

export interface SrtpTargetCheck {
  name: string;
  met: boolean;
  worst: number;
  where: string;
}

export interface SrtpBenchResult {
  date: string;
  node: string;
  config: SrtpBenchConfig;
  rows: SrtpRow[];
  heap: { profile: SrtpProfileName; direction: Direction; growth: HeapGrowth }[];
  targets: SrtpTargetCheck[];
  libsrtpSkipped: string | undefined;
}

/** libsrtp's rate: a short calibration run, then about `seconds` of packets (memory-capped). */
async function libsrtpRate(
  h: Libsrtp,
  profile: SrtpProfileName,
  size: number,
  direction: Direction,
  seconds: number,
): Promise<number> {
  const k = benchKeys(profile);
  const material = Buffer.concat([k.masterKey, k.masterSalt]);
  const plain = plainPacket(size);
  const probe = 5000;
  const ns = await h.bench(direction, 'rtp', profile, material, probe, plain);
  // Unprotect keeps every packet in memory: cap it at ~64 MB; protect stays under 65,536 so
  // the harness's 16-bit sequence numbers never repeat an index.
  const cap = direction === 'unprotect' ? Math.floor(64e6 / (size + 32)) : 65_000;
  const count = Math.max(probe, Math.min(cap, Math.round((seconds * 1e9 * probe) / ns)));
  return count / ((await h.bench(direction, 'rtp', profile, material, count, plain)) / 1e9);
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined ? '—' : `${(a / b).toFixed(2)}×`;
}

function rate(n: number | undefined): string {
  if (n === undefined) return '—';
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${Math.round(n / 1e3)} k`;
}

export function checkTargets(rows: readonly SrtpRow[]): SrtpTargetCheck[] {
  const worst = (name: string, min: number, of: (r: SrtpRow) => number | undefined) => {
    let w = Number.POSITIVE_INFINITY;
    let where = 'no row';
    for (const r of rows) {
      const x = of(r);
      if (x === undefined || x >= w) continue;
      w = x;
      where = `${r.profile} ${r.size} B ${r.direction}`;
    }
    return { name, met: w >= min, worst: w, where };
  };
  return [
    worst('≥ 1.5× werift', 1.5, (r) => (r.werift === undefined ? undefined : r.rtcd / r.werift)),
    worst('≥ 1.0× bare node:crypto loop', 1.0, (r) => r.rtcd / r.bare),
  ];
}

export function formatTable(rows: readonly SrtpRow[]): string[] {
  const head = [
    'size',
    'profile',
    'direction',
    'rtcd pkt/s',
    'werift',
    '× werift',
    'bare loop',
    '× bare',
    'libsrtp',
    '× libsrtp',
  ];
  const body = rows.map((r) => [
    `${r.size} B`,
    r.profile,
    r.direction,
    rate(r.rtcd),
    rate(r.werift),
    ratio(r.rtcd, r.werift),
    rate(r.bare),
    ratio(r.rtcd, r.bare),
    rate(r.libsrtp),
    ratio(r.rtcd, r.libsrtp),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), ...body.map(line)];
}

/** Runs every row and the heap check, logging as it goes. */
export async function runSrtpBench(
  config: SrtpBenchConfig,
  log: (line: string) => void,
): Promise<SrtpBenchResult> {
  const skip = config.libsrtp ? libsrtpSkipReason() : 'not asked (--no-libsrtp)';
  const libsrtp = skip === false ? await startLibsrtp() : undefined;
  log(`SRTP protect/unprotect, node ${process.version}, ${config.seconds} s per row`);
  if (skip !== false) log(`libsrtp rows skipped: ${skip}`);
  const rows: SrtpRow[] = [];
  try {
    for (const size of config.sizes) {
      for (const profile of config.profiles) {
        crossCheck(profile, size, config.werift);
        for (const direction of ['protect', 'unprotect'] as const) {
          const w = config.werift ? weriftStep(profile, size, direction) : undefined;
          const steps = [rtcdStep(profile, size, direction), bareStep(profile, size, direction)];
          if (w !== undefined) steps.push(w);
          const [rtcd = 0, bare = 0, werift] = interleavedRates(steps, config.seconds);
          const row: SrtpRow = {
            size,
            profile,
            direction,
            rtcd,
            bare,
            werift,
            libsrtp:
              libsrtp === undefined
                ? undefined
                : await libsrtpRate(libsrtp, profile, size, direction, config.seconds),
          };
          rows.push(row);
          log(`  ${formatTable([row])[1]}`);
        }
      }
    }
  } finally {
    await libsrtp?.close();
  }
  const heap: SrtpBenchResult['heap'] = [];
  const heapSize = config.sizes.includes(1200) ? 1200 : (config.sizes[0] ?? 1200);
  for (const profile of config.profiles) {
    for (const direction of ['protect', 'unprotect'] as const) {
      const growth = await heapGrowth(rtcdStep(profile, heapSize, direction), config.heapPackets);
      heap.push({ profile, direction, growth });
    }
  }
  const targets = checkTargets(rows);
  const result: SrtpBenchResult = {
    date: new Date().toISOString(),
    node: process.version,
    config,
    rows,
    heap,
    targets,
    libsrtpSkipped: skip === false ? undefined : skip,
  };
  for (const l of report(result, heapSize)) log(l);
  return result;
}

function report(r: SrtpBenchResult, heapSize: number): string[] {
  const out = ['', ...formatTable(r.rows), ''];
  out.push('werift-rtp rows: AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM only (all it has).');
  for (const t of r.targets) {
    const worst = Number.isFinite(t.worst) ? `${t.worst.toFixed(2)}× at ${t.where}` : t.where;
    out.push(`target ${t.name}: ${t.met ? 'met' : 'NOT met'} (worst ${worst})`);
  }
  const forced = r.heap.every((h) => h.growth.forcedGc);
  out.push(
    `heap growth, rtcd, ${heapSize}-byte packets, ${r.config.heapPackets} packets each ` +
      (forced
        ? '(GC forced before; used = no GC forced in between, retained = after a forced GC):'
        : '(no GC control: raw heapUsed deltas, a GC in between hides allocation):'),
  );
  for (const { profile, direction, growth: g } of r.heap) {
    const retained =
      g.retainedBytesPerPacket === undefined
        ? ''
        : `, retained ${g.retainedBytesPerPacket.toFixed(3)} B/packet`;
    out.push(
      `  ${profile} ${direction}: used ${g.usedBytesPerPacket.toFixed(1)} B/packet, ` +
        `${g.gcRuns} GC run(s)${retained}`,
    );
  }
  return out;
}

function parseConfig(args: string[]): SrtpBenchConfig | string {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: String(defaultConfig.seconds) },
      sizes: { type: 'string', default: defaultConfig.sizes.join(',') },
      'heap-packets': { type: 'string', default: String(defaultConfig.heapPackets) },
      'no-werift': { type: 'boolean', default: false },
      'no-libsrtp': { type: 'boolean', default: false },
      'no-json': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const sizes = values.sizes.split(',').map(Number);
  const heapPackets = Number(values['heap-packets']);
  if (!(seconds > 0)) return '--seconds must be positive';
  if (!sizes.every((s) => Number.isInteger(s) && s >= 12 && s <= 1500)) {
    return '--sizes: comma-separated packet sizes from 12 to 1500 bytes';
  }
  if (!(Number.isInteger(heapPackets) && heapPackets > 0)) return '--heap-packets: an integer';
  return {
    ...defaultConfig,
    seconds,
    sizes,
    heapPackets,
    werift: !values['no-werift'],
    libsrtp: !values['no-libsrtp'],
  };
}

export async function main(args: string[]): Promise<number> {
  const config = parseConfig(args);
  if (typeof config === 'string') {
    console.error(
      `${config}\nusage: npm run bench -- srtp [--seconds S] [--sizes 1200,160] ` +
        '[--heap-packets N] [--no-werift] [--no-libsrtp] [--no-json]',
    );
    return 1;
  }
  const result = await runSrtpBench(config, console.log);
  if (!args.includes('--no-json')) {
    const dir = join(dirname(fileURLToPath(import.meta.url)), 'out');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `srtp-${result.date.slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${file}`);
  }
  return 0;
}
