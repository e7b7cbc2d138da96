/**
 * `npm run bench -- sfu [--quick] [--no-out] [--only core|e2e] [--seconds 3] [--max 1000]
 *  [--steps 100,200,300,500,700,1000] [--room-size 10] [--clients 2] [--sfu-workers 1]
 *  [--idle-subscribers 200]
 *  [--budget 100] [--core-seconds 1] [--core-subscribers 200] [--memory-subscribers 1000]
 *  [--profile AEAD_AES_128_GCM] [--cpu-prof DIR] [--verify-every 16] [--sfu-node-option X]…
 *  [--client-node-option X]… [--client-tick-ms 4] [--dgram-send] [--pin-cpus] [--sfu-arrival]
 *  [--sfu-nice N] [--split-rooms] [--target-repeats 3] [--warmup-ms 1200] [--stall-check 2]
 *  [--no-relay] [--relay-work-us 0]`
 *
 * Two parts, one run:
 * - end to end (bench/sfu/e2e.ts): `SfuServer` in its own process (`--sfu-workers N`: N of
 *   them, each on its own UDP port, rooms spread round-robin, a room whole in one), light
 *   SRTP clients in others (WHIP/WHEP, ICE, DTLS), rooms of 1 publisher + `--room-size`
 *   subscribers at 1 Mbit/s; subscriber tracks stepped up to `--max` (or the `--budget` in
 *   seconds, or the first step over 1% loss), `--seconds` of SFU path per step and then the
 *   direct path; tracks per core, added latency, the issue's target at the step nearest 500
 *   tracks, memory per subscriber (one worker only);
 * - router core only (bench/sfu/core.ts): the router and SRTP with no sockets, the ceiling
 *   the end-to-end figures can approach.
 * Subscribers read every packet's send stamp from its ciphertext (one AES block) and fully
 * unprotect 1 in `--verify-every` (all with `--quick`), reporting any that fail.
 * `--dgram-send` makes the SFU send with Node's `socket.send` instead of through the socket's
 * handle (`fastUdpSend: false`), to compare. `--pin-cpus` gives the SFU a core of its own
 * (taskset: the SFU on the last CPU, the clients on the others). `--sfu-arrival` splits the
 * SFU path's latency at the router: send stamp → the router has the packet, and the router's
 * handling of it (a wrapper per packet, so a diagnostic). `--sfu-nice N` runs the SFU at that
 * scheduling priority (e.g. -10: ahead of the clients sharing its cores). `--split-rooms` puts
 * each room's subscribers in another client process than its publisher, so the direct path
 * crosses processes as the SFU path does. `--target-repeats N` (default 3) measures the step
 * closest to 500 tracks N times and reports the run with the median added p99 (one run's p99
 * moves by milliseconds with the machine's other work). `--stall-check S` (default 2, 0 skips)
 * runs bench/cpu-stalls.ts for S seconds before and after the ramp: how much of each CPU a
 * spinning thread got, the host's share of a p99. Each step also runs the direct path's
 * packets through a bare Node relay in the SFU's process (bench/sfu/bare-relay.ts: no SRTP, no
 * routing) for as long as the direct path: the least a process in the SFU's place adds here,
 * printed under the row and next to the target (`--no-relay` skips it; `--relay-work-us N`
 * makes it spin N µs per datagram it copies, to load it like the SFU without the SFU's code).
 * `--cpu-prof DIR` writes a V8 CPU profile of each SFU worker and each client process.
 * `--quick` is the smoke-test size (a few seconds). Writes bench/out/sfu-<date>.json (not with
 * `--quick` or `--no-out`). Results: bench/RESULTS.md, "SFU".
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SMALL_SEMI_SPACE_FLAG } from '../lib/cli/node-flags.js';
import type { SrtpProfileName } from '../lib/srtp/index.js';
import {
  type CoreBenchConfig,
  type CoreBenchResult,
  formatCoreRows,
  runCoreBench,
} from './sfu/core.js';
import { benchE2e, type E2eOptions, type E2eResult } from './sfu/e2e.js';
import { type JanusArgs, janusArgs, runJanusRows } from './sfu/janus.js';
import { PACKET_BYTES, PACKETS_PER_SECOND, SEND_TICK_MS, VERIFY_EVERY } from './sfu/protocol.js';
import { formatE2eSummary, STEP_HEADER } from './sfu/report.js';

export { type CoreBenchConfig, type CoreBenchResult, runCoreBench } from './sfu/core.js';

export interface SfuBenchConfig {
  only: 'core' | 'e2e' | undefined;
  /** Where to write the full result as JSON (`bench/out/sfu-<date>.json`); none in --quick. */
  outDir: string | undefined;
  core: CoreBenchConfig;
  e2e: E2eOptions;
}

export interface SfuBenchResult {
  core?: CoreBenchResult;
  e2e?: E2eResult;
}

const USAGE = [
  'usage: npm run bench -- sfu [--quick] [--no-out] [--only core|e2e] [--cpu-prof DIR]',
  '  end to end: [--steps 100,200,300,500,700,1000] [--max 1000] [--seconds 3]',
  '    [--room-size 10] [--clients 2] [--sfu-workers 1] [--idle-subscribers 200] [--budget 100]',
  '    [--client-tick-ms 4] [--sfu-node-option X]... [--client-node-option X]...',
  '    [--dgram-send] [--pin-cpus] [--sfu-arrival] [--sfu-nice N] [--split-rooms]',
  '    [--target-repeats 3] [--warmup-ms 1200] [--stall-check 2] [--no-relay]',
  '    [--relay-work-us 0]',
  '  router core: [--core-seconds 1] [--core-subscribers 200] [--memory-subscribers 1000]',
  '    [--profile AEAD_AES_128_GCM]',
].join('\n');

const PROFILES: SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

function integer(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= min && n <= max)) {
    throw new TypeError(`--${name} must be an integer ${min}-${max}, got ${v}`);
  }
  return n;
}

function seconds(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!(n > 0 && n <= max)) throw new TypeError(`--${name} must be in (0, ${max}], got ${v}`);
  return n;
}

function stallCheck(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 60)) throw new TypeError(`--stall-check must be in [0, 60] s, got ${v}`);
  return n;
}

/** Parses the options; throws `TypeError` naming the bad one. */
export function parseSfuArgs(args: string[]): SfuBenchConfig {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      'no-out': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      only: { type: 'string' },
      seconds: { type: 'string' },
      max: { type: 'string' },
      steps: { type: 'string' },
      'room-size': { type: 'string' },
      clients: { type: 'string' },
      'sfu-workers': { type: 'string' },
      'idle-subscribers': { type: 'string' },
      budget: { type: 'string' },
      'verify-every': { type: 'string' },
      'sfu-node-option': { type: 'string', multiple: true },
      'client-node-option': { type: 'string', multiple: true },
      'client-tick-ms': { type: 'string' },
      'core-seconds': { type: 'string' },
      'core-subscribers': { type: 'string' },
      'memory-subscribers': { type: 'string' },
      profile: { type: 'string', default: 'AEAD_AES_128_GCM' },
      'dgram-send': { type: 'boolean', default: false },
      'pin-cpus': { type: 'boolean', default: false },
      'stall-check': { type: 'string' },
      'sfu-arrival': { type: 'boolean', default: false },
      'split-rooms': { type: 'boolean', default: false },
      'no-relay': { type: 'boolean', default: false },
      'relay-work-us': { type: 'string' },
      'target-repeats': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'sfu-nice': { type: 'string' },
    },
  });
  const q = v.quick;
  if (v.only !== undefined && v.only !== 'core' && v.only !== 'e2e') {
    throw new TypeError(`--only takes core or e2e, got ${v.only}`);
  }
  const profile = PROFILES.find((p) => p === v.profile);
  if (!profile) throw new TypeError(`--profile must be one of ${PROFILES.join(', ')}`);
  const steps = (v.steps ?? (q ? '2,4' : '100,200,300,500,700,1000'))
    .split(',')
    .map((s) => integer('steps', s.trim(), 1, 100_000));
  return {
    only: v.only,
    outDir: q || v['no-out'] ? undefined : fileURLToPath(new URL('out', import.meta.url)),
    core: {
      seconds: seconds('core-seconds', v['core-seconds'] ?? (q ? '0.05' : '1'), 60),
      subscribers: integer('core-subscribers', v['core-subscribers'] ?? (q ? '3' : '200'), 1, 5000),
      memorySubscribers: integer(
        'memory-subscribers',
        v['memory-subscribers'] ?? (q ? '20' : '1000'),
        1,
        20_000,
      ),
      profile,
    },
    e2e: {
      steps,
      maxTracks: integer('max', v.max ?? (q ? '4' : '1000'), 1, 100_000),
      roomSize: integer('room-size', v['room-size'] ?? (q ? '2' : '10'), 1, 1000),
      seconds: seconds('seconds', v.seconds ?? (q ? '0.5' : '3'), 60),
      clientProcesses: integer('clients', v.clients ?? (q ? '1' : '2'), 1, 8),
      sfuWorkers: integer('sfu-workers', v['sfu-workers'] ?? '1', 1, 16),
      idleSubscribers: integer(
        'idle-subscribers',
        v['idle-subscribers'] ?? (q ? '2' : '200'),
        1,
        10_000,
      ),
      budgetSeconds: seconds('budget', v.budget ?? (q ? '20' : '100'), 3600),
      maxLoss: 0.01,
      verifyEvery: integer(
        'verify-every',
        v['verify-every'] ?? (q ? '1' : String(VERIFY_EVERY)),
        1,
        1_000_000,
      ),
      ...(q ? { warmupMs: 500, drainMs: 1000, bareMs: 100 } : {}),
      ...(v['warmup-ms'] === undefined
        ? {}
        : { warmupMs: integer('warmup-ms', v['warmup-ms'], 100, 60_000) }),
      ...(v['cpu-prof'] === undefined ? {} : { cpuProfileDir: v['cpu-prof'] }),
      // As `rtcd sfu` runs (its bin's shebang); `--sfu-node-option` replaces it (e.g.
      // `--sfu-node-option=--max-semi-space-size=16` for Node's default young generation).
      sfuNodeOptions: v['sfu-node-option'] ?? [SMALL_SEMI_SPACE_FLAG],
      // The clients too: with Node's default young generation each client process made a
      // mark-sweep a second or more (10-30 ms each, in both paths' p99 and bursting the
      // publishers' catch-up sends into the SFU); with 1 MB semi-spaces only scavenges of ~1 ms.
      clientNodeOptions: v['client-node-option'] ?? [SMALL_SEMI_SPACE_FLAG],
      tickMs: integer('client-tick-ms', v['client-tick-ms'] ?? String(SEND_TICK_MS), 1, 100),
      dgramSend: v['dgram-send'],
      pinCpus: v['pin-cpus'],
      sfuArrival: v['sfu-arrival'],
      splitRooms: v['split-rooms'],
      relay: !v['no-relay'],
      ...(v['relay-work-us'] === undefined
        ? {}
        : { relayWorkUs: integer('relay-work-us', v['relay-work-us'], 0, 1000) }),
      targetRepeats: integer('target-repeats', v['target-repeats'] ?? (q ? '1' : '3'), 1, 20),
      stallCheckSeconds:
        v['stall-check'] === undefined ? (q ? 0.1 : 2) : stallCheck(v['stall-check']),
      ...(v['sfu-nice'] === undefined
        ? {}
        : { sfuNice: integer('sfu-nice', v['sfu-nice'], -20, 19) }),
    },
  };
}

/** Runs the parts `c.only` selects, printing as it goes. */
export async function runSfuBench(
  c: SfuBenchConfig,
  log: (line: string) => void = console.log,
): Promise<SfuBenchResult> {
  const out: SfuBenchResult = {};
  if (c.only !== 'core') {
    const e = c.e2e;
    const workers = e.sfuWorkers ?? 1;
    log(
      `SFU end to end, node ${process.version}: ` +
        (workers === 1
          ? 'SfuServer alone in one process'
          : `${workers} SFU workers, each an SfuServer alone in its process on its own UDP ` +
            'port, rooms assigned to them round-robin (a room whole in one worker; a row ' +
            "sums the workers' CPU and forwarded packets)") +
        `${e.sfuNodeOptions?.length ? ` (node ${e.sfuNodeOptions.join(' ')})` : ''}` +
        `${e.pinCpus ? ' pinned to the last CPU, the clients to the others (--pin-cpus)' : ''}` +
        `${e.sfuNice === undefined ? '' : ` at nice ${e.sfuNice}, the clients at 0 (--sfu-nice)`}` +
        `${e.dgramSend ? ' sending with socket.send (--dgram-send)' : ''}; ` +
        `${e.clientProcesses} client process(es)` +
        `${e.clientNodeOptions?.length ? ` (node ${e.clientNodeOptions.join(' ')})` : ''} ` +
        'of light WHIP/WHEP clients (ICE, DTLS, SRTP ' +
        `AEAD_AES_128_GCM); rooms of 1 publisher + ${e.roomSize} subscribers ` +
        (e.splitRooms && e.clientProcesses > 1
          ? "(the subscribers in another client process than the publisher's, --split-rooms)"
          : "(in the publisher's client process)") +
        '; ' +
        `${PACKET_BYTES} B VP8 packets at ${PACKETS_PER_SECOND.toFixed(0)}/s per track ` +
        `(1 Mbit/s); ${e.seconds} s per step on the SFU path, then the direct path (no SFU) ` +
        "for the latency baseline; subscribers read each packet's send stamp from its " +
        'ciphertext (one AES-CTR block, no tag check) and fully SRTP-unprotect ' +
        `${e.verifyEvery === 1 ? 'every packet' : `1 packet in ${e.verifyEvery ?? VERIFY_EVERY}`} ` +
        '(tag checked, payload decrypted, stamp compared): a failure counts as bad, not received',
    );
    log(STEP_HEADER);
    out.e2e = await benchE2e(e, log);
    for (const line of formatE2eSummary(out.e2e)) log(line);
    log('');
  }
  if (c.only !== 'e2e') {
    out.core = runCoreBench(c.core);
    for (const line of formatCoreRows(c.core, out.core)) log(line);
  }
  return out;
}

export async function main(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<number> {
  let config: SfuBenchConfig;
  let janus: JanusArgs; // --janus, --no-janus, --janus-steps, --janus-budget: bench/sfu/janus.ts
  try {
    janus = janusArgs(args);
    config = parseSfuArgs(janus.rest);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 1;
  }
  try {
    const result = await runSfuBench(config, log);
    if (janus.run && config.only !== 'core') {
      Object.assign(result, { janus: await runJanusRows(config.e2e, result.e2e, janus, log) });
    }
    if (config.outDir) {
      mkdirSync(config.outDir, { recursive: true });
      const date = new Date().toISOString();
      const file = join(config.outDir, `sfu-${date.replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify({ date, config, ...result }, null, 2)}\n`);
      log(`wrote ${file}`);
    }
    return 0;
  } catch (err) {
    console.error(err);
    return 1;
  }
}
