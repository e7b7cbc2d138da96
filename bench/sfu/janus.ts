/**
 * The SFU bench's Janus rows (`npm run bench -- sfu`, after rtcd's end-to-end rows): Janus
 * VideoRoom (Debian `janus` 1.1.2, bench/sfu/janus-server.ts) measured the way rtcd is, in
 * the same run — rooms of 1 publisher + S subscribers at 1 Mbit/s, the same synthetic
 * clients (bench/sfu/janus-child.ts), stepped subscriber-track counts; per step Janus's CPU
 * share (/proc/<pid>/stat, all its threads), loss, and latency of the Janus path minus the
 * direct path. Then Janus's RSS per idle subscriber, and the rtcd/Janus ratios.
 *
 * Flags (taken out of the argument list before bench/sfu.ts parses the rest): `--janus` runs
 * the rows even with `--quick`, `--no-janus` skips them, `--janus-steps 10,20,50`,
 * `--janus-budget 60` (seconds of stepping), `--janus-event-loops 0` (Janus's `event_loops`).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  audienceChild,
  ChildLink,
  type ClientLink,
  type ClientTotals,
  connectRooms,
  DIRECT_WARMUP_MS,
  DRAIN_MS,
  lossOf,
  phaseTotals,
  SFU_WARMUP_MS,
  setUpRooms,
  sleep,
  startPhase,
} from './child-link.js';
import type { E2eOptions, E2eResult, E2eStep } from './e2e.js';
import { formatJanusStep, formatRatios, JANUS_HEADER } from './janus-report.js';
import { JanusProcess } from './janus-server.js';
import { type ClientIn, type ClientOut, type RoomPlan, VERIFY_EVERY } from './protocol.js';
import { pct } from './report.js';

export interface JanusArgs {
  /** Whether to run the Janus rows. Default: yes, except with `--quick`. */
  run: boolean;
  /** Subscriber-track steps. Default: the rtcd steps. */
  steps: number[] | undefined;
  /** Stop stepping after this many seconds. Default 60 (`--quick`: 30). */
  budgetSeconds: number;
  /** Janus's `event_loops` (`--janus-event-loops`). Default 0: Janus's own, a loop per handle. */
  eventLoops: number;
  /** The arguments left for `parseSfuArgs`. */
  rest: string[];
}

/** Takes the Janus flags out of `args`; throws `TypeError` on a bad value. */
export function janusArgs(args: readonly string[]): JanusArgs {
  const rest: string[] = [];
  const quick = args.includes('--quick');
  const out: JanusArgs = {
    run: !quick,
    steps: undefined,
    budgetSeconds: quick ? 30 : 60,
    eventLoops: 0,
    rest,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--janus') out.run = true;
    else if (a === '--no-janus') out.run = false;
    else if (a === '--janus-steps' || a === '--janus-budget' || a === '--janus-event-loops') {
      const v = args[++i] ?? '';
      if (a === '--janus-event-loops') {
        out.eventLoops = Number(v);
        if (!(Number.isInteger(out.eventLoops) && out.eventLoops >= 0 && out.eventLoops <= 64)) {
          throw new TypeError(`--janus-event-loops must be an integer 0-64, got ${v}`);
        }
      } else if (a === '--janus-budget') {
        out.budgetSeconds = Number(v);
        if (!(out.budgetSeconds > 0 && out.budgetSeconds <= 3600)) {
          throw new TypeError(`--janus-budget must be in (0, 3600], got ${v}`);
        }
      } else {
        out.steps = v.split(',').map((s) => Number(s.trim()));
        if (!out.steps.every((n) => Number.isInteger(n) && n >= 1 && n <= 10_000)) {
          throw new TypeError(`--janus-steps must be integers 1-10000, got ${v}`);
        }
      }
    } else rest.push(a);
  }
  return out;
}

export interface JanusResult {
  version: string;
  steps: E2eStep[];
  best: E2eStep | undefined;
  tracksPerCore: number;
  /** Janus RSS growth per idle connected subscriber, bytes. */
  rssPerSubscriber: number;
  memorySubscribers: number;
  failedConnects: number;
  stoppedBecause: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = import.meta.resolve('tsx');
const MEMORY_SUBSCRIBERS_MAX = 50;

/**
 * One phase in every client child; on the `sfu` path (with `janus`), Janus's CPU is read when
 * the measured window starts (after the warm-up) and when it ends.
 */
async function phase(
  clients: ClientLink[],
  janus: JanusProcess | undefined,
  mode: 'sfu' | 'direct',
  warmupMs: number,
  durationMs: number,
  verifyEvery: number,
  tickMs: number | undefined,
): Promise<{ done: ClientTotals; cpuUs: number; wallMs: number }> {
  startPhase(clients, mode, warmupMs, durationMs, DRAIN_MS, verifyEvery, tickMs);
  let cpuUs = 0;
  let wallMs = durationMs;
  if (janus) {
    await sleep(warmupMs);
    const u0 = janus.usage().cpuUs;
    const t0 = performance.now();
    await sleep(durationMs);
    cpuUs = janus.usage().cpuUs - u0;
    wallMs = performance.now() - t0;
  }
  return { done: await phaseTotals(clients), cpuUs, wallMs };
}

async function measureStep(
  clients: ClientLink[],
  janus: JanusProcess,
  o: E2eOptions,
  tracks: number,
  rooms: number,
): Promise<E2eStep> {
  const durationMs = o.seconds * 1000;
  const warmupMs = o.warmupMs ?? SFU_WARMUP_MS;
  const every = o.verifyEvery ?? VERIFY_EVERY;
  const sfu = await phase(clients, janus, 'sfu', warmupMs, durationMs, every, o.tickMs);
  const directMs = durationMs / 2;
  const direct = await phase(
    clients,
    undefined,
    'direct',
    DIRECT_WARMUP_MS,
    directMs,
    every,
    o.tickMs,
  );
  const h = sfu.done.histogram;
  const hd = direct.done.histogram;
  const windowS = sfu.wallMs / 1000;
  return {
    tracks,
    rooms,
    // Janus's own counters are not read: forwarded = what reached the subscribers.
    forwardedPerSecond: sfu.done.received / o.seconds,
    sfuReceivedPerSecond: Number.NaN,
    publishedPerSecond: sfu.done.sent / o.seconds,
    sfuDrops: {},
    sfuCpuShare: sfu.cpuUs / 1e6 / windowS,
    sfuLoopDelayP99Ms: Number.NaN,
    clientCpuShare: sfu.done.cpuUs / 1e6 / o.seconds,
    clientLoopDelayP99Ms: sfu.done.loopDelayP99Ms,
    clientGc: sfu.done.gc,
    directClientGc: direct.done.gc,
    directClientLoopDelayP99Ms: direct.done.loopDelayP99Ms,
    loss: lossOf(sfu.done),
    directLoss: lossOf(direct.done),
    verifiedPackets: sfu.done.verified + direct.done.verified,
    badPackets: sfu.done.badPackets + direct.done.badPackets,
    sfuP50: h.quantile(0.5),
    sfuP99: h.quantile(0.99),
    directP50: hd.quantile(0.5),
    directP99: hd.quantile(0.99),
    addedP50: h.quantile(0.5) - hd.quantile(0.5),
    addedP99: h.quantile(0.99) - hd.quantile(0.99),
    latencySamples: h.total,
  };
}

function janusVersion(): string | undefined {
  try {
    const out = execFileSync('janus', ['--help'], { encoding: 'utf8' });
    return /Janus version: \d+ \(([^)]+)\)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** Steps Janus through the rooms; the child and Janus are stopped whatever happens. */
export async function benchJanus(
  o: E2eOptions,
  log: (line: string) => void,
  eventLoops = 0,
): Promise<JanusResult> {
  const version = janusVersion();
  if (version === undefined) throw new Error('janus not found (apt-get install janus)');
  const janus = await JanusProcess.start(eventLoops);
  const clients = Array.from(
    { length: o.clientProcesses },
    () =>
      new ChildLink<ClientIn, ClientOut>(
        janus.spawnNode(`${here}janus-child.ts`, ['--import', tsx]),
        'janus child',
      ),
  );
  const split = o.splitRooms === true;
  const at = { url: janus.url, udpPort: 0 };
  const started = performance.now();
  const steps: E2eStep[] = [];
  let failedConnects = 0;
  let stoppedBecause = 'all steps ran';
  try {
    let rooms = 0;
    for (const target of [...new Set(o.steps.map((s) => Math.min(s, o.maxTracks)))]) {
      const plans: RoomPlan[][] = clients.map(() => []);
      for (; rooms < Math.ceil(target / o.roomSize); rooms++) {
        plans[rooms % clients.length]!.push({ id: `call${rooms}`, subscribers: o.roomSize });
      }
      const c = await setUpRooms(clients, plans, at, split);
      failedConnects += c.failed;
      if (c.subscribers === 0) {
        stoppedBecause = `no subscriber connected; janus log:\n${janus.log.slice(-20).join('\n')}`;
        break;
      }
      const step = await measureStep(clients, janus, o, c.subscribers, c.publishers);
      steps.push(step);
      log(formatJanusStep(step));
      if (step.loss > o.maxLoss) {
        stoppedBecause = `loss ${pct(step.loss)} > ${pct(o.maxLoss)} at ${step.tracks} tracks`;
        break;
      }
      if ((performance.now() - started) / 1000 > o.budgetSeconds) {
        stoppedBecause = `time budget of ${o.budgetSeconds} s reached`;
        break;
      }
    }
    // Memory: idle subscribers added to the first room (no media flows now).
    const idle = Math.min(o.idleSubscribers, MEMORY_SUBSCRIBERS_MAX);
    const m0 = janus.usage().rssBytes;
    let added = 0;
    if (rooms > 0) {
      const plans: RoomPlan[][] = clients.map(() => []);
      plans[audienceChild(0, clients.length, split)]!.push({ id: 'call0', subscribers: idle });
      const c = await connectRooms(clients, 'add-subscribers', plans, at);
      failedConnects += c.failed;
      added = idle - c.failed;
      await sleep(300);
    }
    const m1 = janus.usage().rssBytes;
    const best = [...steps].reverse().find((s) => s.loss <= o.maxLoss);
    return {
      version,
      steps,
      best,
      tracksPerCore: best ? best.tracks / Math.max(best.sfuCpuShare, 1e-6) : 0,
      rssPerSubscriber: added > 0 ? (m1 - m0) / added : Number.NaN,
      memorySubscribers: added,
      failedConnects,
      stoppedBecause,
    };
  } finally {
    for (const c of clients) c.send({ type: 'close' });
    await Promise.race([Promise.all(clients.map((c) => c.exited)), sleep(5000)]);
    for (const c of clients) c.kill();
    await janus.stop();
  }
}

/** Runs the Janus rows after rtcd's and prints them with the ratios; never throws. */
export async function runJanusRows(
  e2e: E2eOptions,
  rtcd: E2eResult | undefined,
  a: JanusArgs,
  log: (line: string) => void,
): Promise<JanusResult | undefined> {
  const o: E2eOptions = {
    ...e2e,
    steps: a.steps ?? e2e.steps,
    budgetSeconds: a.budgetSeconds,
  };
  log(
    `Janus VideoRoom, same clients and rooms (1 publisher + ${o.roomSize} subscribers, ` +
      '1 Mbit/s VP8, SRTP AEAD_AES_128_GCM), Janus ICE-lite in a network namespace ' +
      '(clients in it too, at 10.99.0.1), event_loops ' +
      `${a.eventLoops === 0 ? '0 (a thread per handle)' : a.eventLoops}; ` +
      'Janus CPU from /proc (all threads)',
  );
  log(JANUS_HEADER);
  try {
    const j = await benchJanus(o, log, a.eventLoops);
    for (const line of formatRatios(rtcd, j)) log(line);
    return j;
  } catch (err) {
    log(`Janus rows not run: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
