/**
 * `npm run bench -- srtp-ghash [--seconds 0.6] [--keys 1,30,300,1000] [--size 1200]
 *  [--rounds 3] [--no-child] [--ecb-release]`: GHASH per-key table size against cache misses
 * with many keys, and the whole AES-GCM SRTP protect beside node:crypto's one-cipher-per-packet
 * GCM (the anchor).
 *
 * Part 1, for each GHASH candidate (bench/srtp/ghash-candidates.ts) and key count: one
 * `size`-byte payload hashed per key, keys round-robin (as an SFU seals one packet per
 * subscriber), ns per 16-byte block of CPU time; `wasm-resident` is lib/srtp/ghash-simd.ts
 * (WebAssembly SIMD, tables resident in linear memory; round 6's copy-in experiment it replaced
 * is in bench/RESULTS.md SRTP). Part 2, for each key count: µs of
 * CPU per packet for rtcd's SrtpSession.protectRtp (one session per key, AEAD_AES_128_GCM)
 * and for native GCM per packet, with the GC pauses seen meanwhile (PerformanceObserver 'gc').
 * Part 3, for each key count: transform-gcm.ts's protectRtp steps (KeystreamRuns, then GHASH
 * update/seal/finish/writeTag) in a bench-only harness, once with the JS Ghash and once with
 * GhashSimd, measured interleaved A/B for `--rounds` rounds (best of each kept).
 * Runs in a child under `--max-semi-space-size=1` (as the SFU bench runs the SFU) unless
 * `--no-child`. `--ecb-release` calls lib/srtp's enableEcbResultRelease() first (keystream
 * runs then free each ECB result at once; see lib/srtp/keystream-runs.ts), to compare.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Ghash } from '../lib/srtp/ghash.js';
import { GhashSimd } from '../lib/srtp/ghash-simd.js';
import { SrtpSession } from '../lib/srtp/index.js';
import {
  ecbResultReleaseEnabled,
  enableEcbResultRelease,
  KeystreamRuns,
} from '../lib/srtp/keystream-runs.js';
import { copyBytes } from '../lib/srtp/views.js';
import {
  Byte16Ghash,
  type GhashCandidate,
  Nibble32Ghash,
  Shoup4Ghash,
  Shoup8Ghash,
  Shoup16Ghash,
  WasmResidentGhash,
} from './srtp/ghash-candidates.js';

export interface GhashBenchConfig {
  /** CPU-time budget per measurement (wall seconds, split in 3 rounds, best counts). */
  seconds: number;
  keys: number[];
  /** RTP packet size (12-byte header + payload) for the packet rows; GHASH over the payload. */
  size: number;
  /** Interleaved A/B rounds of the protect harness (JS Ghash, GhashSimd); default 3. */
  rounds?: number;
}

export const defaultGhashConfig: GhashBenchConfig = {
  seconds: 0.6,
  keys: [1, 30, 300, 1000],
  size: 1200,
  rounds: 3,
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

const CANDIDATES = [
  Byte16Ghash,
  Nibble32Ghash,
  Shoup16Ghash,
  Shoup8Ghash,
  Shoup4Ghash,
  WasmResidentGhash,
];

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
      const ns = cpuNsPerCall(step, config.seconds, 64) / blocks;
      for (const h of hs) h.release?.();
      return ns;
    });
    return { candidate: name, tableBytes, nsPerBlock };
  });
}

function packetOf(size: number, ssrc: number): Buffer {
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
  const plain = packetOf(size, 0x1234);
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
  const plain = packetOf(size, 0x1234);
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

export interface HarnessRow {
  keys: number;
  /** Best µs of CPU per protected packet over the rounds, JS Ghash and GhashSimd. */
  jsUs: number;
  simdUs: number;
  /** Every round's figures, in the order measured (js, simd alternating). */
  jsRounds: number[];
  simdRounds: number[];
}

/** One key of the harness: transform-gcm.ts's GcmKey with the GHASH class chosen. */
interface HarnessKey<G> {
  runs: KeystreamRuns;
  ghash: G;
}

function harnessKeys<G>(keys: number, make: (h: Buffer) => G): HarnessKey<G>[] {
  return Array.from({ length: keys }, () => {
    const ecb = createCipheriv('aes-128-ecb', randomBytes(16), null);
    ecb.setAutoPadding(false);
    const salt = randomBytes(12);
    const s0 = salt.readInt32BE(0);
    const s1 = salt.readInt32BE(4);
    const s2 = salt.readInt32BE(8);
    // RFC 7714 §8.1, as AesGcmTransform's RTP first block.
    const runs = new KeystreamRuns(ecb, (_block, ssrc, index, w) => {
      const roc = Math.floor(index / 65536);
      w.setInt32(0, s0 ^ (ssrc >>> 16));
      w.setInt32(4, s1 ^ ((ssrc << 16) | (roc >>> 16)));
      w.setInt32(8, s2 ^ ((roc << 16) | (index & 0xffff)));
      w.setInt32(12, 1);
    });
    return { runs, ghash: make(ecb.update(Buffer.alloc(16))) };
  });
}

/**
 * AesGcmTransform.protectRtp's steps with the JS Ghash, round-robin over `keys` keys. The
 * GhashSimd copy below is the same code on purpose: one closure per class keeps each call
 * site monomorphic, as transform-gcm.ts is with one class.
 */
function harnessJs(keys: number, size: number): { step: () => void; close: () => void } {
  const ks = harnessKeys(keys, (h) => new Ghash(h));
  const packet = randomBytes(size);
  const out = Buffer.alloc(size + 16);
  const n = size - 12;
  let next = 0;
  let index = 0;
  const step = () => {
    const { runs, ghash: g } = ks[next] as HarnessKey<Ghash>;
    next++;
    if (next === keys) {
      next = 0;
      index++;
    }
    runs.keystream(0x1234, index, 16 + n);
    const v = runs.view;
    const at = runs.viewOffset;
    copyBytes(packet, 0, out, 0, 12);
    g.reset();
    g.update(out, 0, 12);
    g.seal(packet, out, 12, v, at + 16, n);
    g.finish(12, n, v, at);
    g.writeTag(out, size);
  };
  return { step, close: () => {} };
}

/** harnessJs with GhashSimd (keys released by close). */
function harnessSimd(keys: number, size: number): { step: () => void; close: () => void } {
  const ks = harnessKeys(keys, (h) => new GhashSimd(h));
  const packet = randomBytes(size);
  const out = Buffer.alloc(size + 16);
  const n = size - 12;
  let next = 0;
  let index = 0;
  const step = () => {
    const { runs, ghash: g } = ks[next] as HarnessKey<GhashSimd>;
    next++;
    if (next === keys) {
      next = 0;
      index++;
    }
    runs.keystream(0x1234, index, 16 + n);
    const v = runs.view;
    const at = runs.viewOffset;
    copyBytes(packet, 0, out, 0, 12);
    g.reset();
    g.update(out, 0, 12);
    g.seal(packet, out, 12, v, at + 16, n);
    g.finish(12, n, v, at);
    g.writeTag(out, size);
  };
  const close = () => {
    for (const k of ks) k.ghash.release();
  };
  return { step, close };
}

/** Checks that both harnesses seal like node:crypto (a wrong harness must not be measured). */
export function harnessAgrees(size: number): boolean {
  const key = randomBytes(16);
  const salt = randomBytes(12);
  const tags: string[] = [];
  for (const make of [(h: Buffer) => new Ghash(h), (h: Buffer) => new GhashSimd(h)]) {
    const ecb = createCipheriv('aes-128-ecb', key, null);
    ecb.setAutoPadding(false);
    const runs = new KeystreamRuns(ecb, (_b, ssrc, index, w) => {
      w.setInt32(0, salt.readInt32BE(0) ^ (ssrc >>> 16));
      w.setInt32(4, salt.readInt32BE(4) ^ (ssrc << 16));
      w.setInt32(8, salt.readInt32BE(8) ^ (index & 0xffff));
      w.setInt32(12, 1);
    });
    const g = make(ecb.update(Buffer.alloc(16)));
    const packet = packetOf(size, 0x1234);
    const out = Buffer.alloc(size + 16);
    const n = size - 12;
    runs.keystream(0x1234, 0, 16 + n);
    copyBytes(packet, 0, out, 0, 12);
    g.reset();
    g.update(out, 0, 12);
    g.seal(packet, out, 12, runs.view, runs.viewOffset + 16, n);
    g.finish(12, n, runs.view, runs.viewOffset);
    g.writeTag(out, size);
    if (g instanceof GhashSimd) g.release();
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(0x1234, 2);
    for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
    const c = createCipheriv('aes-128-gcm', key, iv);
    c.setAAD(packet.subarray(0, 12));
    const ct = c.update(packet.subarray(12));
    c.final();
    const ok = ct.equals(out.subarray(12, size)) && c.getAuthTag().equals(out.subarray(size));
    tags.push(ok ? 'ok' : 'bad');
  }
  return tags.every((x) => x === 'ok');
}

/**
 * For each key count: the JS-Ghash and GhashSimd harnesses, each warmed, then measured in
 * alternation (js, simd, js, simd…) for config.rounds rounds of config.seconds each.
 */
export function harnessRows(config: GhashBenchConfig): HarnessRow[] {
  return config.keys.map((keys) => {
    const a = harnessJs(keys, config.size);
    const b = harnessSimd(keys, config.size);
    for (let i = 0; i < 2000; i++) {
      a.step();
      b.step();
    }
    const jsRounds: number[] = [];
    const simdRounds: number[] = [];
    for (let r = 0; r < (config.rounds ?? 3); r++) {
      jsRounds.push(cpuNsPerCall(a.step, config.seconds, 256) / 1e3);
      simdRounds.push(cpuNsPerCall(b.step, config.seconds, 256) / 1e3);
    }
    a.close();
    b.close();
    return {
      keys,
      jsUs: Math.min(...jsRounds),
      simdUs: Math.min(...simdRounds),
      jsRounds,
      simdRounds,
    };
  });
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
  log(
    `protectRtp's steps (bench harness), ${config.size} B, keys round-robin: µs CPU per ` +
      `packet, JS Ghash vs GhashSimd, interleaved A/B, best of ${config.rounds ?? 3} rounds`,
  );
  if (!harnessAgrees(config.size)) throw new Error('srtp-ghash: the harness seals wrongly');
  const h = harnessRows(config);
  const hh = ['keys', 'JS Ghash µs', 'GhashSimd µs', 'JS/SIMD', 'rounds (js | simd)'];
  const hb = h.map((r) => [
    String(r.keys),
    r.jsUs.toFixed(2),
    r.simdUs.toFixed(2),
    `${(r.jsUs / r.simdUs).toFixed(2)}×`,
    `${r.jsRounds.map((x) => x.toFixed(2)).join(' ')} | ${r.simdRounds.map((x) => x.toFixed(2)).join(' ')}`,
  ]);
  for (const l of table(hh, hb)) log(`  ${l}`);
  return { ghash: g, packets: p, harness: h };
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string' },
      keys: { type: 'string' },
      size: { type: 'string' },
      rounds: { type: 'string' },
      'no-child': { type: 'boolean' },
      'ecb-release': { type: 'boolean' },
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
    rounds: values.rounds === undefined ? defaultGhashConfig.rounds : Number(values.rounds),
  };
  if (values['ecb-release'] === true && !enableEcbResultRelease()) {
    console.error('--ecb-release: this Node cannot release ECB results');
    return 1;
  }
  console.log(`ECB results released at once: ${ecbResultReleaseEnabled()}`);
  await runGhashBench(config, (l) => console.log(l));
  return 0;
}
