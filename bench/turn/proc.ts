/**
 * Child processes of the bench: forking TypeScript children with IPC, spawning servers, killing
 * everything on exit, and reading CPU time from /proc (utime + stime of every thread of a
 * process and of its descendants, so `--workers N` and coturn's threads are all counted).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isTyped } from './protocol.js';

const tsxImport = import.meta.resolve('tsx');
const live = new Set<ChildProcess>();

function killAll(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

function track(c: ChildProcess): ChildProcess {
  live.add(c);
  c.once('exit', () => live.delete(c));
  return c;
}

/** Arguments that make `node` run a TypeScript entry point through tsx. */
export function tsxArgs(): string[] {
  return ['--import', tsxImport];
}

/** A forked child speaking typed JSON messages; replies are awaited one type at a time. */
export class Child<TIn extends object, TOut extends { type: string }> {
  readonly proc: ChildProcess;
  private readonly inbox: TOut[] = [];
  private waiter: ((m: TOut | Error) => void) | undefined;
  private exited: Error | undefined;

  constructor(
    file: string,
    readonly name: string,
  ) {
    this.proc = track(
      fork(file, [], { execArgv: tsxArgs(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    this.proc.on('message', (m: unknown) => {
      if (!isTyped(m)) return;
      this.deliver(m as TOut);
    });
    this.proc.once('exit', (code, signal) => {
      this.exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
      this.deliver(this.exited);
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  send(m: TIn): void {
    this.proc.send(m);
  }

  /** The next message of `type`; an `error` message, exit or timeout rejects. */
  async next<K extends TOut['type']>(
    type: K,
    timeoutMs: number,
  ): Promise<Extract<TOut, { type: K }>> {
    const m = await this.receive(timeoutMs);
    if (m.type === type) return m as Extract<TOut, { type: K }>;
    const detail = Reflect.get(m, 'message');
    throw new Error(`${this.name}: expected ${type}, got ${m.type}${detail ? `: ${detail}` : ''}`);
  }

  async request<K extends TOut['type']>(
    m: TIn,
    type: K,
    timeoutMs: number,
  ): Promise<Extract<TOut, { type: K }>> {
    this.send(m);
    return this.next(type, timeoutMs);
  }

  private deliver(m: TOut | Error): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(m);
    } else if (!(m instanceof Error)) {
      this.inbox.push(m);
    }
  }

  private receive(timeoutMs: number): Promise<TOut> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.name}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
    });
  }

  async close(timeoutMs = 2000): Promise<void> {
    await stopProcess(this.proc, timeoutMs);
  }
}

/** Spawns a long-running server process (stdout/stderr captured for error messages). */
export function spawnServer(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): { proc: ChildProcess; output: () => string } {
  const proc = track(
    spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }),
  );
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, output: () => out };
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
export function stopProcess(proc: ChildProcess, timeoutMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

function readStat(pid: number): { ppid: number; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime 14 and stime 15 (proc(5)).
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** `getconf CLK_TCK` is 100 on every Linux the bench targets. */
const TICK_US = 10_000;

/** `pid` and its live descendants (cluster workers, forked helpers). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    const s = readStat(p);
    if (s) parents.set(p, s.ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < 1000; i++) {
    for (const [p, ppid] of parents) if (ppid === tree[i] && !tree.includes(p)) tree.push(p);
  }
  return tree;
}

/** CPU time in µs used so far by `pid` (all threads) and all its live descendants. */
export function treeCpuUs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) ticks += readStat(p)?.ticks ?? 0;
  return ticks * TICK_US;
}

/** Stops `proc` like `stopProcess`, then SIGKILLs whatever of its tree is left. */
export async function stopTree(proc: ChildProcess, timeoutMs = 2000): Promise<void> {
  const tree = proc.pid === undefined ? [] : processTree(proc.pid).slice(1);
  await stopProcess(proc, timeoutMs);
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** CPU time in µs of one process (all its threads), without descendants. */
export function processCpuUs(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) * TICK_US;
}
