/**
 * `rtcd signal` / `rtcd dev` as child processes (`node --import tsx bin/rtcd.ts`), for the CLI
 * specs and the two-process Redis test: stdout/stderr captured, the listening port read from
 * the JSON log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Child = ChildProcess & { out: () => string; err: () => string };

export function startRtcd(args: string[], env: Record<string, string> = {}): Child {
  return startNode(process.execPath, ['--import', 'tsx', 'bin/rtcd.ts', ...args], env);
}

/**
 * `node` (an executable path: process.execPath or another Node) with `args` from the repo
 * root, with captured output and without the runner's RTCD_* variables; `semiSpace: false`
 * also drops a `--max-semi-space-size` from NODE_OPTIONS (a script embedding `main()` runs
 * without it wherever the test runner sets it).
 */
export function startNode(
  node: string,
  args: string[],
  env: Record<string, string> = {},
  o: { semiSpace?: boolean } = {},
): Child {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RTCD_')) clean[k] = v;
  if (o.semiSpace === false) {
    clean.NODE_OPTIONS = (clean.NODE_OPTIONS ?? '')
      .split(/\s+/)
      .filter((a) => !a.startsWith('--max-semi-space-size'))
      .join(' ');
  }
  const child = spawn(node, args, {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  return Object.assign(child, { out: () => out, err: () => err });
}

export async function runRtcd(args: string[], env: Record<string, string> = {}) {
  const child = startRtcd(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: child.out(), stderr: child.err() };
}

/** Resolves with the first value `match` finds in stdout; rejects on exit or timeout. */
export function waitForOutput<T>(
  child: Child,
  match: (stdout: string) => T | undefined,
  ms = 20000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const v = match(child.out());
      if (v !== undefined) {
        cleanup();
        resolve(v);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`exited ${code} before ready:\n${child.out()}\n${child.err()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`not ready in ${ms} ms:\n${child.out()}\n${child.err()}`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

/** The port of the `rtcd signal listening` JSON log line. */
export function listeningPort(child: Child): Promise<number> {
  return waitForOutput(child, (out) => {
    for (const line of out.split('\n')) {
      if (!line.includes('rtcd signal listening')) continue;
      const port = (JSON.parse(line) as { port?: number }).port;
      if (typeof port === 'number') return port;
    }
    return undefined;
  });
}

/** SIGTERM and the exit code. */
export async function stop(child: Child): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}
