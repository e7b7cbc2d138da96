/**
 * The servers under test, each a separate process on 127.0.0.1: the bare Node forwarder,
 * `rtcd turn` (one process or `--workers N`), and coturn's `turnserver`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopProcess, stopTree, tsxArgs } from './proc.js';
import type { Credentials, Endpoint } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
const HOST = '127.0.0.1';
/**
 * Relay ports of rtcd and coturn: above Linux's ephemeral range (32768-60999), so relay sockets
 * do not collide with client sockets, and apart from the ranges the interop specs use
 * (≤ 31999). 4536 ports: coturn keeps a deleted allocation's port for a while, so the 2 × 2000
 * allocation cycles need more than a few hundred.
 */
export const RELAY_PORTS = { min: 61_000, max: 65_535 };

export type ServerId = 'bare' | 'rtcd' | 'rtcd-workers' | 'coturn';

export interface RunningServer {
  id: ServerId;
  /** What ran, e.g. `node 20.20.2` or `coturn 4.6.1, 2 relay threads`. */
  runtime: string;
  /** Process whose tree's CPU time is measured. */
  pid: number;
  endpoint: Endpoint;
  /** How generator flows reach it. */
  mode: 'bare' | 'turn';
  stop(): Promise<void>;
}

export type StartResult = { ok: true; server: RunningServer } | { ok: false; skip: string };

export interface StartContext {
  /** Peer sinks (the bare forwarder maps channel 0x4000 + i to sink i). */
  sinks: Endpoint[];
  users: Credentials[];
  realm: string;
  /** Process count for `rtcd turn --workers N`, relay threads for coturn. */
  workers: number;
  /** `node` binary for the `--workers` row (RTCD_BENCH_NODE), default this process's. */
  workersNode: string;
  /** `node` binary for the bare forwarder and single-process rtcd. */
  node: string;
  /** SO_RCVBUF of the bare forwarder's sockets; 0 keeps the system default. */
  bareRecvBuffer: number;
}

/** A port free for both UDP and TCP on 127.0.0.1 (rtcd and coturn listen on both). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((ok) => udp.bind(0, HOST, () => ok(udp.address().port)));
    const tcp = createServer();
    const free = await new Promise<boolean>((ok) => {
      tcp.once('error', () => ok(false));
      tcp.listen(port, HOST, () => ok(true));
    });
    await new Promise<void>((ok) => (free ? tcp.close(() => ok()) : ok()));
    await new Promise<void>((ok) => udp.close(() => ok()));
    if (free) return port;
  }
  throw new Error('no free UDP+TCP port on 127.0.0.1');
}

/**
 * Resolves true once something at `ep` answers a STUN Binding request (RFC 8489 §6); false
 * after `timeoutMs` or as soon as `giveUp` settles (the server process exited).
 */
export async function waitForStun(
  ep: Endpoint,
  timeoutMs: number,
  giveUp?: Promise<unknown>,
): Promise<boolean> {
  const req = Buffer.alloc(20);
  req.writeUInt16BE(0x0001, 0); // Binding request, length 0
  req.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(req, 8);
  const s = createSocket('udp4');
  s.on('error', () => {});
  let retry: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    return await new Promise<boolean>((ok) => {
      deadline = setTimeout(() => ok(false), timeoutMs);
      giveUp?.then(
        () => ok(false),
        () => ok(false),
      );
      retry = setInterval(() => s.send(req, ep.port, ep.host), 150);
      s.on('message', (m) => {
        if (m.length >= 20 && m.readUInt32BE(4) === 0x2112a442) ok(true);
      });
      s.send(req, ep.port, ep.host);
    });
  } finally {
    clearTimeout(deadline);
    clearInterval(retry);
    s.close();
  }
}

/** Resolves true once `output()` matches `re`; false on timeout or when `giveUp` settles. */
async function waitForOutput(
  output: () => string,
  re: RegExp,
  timeoutMs: number,
  giveUp: Promise<unknown>,
): Promise<boolean> {
  let gone = false;
  giveUp.then(
    () => (gone = true),
    () => (gone = true),
  );
  for (const end = Date.now() + timeoutMs; Date.now() < end && !gone; ) {
    if (re.test(output())) return true;
    await sleep(50);
  }
  return re.test(output());
}

/** `process.versions.node` of a `node` binary, or undefined if it does not run. */
export function nodeVersion(node: string): string | undefined {
  try {
    return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** dgram's `reusePort` arrived in Node 22.12 (and 23.1). */
export function hasReusePort(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export async function startBare(ctx: StartContext): Promise<StartResult> {
  const peers = ctx.sinks.map((s) => `${s.host}:${s.port}`).join(',');
  const file = resolve(here, 'bare-forwarder.ts');
  const args = [...tsxArgs(), file, '--listen', `${HOST}:0`, '--peers', peers];
  args.push('--recv-buffer', String(ctx.bareRecvBuffer));
  const { proc, output } = spawnServer(ctx.node, args);
  const port = await new Promise<number | undefined>((ok) => {
    const timer = setTimeout(() => ok(undefined), 15_000);
    let line = '';
    proc.stdout?.on('data', (b: Buffer) => {
      line += b.toString('utf8');
      const m = /\{"port":(\d+)\}/.exec(line);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.once('exit', () => ok(undefined));
  });
  if (port === undefined) {
    await stopProcess(proc);
    throw new Error(`bare forwarder did not start:\n${output()}`);
  }
  return {
    ok: true,
    server: {
      id: 'bare',
      runtime: `node ${nodeVersion(ctx.node) ?? '?'}`,
      pid: proc.pid ?? 0,
      endpoint: { host: HOST, port },
      mode: 'bare',
      stop: () => stopProcess(proc),
    },
  };
}

/** The rtcd entry point: built dist if asked for and present, else the sources through tsx. */
function rtcdEntry(useDist: boolean): string[] | undefined {
  const dist = resolve(repoRoot, 'dist/bin/rtcd.js');
  if (useDist && existsSync(dist)) return [dist];
  const src = resolve(repoRoot, 'bin/rtcd.ts');
  return existsSync(src) ? [...tsxArgs(), src] : undefined;
}

export async function startRtcd(
  ctx: StartContext,
  o: { workers?: number; useDist?: boolean; dgramSend?: boolean },
): Promise<StartResult> {
  const id: ServerId = o.workers ? 'rtcd-workers' : 'rtcd';
  const node = o.workers ? ctx.workersNode : ctx.node;
  const version = nodeVersion(node);
  if (version === undefined) return { ok: false, skip: `cannot run ${node}` };
  if (o.workers && !hasReusePort(version)) {
    return {
      ok: false,
      skip:
        `--workers needs Node >= 22.12 (reusePort); ${node} is ${version}. ` +
        'Set RTCD_BENCH_NODE to a Node 22 binary (see bench/RESULTS.md).',
    };
  }
  const entry = rtcdEntry(o.useDist ?? false);
  if (!entry) return { ok: false, skip: 'bin/rtcd.ts not found' };
  const port = await freePort();
  const args = [
    ...entry,
    'turn',
    '--listen',
    `${HOST}:${port}`,
    '--relay-ip',
    HOST,
    '--min-port',
    String(RELAY_PORTS.min),
    '--max-port',
    String(RELAY_PORTS.max),
    '--realm',
    ctx.realm,
    '--allow-loopback-peers',
    // info: the primary logs 'rtcd turn listening' once every worker listens (nothing per packet).
    '--log-level',
    'info',
    '--drain-timeout',
    '1000',
    // Equivalent to coturn's defaults: no bandwidth quota, allocations limited only by ports.
    '--max-bps',
    '100000000000',
    '--bps-capacity',
    '100000000000',
    '--max-allocations-per-user',
    '1000',
  ];
  for (const u of ctx.users) args.push('--user', `${u.username}:${u.password}`);
  if (o.workers) args.push('--workers', String(o.workers));
  if (o.dgramSend) args.push('--no-fast-udp-send');
  const { proc, output } = spawnServer(node, args);
  const endpoint = { host: HOST, port };
  const exited = once(proc, 'exit');
  // With --workers, the first worker answers STUN before the others bind; a client hashed to
  // one worker now could be re-hashed to another when the next one joins the reusePort group.
  const up =
    (await waitForStun(endpoint, 20_000, exited)) &&
    (await waitForOutput(output, /rtcd turn listening/, 20_000, exited));
  if (!up) {
    await stopProcess(proc);
    const out = output().trim();
    if (o.workers && /workers|unknown option/i.test(out)) {
      return { ok: false, skip: `rtcd turn --workers not available: ${lastLine(out)}` };
    }
    return { ok: false, skip: `rtcd turn did not start: ${lastLine(out) || 'no output'}` };
  }
  const runtime = `node ${version}${o.workers ? `, ${o.workers} workers` : ''}`;
  return {
    ok: true,
    server: {
      id,
      runtime,
      pid: proc.pid ?? 0,
      endpoint,
      mode: 'turn',
      stop: () => stopTree(proc, 5000),
    },
  };
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return (lines.at(-1) ?? '').slice(0, 300);
}

export const COTURN = '/usr/bin/turnserver';

export async function startCoturn(ctx: StartContext): Promise<StartResult> {
  if (!existsSync(COTURN)) return { ok: false, skip: `${COTURN} not installed` };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-bench-coturn-'));
  const args = [
    '-n',
    '--listening-ip',
    HOST,
    '--listening-port',
    String(port),
    '--relay-ip',
    HOST,
    '--min-port',
    String(RELAY_PORTS.min),
    '--max-port',
    String(RELAY_PORTS.max),
    '--realm',
    ctx.realm,
    '--lt-cred-mech',
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-rfc5780',
    '--relay-threads',
    String(ctx.workers),
    '--no-stdout-log',
    '--log-file',
    '/dev/null',
    // Its own pid file and user database, not the shared /var defaults.
    '--pidfile',
    join(dir, 'turnserver.pid'),
    '--db',
    join(dir, 'turndb'),
  ];
  for (const u of ctx.users) args.push('--user', `${u.username}:${u.password}`);
  const { proc, output } = spawnServer(COTURN, args);
  const endpoint = { host: HOST, port };
  const stop = async (): Promise<void> => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForStun(endpoint, 10_000, once(proc, 'exit')))) {
    await stop();
    return { ok: false, skip: `coturn did not start: ${lastLine(output())}` };
  }
  return {
    ok: true,
    server: {
      id: 'coturn',
      runtime: `${coturnVersion()}, ${ctx.workers} relay threads`,
      pid: proc.pid ?? 0,
      endpoint,
      mode: 'turn',
      stop,
    },
  };
}

function coturnVersion(): string {
  try {
    const v = execFileSync(COTURN, ['--version'], { encoding: 'utf8' }).trim();
    return `coturn ${v.split('\n')[0]}`;
  } catch {
    return 'coturn';
  }
}
