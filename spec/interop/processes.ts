/**
 * Child processes and ports for the interop tests. Every program is bounded in time, and every
 * daemon is stopped by its own pid in the test's teardown; nothing here kills by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** stdout and stderr interleaved as they arrived (the turnutils log to both). */
  output: string;
}

/** Runs a program to completion, killing it (SIGKILL) after `timeoutMs`. */
export async function runTool(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<ToolResult> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, timedOut, output };
  } finally {
    clearTimeout(timer);
  }
}

export interface Daemon {
  readonly child: ChildProcess;
  /** Everything it printed so far (for diagnostics in failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
}

/** Starts a long-running program; the caller must `stop()` it (use t.teardown). */
export function startDaemon(command: string, args: readonly string[]): Daemon {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (s: string): void => {
    // Keep the tail only: a verbose daemon must not grow the test's memory without bound.
    output = (output + s).slice(-64 * 1024);
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  child.on('error', (err) => collect(`\n[spawn error] ${err.message}\n`));
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
          return;
        }
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}

/**
 * A port free on 127.0.0.1 for both TCP and UDP at the time of the call (coturn's tools take
 * one port number for both). Another process may still take it before we bind; callers that
 * bind it themselves retry with a new port on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (ok) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      return port;
    }
    udp.close();
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

/** Sends `payload` to 127.0.0.1:port over UDP and resolves with the first reply, or undefined. */
export async function udpRoundTrip(
  port: number,
  payload: Buffer,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  const socket = createSocket('udp4');
  socket.on('error', () => {}); // ICMP port unreachable while the server starts: keep polling
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const reply = new Promise<Buffer>((resolve) => {
      socket.once('message', (msg: Buffer) => resolve(msg));
    });
    socket.send(payload, port, '127.0.0.1');
    return await Promise.race([reply, sleep(timeoutMs).then(() => undefined)]);
  } finally {
    socket.close();
  }
}
