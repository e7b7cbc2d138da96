/**
 * Starts coturn's `turnserver` on 127.0.0.1 for interop tests: a real TURN server that nobody
 * here wrote. Usage:
 *
 *   t.test('…', { skip: coturnSkipReason() }, async (t) => {
 *     const coturn = await startCoturn({ flags: ['--lt-cred-mech', '--user=u:p', '--realm=test'] });
 *     t.teardown(() => coturn.stop());
 *     … connect to 127.0.0.1:coturn.port …
 *   });
 *
 * `coturnSkipReason()` skips when turnserver is missing, except with `CI=true`, where the test
 * runs and fails on `startCoturn`'s clear error instead.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface CoturnOptions {
  /** Extra turnserver flags, e.g. `['--lt-cred-mech', '--user=u:p', '--realm=test']`. */
  flags?: string[];
  /** Add `--allow-loopback-peers` (peers in tests live on 127.0.0.1). Default true. */
  allowLoopbackPeers?: boolean;
  /** Also listen for TLS on `tlsPort` with a fresh self-signed certificate. Default false. */
  tls?: boolean;
  /** Give up if the server does not answer a Binding request within this many ms. Default 8000. */
  startTimeoutMs?: number;
}

export interface Coturn {
  /** UDP and TCP listening port on 127.0.0.1. */
  readonly port: number;
  /** TLS listening port when `tls` was asked. */
  readonly tlsPort?: number;
  /** PEM of the self-signed certificate of the TLS listener (use as `ca`). */
  readonly cert?: string;
  /** Relay ports handed out by this server. */
  readonly relayPorts: { min: number; max: number };
  /** Everything turnserver printed so far (for failure messages). */
  logs(): string;
  /** Kills turnserver and removes its temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** Path of the turnserver binary, or undefined if it is not installed. */
export function findTurnserver(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'turnserver');
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** A reason to skip coturn tests, or false to run them (always false when `CI=true`). */
export function coturnSkipReason(): string | false {
  if (findTurnserver() !== undefined || process.env.CI === 'true') return false;
  return 'coturn turnserver is not installed (apt-get install coturn); interop test skipped';
}

const MAX_LOG_CHARS = 1 << 20;

export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  const binary = findTurnserver();
  if (binary === undefined) {
    throw new Error('turnserver (coturn) not found in PATH; install coturn to run this test');
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (err) {
      lastError = err; // most likely a port taken between probing and binding: try others
    }
  }
  throw lastError;
}

async function startOnce(binary: string, options: CoturnOptions): Promise<Coturn> {
  const dir = await mkdtemp(join(tmpdir(), 'rtcd-coturn-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  // Relay ports below Linux's ephemeral range (32768+) so they do not collide with the
  // sockets of concurrently running tests; coturn skips ports it cannot bind anyway.
  const min = 10_000 + 200 * Math.floor(Math.random() * 100);
  const relayPorts = { min, max: min + 199 };
  const args = [
    '-n',
    '--listening-ip=127.0.0.1',
    `--listening-port=${port}`,
    '--relay-ip=127.0.0.1',
    `--min-port=${relayPorts.min}`,
    `--max-port=${relayPorts.max}`,
    '--no-cli',
    '--no-dtls',
    '--log-file=stdout',
    '--simple-log',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--db=${join(dir, 'turndb')}`,
  ];
  let cert: string | undefined;
  if (tlsPort !== undefined) {
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await makeSelfSignedCert(certPath, keyPath);
    cert = await readFile(certPath, 'utf8');
    args.push(`--tls-listening-port=${tlsPort}`, `--cert=${certPath}`, `--pkey=${keyPath}`);
  } else {
    args.push('--no-tls');
  }
  if (options.allowLoopbackPeers ?? true) args.push('--allow-loopback-peers');
  args.push(...(options.flags ?? []));

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (chunk: Buffer): void => {
    if (log.length < MAX_LOG_CHARS) log += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 8000);
  const udp = !args.includes('--no-udp');
  try {
    await waitReady(child, port, udp, deadline);
    if (tlsPort !== undefined) await waitTcp(child, tlsPort, deadline);
  } catch (err) {
    await stop();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`turnserver did not start (${why}); args: ${args.join(' ')}\n${log}`);
  }
  return {
    port,
    ...(tlsPort === undefined ? {} : { tlsPort }),
    ...(cert === undefined ? {} : { cert }),
    relayPorts,
    logs: () => log,
    stop,
  };
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** A port free for both TCP and UDP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (port !== 0 && udpFree) return port;
  }
}

function assertAlive(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`turnserver exited (${child.exitCode ?? child.signalCode})`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitReady(
  child: ChildProcess,
  port: number,
  udp: boolean,
  deadline: number,
): Promise<void> {
  if (!udp) return waitTcp(child, port, deadline);
  while (Date.now() < deadline) {
    assertAlive(child);
    if (await bindingAnswered(port, 200)) return;
  }
  throw new Error(`no Binding response on udp ${port}`);
}

async function waitTcp(child: ChildProcess, port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    assertAlive(child);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listening on tcp ${port}`);
}

/**
 * Sends a bare 20-byte Binding request (RFC 8489 §5) and waits for any answer carrying its
 * transaction id: a readiness probe, deliberately independent of lib/stun.
 */
function bindingAnswered(port: number, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(request, 8);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('message', (msg) => {
      if (msg.length >= 20 && msg.subarray(8, 20).equals(request.subarray(8, 20))) finish(true);
    });
    socket.once('error', () => finish(false));
    socket.bind(0, '127.0.0.1', () => socket.send(request, port, '127.0.0.1'));
  });
}

const execFileAsync = promisify(execFile);

async function makeSelfSignedCert(certPath: string, keyPath: string): Promise<void> {
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
}
