/**
 * The SFU end to end (called by `npm run bench -- sfu`, bench/sfu.ts): `SfuServer` in its own
 * child process, synthetic publishers and subscribers (bench/sfu/light-client.ts: WHIP/WHEP,
 * ICE check, DTLS, SRTP) in one or more other children, rooms shaped like calls (one
 * publisher, S subscribers), 1 Mbit/s video per track. The subscriber-track count steps up;
 * each step runs the SFU path, then the direct path (the same clients and rate, publisher
 * socket → subscriber sockets, no SFU), and reports forwarded packets/s, the SFU process's CPU
 * share, loss at subscribers and latency (send stamp → receive, one clock per room) of both.
 * Then memory per subscriber: SFU RSS and heap delta over N idle but connected subscribers.
 */
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  ChildLink,
  type ClientLink,
  type ClientTotals,
  connectRooms,
  DIRECT_WARMUP_MS,
  DRAIN_MS,
  lossOf,
  phaseTotals,
  SFU_WARMUP_MS,
  sleep,
  startPhase,
} from './child-link.js';
import {
  type ClientIn,
  type ClientOut,
  type GcPauses,
  type MemorySample,
  type RoomPlan,
  type ServerIn,
  type ServerOut,
  VERIFY_EVERY,
} from './protocol.js';
import { formatGc, formatStep, formatWhere } from './report.js';

export interface E2eOptions {
  /** Subscriber-track counts to step through (each bounded by `maxTracks`). */
  steps: readonly number[];
  maxTracks: number;
  /** Subscribers per room (each room: one publisher). */
  roomSize: number;
  /** Seconds of the SFU path per step; the direct path runs half as long (at least 0.5 s). */
  seconds: number;
  /** Client child processes; rooms are spread over them. */
  clientProcesses: number;
  /** Idle subscribers added for the memory figure. */
  idleSubscribers: number;
  /**
   * Sending before the SFU path's measured window: a new consumer starts on a key frame, and
   * the router allocates each leg's layers once per report interval (1 s). Default 1,200 ms.
   */
  warmupMs?: number;
  /**
   * After the window, how long subscribers keep counting: a packet later than this past the
   * window's end counts as lost. Default 300 ms.
   */
  drainMs?: number;
  /**
   * Every how many packets a subscriber fully unprotects (SRTP tag checked, payload
   * decrypted, its stamp compared with the one read from the ciphertext); the others' send
   * stamps are read with one AES block (bench/sfu/stamp-reader.ts). Default 16; 1 verifies all.
   */
  verifyEvery?: number;
  /** Duration of the bare `dgram` send ceiling. Default 1,000 ms. */
  bareMs?: number;
  /** Node/V8 options for the SFU process, e.g. `--trace-gc` (`--sfu-node-option`). */
  sfuNodeOptions?: readonly string[];
  /** Write a V8 CPU profile of the SFU process into this directory (`--cpu-prof`). */
  cpuProfileDir?: string;
  /** Stop stepping once this much wall time has passed, s. */
  budgetSeconds: number;
  /** Loss above which the ramp stops (the knee is found). */
  maxLoss: number;
}

export interface E2eStep {
  tracks: number;
  rooms: number;
  /** RTP packets the SFU sent per second of the SFU phase. */
  forwardedPerSecond: number;
  /** RTP packets the SFU received per second of the window, and the publishers sent. */
  sfuReceivedPerSecond: number;
  publishedPerSecond: number;
  /** What the SFU dropped or closed during the window, by `where:reason`. */
  sfuDrops: Record<string, number>;
  /** SFU process CPU time / window wall time (1.0 = one core busy). */
  sfuCpuShare: number;
  /** Event-loop delay p99 of the SFU process during the window, ms. */
  sfuLoopDelayP99Ms: number;
  /** The SFU process's GC pauses during the window (undefined for Janus). */
  sfuGc?: GcPauses;
  /** Client processes' CPU time / window duration, summed. */
  clientCpuShare: number;
  /** Worst event-loop delay p99 of the client processes during the window, ms. */
  clientLoopDelayP99Ms: number;
  loss: number;
  directLoss: number;
  /** Packets fully unprotected at subscribers (both paths), and those found bad. */
  verifiedPackets: number;
  badPackets: number;
  /** Latency of each path and the difference, µs. */
  sfuP50: number;
  sfuP99: number;
  directP50: number;
  directP99: number;
  addedP50: number;
  addedP99: number;
  latencySamples: number;
}

export interface E2eResult {
  steps: E2eStep[];
  /** The largest step with loss ≤ 1%, and tracks per core computed from it. */
  best: E2eStep | undefined;
  tracksPerCore: number;
  /** The ceiling: bare `dgram` sends of 1,216 B per CPU-second in the SFU's process. */
  bareSendsPerCpuSecond?: number;
  memory: {
    subscribers: number;
    rssPerSubscriber: number;
    heapPerSubscriber: number;
    arrayBuffersPerSubscriber: number;
  };
  failedConnects: number;
  loadAverage: number[];
  stoppedBecause: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = import.meta.resolve('tsx');
const BARE_MS = 1000;
const BARE_SINKS = 64;

function spawnChild<In, Out extends { type: string }>(
  file: string,
  extraExecArgv: readonly string[] = [],
): ChildLink<In, Out> {
  const proc = fork(`${here}${file}`, [], {
    execArgv: ['--import', tsx, '--expose-gc', ...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new ChildLink(proc, file);
}

type Server = ChildLink<ServerIn, ServerOut>;

interface PhaseTotals extends ClientTotals {
  /** The SFU's mark at the window's end (SFU phase only). */
  sfu?: Extract<ServerOut, { type: 'mark' }>;
  sfuBefore?: Extract<ServerOut, { type: 'mark' }>;
}

/**
 * One phase in every client child; with `server`, the SFU is marked when the measured window
 * starts (after the warm-up) and when it ends, so its CPU and forwarded counts cover it.
 */
async function phase(
  clients: ClientLink[],
  mode: 'sfu' | 'direct',
  warmupMs: number,
  durationMs: number,
  drainMs: number,
  verifyEvery: number,
  server?: Server,
): Promise<PhaseTotals> {
  startPhase(clients, mode, warmupMs, durationMs, drainMs, verifyEvery);
  let sfuBefore: Extract<ServerOut, { type: 'mark' }> | undefined;
  let sfu: Extract<ServerOut, { type: 'mark' }> | undefined;
  if (server) {
    await sleep(warmupMs);
    server.send({ type: 'mark' });
    sfuBefore = await server.expect('mark');
    await sleep(durationMs);
    server.send({ type: 'mark' });
    sfu = await server.expect('mark');
  }
  const t: PhaseTotals = await phaseTotals(clients);
  if (sfuBefore) t.sfuBefore = sfuBefore;
  if (sfu) t.sfu = sfu;
  return t;
}

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(b)) if (n > (a[k] ?? 0)) out[k] = n - (a[k] ?? 0);
  return out;
}

/**
 * Sends per CPU-second of a bare `dgram` loop in the SFU's process, spread over sink sockets
 * here as a fan-out is over subscribers (the ceiling of Node's UDP, measured in the same run).
 */
async function bareCeiling(server: Server, durationMs: number): Promise<number> {
  const sinks = await Promise.all(
    Array.from({ length: BARE_SINKS }, async () => {
      const sink = createSocket('udp4');
      await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
      sink.on('message', () => {});
      return sink;
    }),
  );
  try {
    const ports = sinks.map((s) => s.address().port);
    server.send({ type: 'bare-send', ports, durationMs });
    const r = await server.expect('bare-sent');
    return r.sent / (r.cpuUs / 1e6);
  } finally {
    for (const s of sinks) s.close();
  }
}

const roomId = (i: number): string => `call${i}`;

async function memoryOf(server: Server): Promise<MemorySample & { sessions: number }> {
  server.send({ type: 'memory' });
  return server.expect('memory');
}

/** One step on the clients already connected: the SFU path, then the direct path. */
async function measureStep(
  clients: ClientLink[],
  server: Server,
  o: E2eOptions,
  tracks: number,
  rooms: number,
): Promise<E2eStep> {
  const durationMs = o.seconds * 1000;
  const drainMs = o.drainMs ?? DRAIN_MS;
  const warmupMs = o.warmupMs ?? SFU_WARMUP_MS;
  const every = o.verifyEvery ?? VERIFY_EVERY;
  const sfu = await phase(clients, 'sfu', warmupMs, durationMs, drainMs, every, server);
  const directMs = Math.max(500, durationMs / 2);
  const direct = await phase(clients, 'direct', DIRECT_WARMUP_MS, directMs, drainMs, every);
  const mark = sfu.sfu!;
  const windowS = mark.wallMs / 1000;
  return {
    tracks,
    rooms,
    forwardedPerSecond: (mark.forwarded - sfu.sfuBefore!.forwarded) / windowS,
    sfuReceivedPerSecond: (mark.received - sfu.sfuBefore!.received) / windowS,
    publishedPerSecond: sfu.sent / o.seconds,
    sfuDrops: delta(sfu.sfuBefore!.drops, mark.drops),
    sfuCpuShare: mark.cpuUs / 1e6 / windowS,
    sfuLoopDelayP99Ms: mark.loopDelayP99Ms,
    sfuGc: mark.gc,
    clientCpuShare: sfu.cpuUs / 1e6 / o.seconds,
    clientLoopDelayP99Ms: sfu.loopDelayP99Ms,
    loss: lossOf(sfu),
    directLoss: lossOf(direct),
    verifiedPackets: sfu.verified + direct.verified,
    badPackets: sfu.badPackets + direct.badPackets,
    sfuP50: sfu.histogram.quantile(0.5),
    sfuP99: sfu.histogram.quantile(0.99),
    directP50: direct.histogram.quantile(0.5),
    directP99: direct.histogram.quantile(0.99),
    addedP50: sfu.histogram.quantile(0.5) - direct.histogram.quantile(0.5),
    addedP99: sfu.histogram.quantile(0.99) - direct.histogram.quantile(0.99),
    latencySamples: sfu.histogram.total,
  };
}

/** Runs the whole end-to-end measurement; children are killed whatever happens. */
export async function benchE2e(o: E2eOptions, log: (line: string) => void): Promise<E2eResult> {
  const server: Server = spawnChild('server-child.ts', [
    ...(o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : []),
    ...(o.sfuNodeOptions ?? []),
  ]);
  const clients: ClientLink[] = Array.from({ length: o.clientProcesses }, () =>
    spawnChild<ClientIn, ClientOut>('client-child.ts'),
  );
  const started = performance.now();
  const steps: E2eStep[] = [];
  let failedConnects = 0;
  let stoppedBecause = 'all steps ran';
  try {
    server.send({ type: 'start' });
    const ready = await server.expect('ready');
    let rooms = 0;
    const targets = [...new Set(o.steps.map((s) => Math.min(s, o.maxTracks)))];
    for (const target of targets) {
      const want = Math.ceil(target / o.roomSize);
      const plans: RoomPlan[][] = clients.map(() => []);
      for (; rooms < want; rooms++) {
        plans[rooms % clients.length]!.push({ id: roomId(rooms), subscribers: o.roomSize });
      }
      const connected = await connectRooms(clients, 'connect', plans, ready);
      failedConnects += connected.failed;
      let step = await measureStep(clients, server, o, connected.subscribers, rooms);
      if (step.loss > o.maxLoss) {
        // One retry: on a shared machine a lossy step is often another process's burst.
        log(formatStep(step));
        log(`${formatWhere(step) ?? ''}; repeating the step once`);
        step = await measureStep(clients, server, o, connected.subscribers, rooms);
      }
      steps.push(step);
      log(formatStep(step));
      const why = formatWhere(step);
      if (why) log(why);
      log(formatGc(step));
      if (step.loss > o.maxLoss) {
        const lost = (step.loss * 100).toFixed(2);
        stoppedBecause = `loss ${lost}% > ${o.maxLoss * 100}% at ${step.tracks} tracks (twice)`;
        break;
      }
      if ((performance.now() - started) / 1000 > o.budgetSeconds) {
        stoppedBecause = `time budget of ${o.budgetSeconds} s reached`;
        break;
      }
    }

    // Memory: idle but connected subscribers (no media flows now), spread over the rooms.
    const m0 = await memoryOf(server);
    const plans: RoomPlan[][] = clients.map(() => []);
    for (let i = 0; i < o.idleSubscribers; i++) {
      const r = i % Math.max(1, rooms);
      const list = plans[r % clients.length]!;
      const existing = list.find((p) => p.id === roomId(r));
      if (existing) existing.subscribers++;
      else list.push({ id: roomId(r), subscribers: 1 });
    }
    failedConnects += (await connectRooms(clients, 'add-subscribers', plans, ready)).failed;
    await new Promise((r) => setTimeout(r, 300));
    const m1 = await memoryOf(server);
    const added = Math.max(1, m1.sessions - m0.sessions);

    const ceiling = await bareCeiling(server, o.bareMs ?? BARE_MS);
    const best = [...steps].reverse().find((s) => s.loss <= 0.01);
    return {
      steps,
      best,
      bareSendsPerCpuSecond: ceiling,
      tracksPerCore: best ? best.tracks / Math.max(best.sfuCpuShare, 1e-6) : 0,
      memory: {
        subscribers: m1.sessions - m0.sessions,
        rssPerSubscriber: (m1.rss - m0.rss) / added,
        heapPerSubscriber: (m1.heapUsed - m0.heapUsed) / added,
        arrayBuffersPerSubscriber: (m1.arrayBuffers - m0.arrayBuffers) / added,
      },
      failedConnects,
      loadAverage: loadavg(),
      stoppedBecause,
    };
  } finally {
    for (const c of clients) c.send({ type: 'close' });
    server.send({ type: 'stop' });
    // Children exit on their own once closed (the SFU's CPU profile is written then).
    await Promise.race([
      Promise.all([...clients.map((c) => c.exited), server.exited]),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    for (const c of clients) c.kill();
    server.kill();
  }
}
