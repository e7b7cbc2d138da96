/**
 * `npm run bench -- srtp-ghash [--seconds 0.6] [--keys 1,30,300,1000] [--size 1200]
 *  [--no-child]`: GHASH per-key table size against cache misses with many keys, and the
 * whole AES-GCM SRTP protect beside node:crypto's one-cipher-per-packet GCM (the anchor).
 *
 * Part 1, for each GHASH candidate (bench/srtp/ghash-candidates.ts) and key count: one
 * `size`-byte payload hashed per key, keys round-robin (as an SFU seals one packet per
 * subscriber), ns per 16-byte block of CPU time; `wasm-simd` (bench/srtp/ghash-wasm.ts) is the
 * WebAssembly SIMD experiment, measured here with its copies in (not used by lib/). Part 2, for each key count: µs of CPU per
 * packet for rtcd's SrtpSession.protectRtp (one session per key, AEAD_AES_128_GCM) and for
 * native GCM per packet, with the GC pauses seen meanwhile (PerformanceObserver 'gc').
 * Runs in a child under `--max-semi-space-size=1` (as the SFU bench runs the SFU) unless
 * `--no-child`.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SrtpSession } from '../lib/srtp/index.js';
import {
  Byte16Ghash,
  type GhashCandidate,
  Nibble32Ghash,
  Shoup4Ghash,
  Shoup8Ghash,
  Shoup16Ghash,
  WasmGhash,
} from './srtp/ghash-candidates.js';

export interface GhashBenchConfig {
  /** CPU-time budget per measurement (wall seconds, split in 3 rounds, best counts). */
  seconds: number;
  keys: number[];
  /** RTP packet size (12-byte header + payload) for the packet rows; GHASH over the payload. */
  size: number;
}

export const defaultGhashConfig: GhashBenchConfig = {
  seconds: 0.6,
  keys: [1, 30, 300, 1000],
  size: 1200,
};

export interface GcStats {
  pauses: number;
  totalMs: number;
  maxMs: number;
}

export interface PacketRow {
  keys: number;
  rtcdUs: number;
  nativeUs: number;
  rtcdGc: GcStats;
  nativeGc: GcStats;
}

export interface GhashRow {
  candidate: string;
  tableBytes: number;
  /** ns per 16-byte block, per key count (same order as config.keys). */
  nsPerBlock: number[];
}

const CANDIDATES = [Byte16Ghash, Nibble32Ghash, Shoup16Ghash, Shoup8Ghash, Shoup4Ghash, WasmGhash];

/** Best CPU ns per call of `f` over 3 rounds of `seconds / 3` wall time, batched by `batch`. */
function cpuNsPerCall(f: () => void, seconds: number, batch: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const until = performance.now() + (seconds * 1000) / 3;
    const cpu0 = process.cpuUsage();
    let n = 0;
    while (performance.now() < until) {
      for (let i = 0; i < batch; i++) f();
      n += batch;
    }
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, ((cpu.user + cpu.system) * 1000) / n);
  }
  return best;
}

/** GC pauses during `f` (entries arrive asynchronously: awaited after). */
async function withGc<T>(f: () => T): Promise<{ value: T; gc: GcStats }> {
  const gc: GcStats = { pauses: 0, totalMs: 0, maxMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.pauses++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const value = f();
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  return { value, gc };
}

export function ghashRows(config: GhashBenchConfig): GhashRow[] {
  const payload = randomBytes(config.size - 12);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const blocks = payload.length >>> 4;
  const end = payload.byteOffset + blocks * 16;
  return CANDIDATES.map((C) => {
    let name = '';
    let tableBytes = 0;
    const nsPerBlock = config.keys.map((k) => {
      const hs: GhashCandidate[] = Array.from({ length: k }, () => new C(randomBytes(16)));
      name = hs[0]?.name ?? '';
      tableBytes = hs[0]?.tableBytes ?? 0;
      let next = 0;
      const step = () => {
        const h = hs[next] as GhashCandidate;
        next = next + 1 === k ? 0 : next + 1;
        h.blocks(view, payload.byteOffset, end);
      };
      return cpuNsPerCall(step, config.seconds, 64) / blocks;
    });
    return { candidate: name, tableBytes, nsPerBlock };
  });
}

function packet(size: number, ssrc: number): Buffer {
  const b = randomBytes(size);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** rtcd protect: one SrtpSession per key, round-robin, sequence numbers counting up. */
function rtcdProtect(keys: number, size: number): () => void {
  const sessions = Array.from(
    { length: keys },
    () =>
      new SrtpSession({
        profile: 'AEAD_AES_128_GCM',
        keys: { masterKey: randomBytes(16), masterSalt: randomBytes(12) },
      }),
  );
  const plain = packet(size, 0x1234);
  const out = Buffer.alloc(size + 16);
  let next = 0;
  let seq = 0;
  return () => {
    const s = sessions[next] as SrtpSession;
    next++;
    if (next === keys) {
      next = 0;
      seq = (seq + 1) & 0xffff;
      plain[2] = seq >>> 8;
      plain[3] = seq & 0xff;
    }
    const n = s.protectRtp(plain, size, out);
    if (typeof n !== 'number') throw new Error(`protect: ${n.error}`);
  };
}

/** node:crypto GCM, one cipher per packet (rtcd's path for large payloads before round 5). */
function nativeProtect(keys: number, size: number): () => void {
  const keyObjects: KeyObject[] = Array.from({ length: keys }, () =>
    createSecretKey(randomBytes(16)),
  );
  const plain = packet(size, 0x1234);
  const out = Buffer.alloc(size + 16);
  const iv = Buffer.alloc(12);
  let next = 0;
  let seq = 0;
  return () => {
    const key = keyObjects[next] as KeyObject;
    next = next + 1 === keys ? 0 : next + 1;
    seq++;
    iv.writeUInt32BE(seq, 8);
    const c = createCipheriv('aes-128-gcm', key, iv, { authTagLength: 16 });
    c.setAAD(plain.subarray(0, 12));
    out.set(c.update(plain.subarray(12, size)), 12);
    c.final();
    out.set(c.getAuthTag(), size);
  };
}

export async function packetRows(config: GhashBenchConfig): Promise<PacketRow[]> {
  const rows: PacketRow[] = [];
  for (const keys of config.keys) {
    const r = rtcdProtect(keys, config.size);
    const n = nativeProtect(keys, config.size);
    for (let i = 0; i < 2000; i++) {
      r();
      n();
    }
    const a = await withGc(() => cpuNsPerCall(r, config.seconds, 256));
    const b = await withGc(() => cpuNsPerCall(n, config.seconds, 256));
    rows.push({
      keys,
      rtcdUs: a.value / 1e3,
      nativeUs: b.value / 1e3,
      rtcdGc: a.gc,
      nativeGc: b.gc,
    });
  }
  return rows;
}

function table(head: string[], body: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), ...body.map(line)];
}

function gcText(g: GcStats): string {
  return `${g.pauses} (${g.totalMs.toFixed(1)} ms, max ${g.maxMs.toFixed(2)})`;
}

export async function runGhashBench(config: GhashBenchConfig, log: (l: string) => void) {
  log(`GHASH, ${config.size - 12}-byte payload per key, keys round-robin: ns per 16-byte block`);
  const g = ghashRows(config);
  const gh = ['candidate', 'table/key', ...config.keys.map((k) => `${k} keys`)];
  const gb = g.map((r) => [
    r.candidate,
    `${r.tableBytes / 1024} kB`,
    ...r.nsPerBlock.map((x) => x.toFixed(1)),
  ]);
  for (const l of table(gh, gb)) log(`  ${l}`);
  log(`AES-128-GCM SRTP protect, ${config.size} B, keys round-robin: µs CPU per packet`);
  const p = await packetRows(config);
  const ph = ['keys', 'rtcd µs', 'native µs', 'rtcd/native', 'rtcd GC pauses', 'native GC pauses'];
  const pb = p.map((r) => [
    String(r.keys),
    r.rtcdUs.toFixed(2),
    r.nativeUs.toFixed(2),
    `${(r.rtcdUs / r.nativeUs).toFixed(2)}×`,
    gcText(r.rtcdGc),
    gcText(r.nativeGc),
  ]);
  for (const l of table(ph, pb)) log(`  ${l}`);
  return { ghash: g, packets: p };
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string' },
      keys: { type: 'string' },
      size: { type: 'string' },
      'no-child': { type: 'boolean' },
    },
  });
  if (values['no-child'] !== true) {
    const run = fileURLToPath(new URL('./run.ts', import.meta.url));
    const child = spawnSync(
      process.execPath,
      ['--max-semi-space-size=1', '--import', 'tsx', run, 'srtp-ghash', ...args, '--no-child'],
      { stdio: 'inherit' },
    );
    return child.status ?? 1;
  }
  const config: GhashBenchConfig = {
    seconds: values.seconds === undefined ? defaultGhashConfig.seconds : Number(values.seconds),
    keys: values.keys === undefined ? defaultGhashConfig.keys : values.keys.split(',').map(Number),
    size: values.size === undefined ? defaultGhashConfig.size : Number(values.size),
  };
  await runGhashBench(config, (l) => console.log(l));
  return 0;
}
