/**
 * The ICE-lite mux benchmark (called by `npm run bench -- ice`, bench/ice.ts): connectivity
 * checks answered per second by one `IceLiteMux` with 10,000 registered sessions on one UDP
 * port, beside a bare dgram echo (the ceiling: Node's UDP with no STUN work) measured in the
 * same run with the same generator; and memory per idle session (heap + ArrayBuffer delta
 * after GC, divided by the session count).
 *
 * Server and generator are separate processes, so the server's figure is one event loop on
 * one core. Throughput is reported two ways: checks per wall-clock second (depends on what
 * else the machine runs) and checks per CPU-second of the server process (the "on one core"
 * figure, steadier on a shared machine). Targets: ≥ 50,000 checks/s, ≤ 2 KB per session.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LiteRemote } from '../../lib/ice/lite-core.js';
import { IceLiteCore } from '../../lib/ice/lite-core.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import {
  benchPwd,
  benchUfrag,
  isMessage,
  type LoadIn,
  type LoadOut,
  type ServerIn,
  type ServerKind,
  type ServerOut,
} from './mux-protocol.js';

export interface MuxBenchOptions {
  /** Registered sessions on the mux. Default 10,000. */
  sessions?: number;
  /** Measurement time per server. Default 3,000 ms. */
  durationMs?: number;
  /** Checks in flight from the generator. Default 64. */
  window?: number;
  /** Rounds (bare, mux alternating); the best round of each counts. Default 2. */
  rounds?: number;
}

export interface MuxBenchRow {
  /** `bare dgram echo` or `rtcd ice-lite mux`. */
  name: string;
  kind: ServerKind;
  /** Answers per wall-clock second. */
  perSecond: number;
  /** Answers per CPU-second of the server process. */
  perCpuSecond: number;
  /** Server CPU µs per answer. */
  cpuUsPerAnswer: number;
  /** Share of one core the server used. */
  serverCpuShare: number;
  /** Share of one core the generator used (1.0: the generator was the limit). */
  generatorCpuShare: number;
  /** Ratio of `perSecond` / `perCpuSecond` to the bare echo of the same run. */
  ratioToBare: number;
  ratioToBareCpu: number;
  /** Mux only: bytes per idle registered session. */
  bytesPerSession?: number;
  sessions: number;
  /** Mux only: checks the mux itself counted as answered (≥ responses received). */
  muxAnswered?: number;
  /**
   * Mux only: `IceLiteCore.handleStun` alone, in a loop in the bench process with a no-op
   * send (the ICE work without sockets): checks per CPU-second and CPU µs per check.
   */
  coreOnlyPerCpuSecond?: number;
  coreOnlyCpuUs?: number;
}

interface CoreMeasured {
  perCpuSecond: number;
  cpuUsPerCheck: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = import.meta.resolve('tsx');

interface Child<Out> {
  send(m: object): void;
  next(): Promise<Out>;
  kill(): void;
}

function spawnChild<Out extends { type: string }>(file: string, gc: boolean): Child<Out> {
  const proc = fork(`${here}${file}`, [], {
    execArgv: ['--import', tsx, ...(gc ? ['--expose-gc'] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: Out[] = [];
  const waiters: ((m: Out | Error) => void)[] = [];
  const deliver = (m: Out | Error): void => {
    const w = waiters.shift();
    if (w) w(m);
    else if (!(m instanceof Error)) inbox.push(m);
  };
  proc.on('message', (m: unknown) => {
    if (isMessage(m)) deliver(m as Out);
  });
  proc.once('exit', (code) => {
    while (waiters.length > 0) deliver(new Error(`${file} exited with code ${code}`));
  });
  return {
    send: (m) => proc.send(m),
    next: () => {
      const m = inbox.shift();
      if (m) return Promise.resolve(m);
      return new Promise<Out>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no reply in 60 s`)), 60_000);
        waiters.push((x) => {
          clearTimeout(timer);
          if (x instanceof Error) reject(x);
          else if (x.type === 'error') reject(new Error(`${file}: ${Reflect.get(x, 'message')}`));
          else resolve(x);
        });
      });
    },
    kill: () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

interface Measured {
  kind: ServerKind;
  perSecond: number;
  perCpuSecond: number;
  cpuUsPerAnswer: number;
  serverCpuShare: number;
  generatorCpuShare: number;
  bytesPerSession: number;
  muxAnswered: number;
}

async function measure(kind: ServerKind, o: Required<MuxBenchOptions>): Promise<Measured> {
  const server = spawnChild<ServerOut>('mux-server.ts', true);
  const load = spawnChild<LoadOut>('mux-load.ts', false);
  try {
    server.send({ type: 'start', kind, sessions: o.sessions } satisfies ServerIn);
    const ready = await server.next();
    if (ready.type !== 'ready') throw new Error(`server: expected ready, got ${ready.type}`);
    load.send({
      type: 'run',
      port: ready.port,
      sessions: o.sessions,
      durationMs: o.durationMs,
      window: o.window,
    } satisfies LoadIn);
    const done = await load.next();
    if (done.type !== 'done') throw new Error(`load: expected done, got ${done.type}`);
    server.send({ type: 'stop' } satisfies ServerIn);
    const stopped = await server.next();
    if (stopped.type !== 'stopped')
      throw new Error(`server: expected stopped, got ${stopped.type}`);
    // The server's CPU covers setup-to-stop, a little longer than the generator's window.
    const seconds = done.elapsedMs / 1000;
    const answered = done.received;
    return {
      kind,
      perSecond: answered / seconds,
      perCpuSecond: stopped.answered / (stopped.cpuUs / 1e6),
      cpuUsPerAnswer: stopped.cpuUs / Math.max(1, stopped.answered),
      serverCpuShare: stopped.cpuUs / 1e6 / seconds,
      generatorCpuShare: done.cpuUs / 1e6 / seconds,
      bytesPerSession: ready.bytesPerSession,
      muxAnswered: stopped.answered,
    };
  } finally {
    server.kill();
    load.kill();
  }
}

/**
 * The ICE work alone: the same precomputed checks through `IceLiteCore.handleStun` with a
 * no-op `send`, in this process, for `durationMs`. What the mux would reach if UDP were free.
 */
function measureCore(o: Required<MuxBenchOptions>): CoreMeasured {
  const core = new IceLiteCore<number>(
    { consentTimeoutMs: 30_000 },
    { send() {}, selected() {}, consentExpired() {}, drop() {} },
  );
  const checks: Buffer[] = [];
  for (let i = 0; i < o.sessions; i++) {
    core.add(i, benchUfrag(i), benchPwd(i));
    checks.push(
      buildCheckRequest({
        localUfrag: 'load',
        remoteUfrag: benchUfrag(i),
        remotePwd: benchPwd(i),
        priority: 1862270975,
        role: 'controlling',
        tieBreaker: BigInt(i + 1),
      }),
    );
  }
  const from: LiteRemote = { family: 4, address: '127.0.0.1', port: 50_000, transport: 'udp' };
  let n = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + o.durationMs;
  while (performance.now() < deadline) {
    for (let k = 0; k < 1000; k++) {
      core.handleStun(checks[n % checks.length]!, from, 0);
      n++;
    }
  }
  const used = process.cpuUsage(cpu);
  const cpuUs = used.user + used.system;
  return { perCpuSecond: n / (cpuUs / 1e6), cpuUsPerCheck: cpuUs / n };
}

function better(a: Measured | undefined, b: Measured): Measured {
  return a === undefined || b.perCpuSecond > a.perCpuSecond ? b : a;
}

/** Runs the bare echo and the mux `rounds` times, alternating; the best round of each counts. */
export async function benchMux(options: MuxBenchOptions = {}): Promise<MuxBenchRow[]> {
  const o: Required<MuxBenchOptions> = {
    sessions: options.sessions ?? 10_000,
    durationMs: options.durationMs ?? 3_000,
    window: options.window ?? 64,
    rounds: options.rounds ?? 2,
  };
  let bare: Measured | undefined;
  let mux: Measured | undefined;
  let core: CoreMeasured | undefined;
  for (let r = 0; r < o.rounds; r++) {
    bare = better(bare, await measure('bare', o));
    mux = better(mux, await measure('mux', o));
    const c = measureCore({ ...o, durationMs: Math.min(o.durationMs, 1_000) });
    if (core === undefined || c.perCpuSecond > core.perCpuSecond) core = c;
  }
  if (bare === undefined || mux === undefined || core === undefined) {
    throw new TypeError('rounds must be ≥ 1');
  }
  const row = (m: Measured, name: string): MuxBenchRow => ({
    name,
    kind: m.kind,
    perSecond: Math.round(m.perSecond),
    perCpuSecond: Math.round(m.perCpuSecond),
    cpuUsPerAnswer: Number(m.cpuUsPerAnswer.toFixed(2)),
    serverCpuShare: Number(m.serverCpuShare.toFixed(2)),
    generatorCpuShare: Number(m.generatorCpuShare.toFixed(2)),
    ratioToBare: Number((m.perSecond / bare.perSecond).toFixed(2)),
    ratioToBareCpu: Number((m.perCpuSecond / bare.perCpuSecond).toFixed(2)),
    sessions: m.kind === 'mux' ? o.sessions : 0,
    ...(m.kind === 'mux' ? { bytesPerSession: m.bytesPerSession, muxAnswered: m.muxAnswered } : {}),
  });
  return [
    row(bare, 'bare dgram echo'),
    {
      ...row(mux, 'rtcd ice-lite mux'),
      coreOnlyPerCpuSecond: Math.round(core.perCpuSecond),
      coreOnlyCpuUs: Number(core.cpuUsPerCheck.toFixed(2)),
    },
  ];
}

/** The rows as a text table with the targets, for the console. */
export function formatMuxRows(rows: readonly MuxBenchRow[]): string {
  const lines = [
    'ICE-lite mux: checks answered (10,000 sessions on one UDP port unless noted)',
    'server               | answers/s | answers/CPU-s | µs CPU/answer | server CPU | gen CPU | vs bare (wall, CPU)',
  ];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(20)} | ${String(r.perSecond).padStart(9)} | ${String(r.perCpuSecond).padStart(13)} | ${r.cpuUsPerAnswer.toFixed(2).padStart(13)} | ${r.serverCpuShare.toFixed(2).padStart(10)} | ${r.generatorCpuShare.toFixed(2).padStart(7)} | ${r.ratioToBare.toFixed(2)}x, ${r.ratioToBareCpu.toFixed(2)}x`,
    );
  }
  const mux = rows.find((r) => r.kind === 'mux');
  if (mux !== undefined) {
    lines.push(
      `lite core alone, no I/O: ${mux.coreOnlyPerCpuSecond} checks/CPU-s (${mux.coreOnlyCpuUs} µs per check without sockets)`,
      `memory per idle session: ${mux.bytesPerSession} B (${mux.sessions} sessions; target ≤ 2048 B)`,
      `target ≥ 50,000 checks/s on one core: ${mux.perCpuSecond >= 50_000 ? 'met' : 'NOT met'} (${mux.perCpuSecond}/CPU-s, ${mux.perSecond}/s wall)`,
    );
  }
  return lines.join('\n');
}
