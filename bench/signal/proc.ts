/** Child processes of bench/signal.ts: forked with tsx and --expose-gc, spoken to over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly proc: ChildProcess;
  /** The next IPC message that `match` accepts. */
  next<T>(match: (m: unknown) => T | undefined, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export function forkChild(file: string, config: object): Child {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const proc = fork(path, [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    proc,
    next<T>(match: (m: unknown) => T | undefined, timeoutMs = 120_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const onMessage = (m: unknown) => {
          const v = match(m);
          if (v === undefined) return;
          cleanup();
          resolve(v);
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`${file} exited ${code}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${file}: no answer in ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          proc.off('message', onMessage);
          proc.off('exit', onExit);
        };
        proc.on('message', onMessage);
        proc.on('exit', onExit);
      });
    },
    async close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.send('close');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ServerStats {
  rss: number;
  heapUsed: number;
  external: number;
}

export function field<K extends string>(key: K) {
  return (m: unknown): Record<K, unknown> | undefined =>
    typeof m === 'object' && m !== null && key in m ? (m as Record<K, unknown>) : undefined;
}

export async function startServer(config: {
  kind: 'rtcd' | 'bare';
  redis?: string;
  prefix?: string;
}): Promise<{ child: Child; port: number; stats: () => Promise<ServerStats> }> {
  const child = forkChild('./server-child.ts', config);
  const { port } = await child.next(field('port'), 30_000);
  return {
    child,
    port: port as number,
    stats: async () => {
      child.proc.send('stats');
      return (await child.next(field('rss'))) as unknown as ServerStats;
    },
  };
}
