/**
 * `npm run bench -- srtp [--seconds 1] [--sizes 1200,160] [--rtcp-sizes 1000,100]
 *  [--profiles P,…] [--heap-packets 200000] [--no-werift] [--no-libsrtp] [--no-json]`: SRTP and SRTCP protect
 * and unprotect, packets per CPU-second, for every profile of lib/srtp, beside werift-rtp's
 * SrtpSession / SrtcpSession (the profiles it has), a bare node:crypto loop (one cipher object
 * per packet: the naive ceiling) and libsrtp (native, SRTP rows, timed inside the C harness of
 * spec/helpers). Each row also shows rtcd's JS heap allocated per packet (heap B/pkt) and the
 * run checks that none is retained. Checks the targets (≥ 1.5× werift, ≥ 1.0× the
 * bare loop, no retained heap) and writes bench/out/srtp-<date>.json. See bench/RESULTS.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SrtpProfileName } from '../lib/srtp/index.js';
import { type Libsrtp, libsrtpSkipReason, startLibsrtp } from '../spec/helpers/libsrtp.js';
import { type HeapGrowth, heapGrowth, interleavedRates } from './srtp/measure.js';
import {
  bareRtcpStep,
  bareStep,
  benchKeys,
  crossCheck,
  crossCheckRtcp,
  type Direction,
  PROFILES,
  plainPacket,
  rtcdRtcpStep,
  rtcdStep,
  type Step,
  weriftRtcpStep,
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
  /** Compound RTCP (SR + SDES) sizes in bytes for the SRTCP rows; empty for none. */
  rtcpSizes: number[];
  profiles: readonly SrtpProfileName[];
  werift: boolean;
  libsrtp: boolean;
  /** Packets per heap measurement (every row, rtcd); 0 for none. */
  heapPackets: number;
}

export const defaultConfig: SrtpBenchConfig = {
  seconds: 1,
  sizes: [1200, 160],
  rtcpSizes: [1000, 100],
  profiles: PROFILES,
  werift: true,
  libsrtp: true,
  heapPackets: 200_000,
};

export interface SrtpRow {
  kind: 'SRTP' | 'SRTCP';
  size: number;
  profile: SrtpProfileName;
  direction: Direction;
  /** Packets per CPU-second (libsrtp: per second of its own timed loop, one thread). */
  rtcd: number;
  bare: number;
  werift: number | undefined;
  libsrtp: number | undefined;
  /** rtcd's heap growth per packet (see HeapGrowth), when measured. */
  heap: HeapGrowth | undefined;
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
      where = `${r.kind} ${r.profile} ${r.size} B ${r.direction}`;
    }
    return { name, met: w >= min, worst: w, where };
  };
  // Retained heap: "worst" is the smallest margin under 64 B/packet (a noise allowance far
  // below one object per packet: 64 B × 200,000 packets would be 12.8 MB kept).
  const retained = worst('no retained heap per packet (< 64 B/pkt after GC)', 0, (r) => {
    const b = r.heap?.retainedBytesPerPacket;
    return b === undefined ? undefined : 64 - b;
  });
  return [
    worst('≥ 1.5× werift', 1.5, (r) => (r.werift === undefined ? undefined : r.rtcd / r.werift)),
    worst('≥ 1.0× bare node:crypto loop', 1.0, (r) => r.rtcd / r.bare),
    retained,
  ];
}

export function formatTable(rows: readonly SrtpRow[]): string[] {
  const head = [
    'kind',
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
    'heap B/pkt',
  ];
  const body = rows.map((r) => [
    r.kind,
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
    r.heap === undefined ? '—' : r.heap.usedBytesPerPacket.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), ...body.map(line)];
}

interface RowSteps {
  rtcd: () => Step;
  bare: () => Step;
  werift: () => Step | undefined;
  libsrtp: () => Promise<number | undefined>;
}

async function runRow(
  config: SrtpBenchConfig,
  row: Pick<SrtpRow, 'kind' | 'size' | 'profile' | 'direction'>,
  steps: RowSteps,
): Promise<SrtpRow> {
  const w = config.werift ? steps.werift() : undefined;
  const timed = [steps.rtcd(), steps.bare()];
  if (w !== undefined) timed.push(w);
  const [rtcd = 0, bare = 0, werift] = interleavedRates(timed, config.seconds);
  const heap = config.heapPackets > 0 ? heapGrowth(steps.rtcd(), config.heapPackets) : undefined;
  return { ...row, rtcd, bare, werift, libsrtp: await steps.libsrtp(), heap };
}

/** Runs every row (rates, then rtcd's heap growth), logging as it goes. */
export async function runSrtpBench(
  config: SrtpBenchConfig,
  log: (line: string) => void,
): Promise<SrtpBenchResult> {
  const skip = config.libsrtp ? libsrtpSkipReason() : 'not asked (--no-libsrtp)';
  const libsrtp = skip === false ? await startLibsrtp() : undefined;
  log(`SRTP/SRTCP protect/unprotect, node ${process.version}, ${config.seconds} s per row`);
  if (skip !== false) log(`libsrtp rows skipped: ${skip}`);
  const rows: SrtpRow[] = [];
  const add = (row: SrtpRow) => {
    rows.push(row);
    log(`  ${formatTable([row])[1]}`);
  };
  try {
    for (const size of config.sizes) {
      for (const profile of config.profiles) {
        crossCheck(profile, size, config.werift);
        for (const direction of ['protect', 'unprotect'] as const) {
          const row = { kind: 'SRTP' as const, size, profile, direction };
          add(
            await runRow(config, row, {
              rtcd: () => rtcdStep(profile, size, direction),
              bare: () => bareStep(profile, size, direction),
              werift: () => weriftStep(profile, size, direction),
              libsrtp: async () =>
                libsrtp === undefined
                  ? undefined
                  : await libsrtpRate(libsrtp, profile, size, direction, config.seconds),
            }),
          );
        }
      }
    }
  } finally {
    await libsrtp?.close();
  }
  for (const size of config.rtcpSizes) {
    for (const profile of config.profiles) {
      crossCheckRtcp(profile, size, config.werift);
      for (const direction of ['protect', 'unprotect'] as const) {
        const row = { kind: 'SRTCP' as const, size, profile, direction };
        add(
          await runRow(config, row, {
            rtcd: () => rtcdRtcpStep(profile, size, direction),
            bare: () => bareRtcpStep(profile, size, direction),
            werift: () => weriftRtcpStep(profile, size, direction),
            libsrtp: async () => undefined,
          }),
        );
      }
    }
  }
  const targets = checkTargets(rows);
  const result: SrtpBenchResult = {
    date: new Date().toISOString(),
    node: process.version,
    config,
    rows,
    targets,
    libsrtpSkipped: skip === false ? undefined : skip,
  };
  for (const l of report(result)) log(l);
  return result;
}

function report(r: SrtpBenchResult): string[] {
  const out = ['', ...formatTable(r.rows), ''];
  out.push('werift-rtp rows: AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM only (all it has).');
  out.push('SRTCP rows: compound SR + SDES; libsrtp is timed on SRTP only.');
  for (const t of r.targets) {
    const worst = Number.isFinite(t.worst) ? `${t.worst.toFixed(2)} at ${t.where}` : t.where;
    out.push(`target ${t.name}: ${t.met ? 'met' : 'NOT met'} (worst ${worst})`);
  }
  const measured = r.rows.filter((row) => row.heap !== undefined);
  if (measured.length > 0) {
    const forced = measured.every((row) => row.heap?.forcedGc === true);
    const retained = measured.map((row) => row.heap?.retainedBytesPerPacket ?? Number.NaN);
    const skipped = measured.reduce((n, row) => n + (row.heap?.skippedChunks ?? 0), 0);
    out.push(
      "heap B/pkt: rtcd's JS heap allocated per packet (short-lived garbage included), " +
        (forced
          ? `sampled in chunks between forced GCs (${skipped} chunk(s) with a GC left out); ` +
            `retained after a final GC over ${r.config.heapPackets} packets per row: ` +
            `${Math.min(...retained).toFixed(2)} to ${Math.max(...retained).toFixed(2)} B/pkt`
          : 'raw heapUsed deltas (no GC control: a GC in between hides allocation)'),
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
      'rtcp-sizes': { type: 'string', default: defaultConfig.rtcpSizes.join(',') },
      profiles: { type: 'string', default: defaultConfig.profiles.join(',') },
      'heap-packets': { type: 'string', default: String(defaultConfig.heapPackets) },
      'no-werift': { type: 'boolean', default: false },
      'no-libsrtp': { type: 'boolean', default: false },
      'no-json': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const sizes = values.sizes.split(',').map(Number);
  const heapPackets = Number(values['heap-packets']);
  const rtcpSizes = values['rtcp-sizes'] === '' ? [] : values['rtcp-sizes'].split(',').map(Number);
  if (!(seconds > 0)) return '--seconds must be positive';
  if (!sizes.every((s) => Number.isInteger(s) && s >= 12 && s <= 1500)) {
    return '--sizes: comma-separated packet sizes from 12 to 1500 bytes';
  }
  if (!rtcpSizes.every((s) => Number.isInteger(s) && s % 4 === 0 && s >= 40 && s <= 1024)) {
    return '--rtcp-sizes: comma-separated multiples of 4 from 40 to 1024 (or empty)';
  }
  if (!(Number.isInteger(heapPackets) && heapPackets >= 0)) return '--heap-packets: an integer';
  const profiles = PROFILES.filter((p) => values.profiles.split(',').includes(p));
  if (profiles.length !== values.profiles.split(',').length) {
    return `--profiles: comma-separated, of ${PROFILES.join(', ')}`;
  }
  return {
    ...defaultConfig,
    seconds,
    sizes,
    rtcpSizes,
    profiles,
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
        '[--rtcp-sizes 1000,100] [--profiles P,…] [--heap-packets N] [--no-werift] ' +
        '[--no-libsrtp] [--no-json]',
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
