/**
 * Janus (Debian's `janus` 1.1.2) for the SFU bench's Janus rows: configuration generated into
 * a temp dir (VideoRoom and the plain-HTTP transport only, ICE-lite like rtcd, no STUN, no
 * mDNS, no session timeout), run in a network namespace of its own. Janus needs a
 * non-loopback address to gather a host candidate, so the namespace gets a veth pair (both
 * ends inside it) with 10.99.0.1 on one end; the bench's clients run in the same namespace and
 * reach Janus and each other at that address, which the kernel delivers locally (no wire).
 * Needs root and iproute2.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Janus's address inside the namespace (the host candidate it announces). */
export const JANUS_ADDRESS = '10.99.0.1';
const HTTP_PORT = 8088;
const LIB = '/usr/lib/x86_64-linux-gnu/janus';
const START_TIMEOUT_MS = 15_000;
/** `getconf CLK_TCK` on Linux: /proc/<pid>/stat counts CPU time in 1/100 s. */
const CLOCK_TICKS = 100;
const LOG_LINES = 200;

const PLUGINS = [
  'audiobridge',
  'duktape',
  'echotest',
  'lua',
  'nosip',
  'recordplay',
  'sip',
  'streaming',
  'textroom',
  'videocall',
  'voicemail',
];
const TRANSPORTS = ['mqtt', 'nanomsg', 'pfunix', 'rabbitmq', 'websockets'];

const list = (names: readonly string[]): string => names.map((n) => `libjanus_${n}.so`).join(',');

function janusConfig(dir: string, eventLoops: number): string {
  return `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = 4
  interface = "${JANUS_ADDRESS}"
  session_timeout = 0
  event_loops = ${eventLoops}
}
certificates: {
}
media: {
}
nat: {
  ice_lite = true
  ignore_mdns = true
  ice_enforce_list = "${JANUS_ADDRESS}"
}
plugins: {
  disable = "${list(PLUGINS)}"
}
transports: {
  disable = "${list(TRANSPORTS)}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`;
}

const HTTP_CONFIG = `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${HTTP_PORT}
  https = false
}
admin: {
  admin_http = false
}
`;

export interface JanusCpu {
  /** User + system CPU time of the Janus process (all threads), µs. */
  cpuUs: number;
  rssBytes: number;
}

export class JanusProcess {
  /** The last lines Janus logged (for a report of why it did not forward). */
  readonly log: string[] = [];
  private exited = false;

  private constructor(
    readonly namespace: string,
    private readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    createInterface({ input: proc.stdout! }).on('line', (l) => this.keep(l));
    createInterface({ input: proc.stderr! }).on('line', (l) => this.keep(l));
    proc.once('exit', () => {
      this.exited = true;
    });
    process.once('exit', this.onParentExit);
  }

  /** If the bench exits without `stop()` (an error, `process.exit`), Janus and its namespace go. */
  private readonly onParentExit = (): void => {
    if (!this.exited) this.proc.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', this.namespace], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  };

  /** The Janus API base URL (reachable from inside the namespace only). */
  get url(): string {
    return `http://${JANUS_ADDRESS}:${HTTP_PORT}/janus`;
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  /** Makes the namespace, writes the configuration, starts Janus and waits for its API. */
  /**
   * `eventLoops`: Janus's `event_loops` (0, its default: a thread with its own event loop per
   * handle; N: N shared loops).
   */
  static async start(eventLoops = 0): Promise<JanusProcess> {
    const ns = `rtcd-${process.pid.toString(36)}${randomBytes(2).toString('hex')}-janus`;
    const ip = (...argv: string[]) => run('ip', ['netns', 'exec', ns, 'ip', ...argv]);
    await run('ip', ['netns', 'add', ns]);
    const dir = mkdtempSync(join(tmpdir(), 'rtcd-janus-'));
    let janus: JanusProcess | undefined;
    try {
      await ip('link', 'set', 'lo', 'up');
      await ip('link', 'add', 'bench0', 'type', 'veth', 'peer', 'name', 'bench1');
      await ip('addr', 'add', `${JANUS_ADDRESS}/24`, 'dev', 'bench0');
      await ip('link', 'set', 'bench0', 'up');
      await ip('link', 'set', 'bench1', 'up');
      writeFileSync(join(dir, 'janus.jcfg'), janusConfig(dir, eventLoops));
      writeFileSync(join(dir, 'janus.transport.http.jcfg'), HTTP_CONFIG);
      writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
      const proc = spawn(
        'ip',
        ['netns', 'exec', ns, 'janus', '-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      janus = new JanusProcess(ns, dir, proc);
      await janus.waitForApi();
      return janus;
    } catch (err) {
      if (janus) await janus.stop();
      else {
        await run('ip', ['netns', 'del', ns]).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** CPU time and RSS from /proc/<pid>/stat and /proc/<pid>/status. */
  usage(): JanusCpu {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return { cpuUs: (ticks * 1e6) / CLOCK_TICKS, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
  }

  /** Starts `node --import tsx <script>` inside the namespace with an IPC channel. */
  spawnNode(script: string, execArgv: readonly string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.namespace, process.execPath, ...execArgv, script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(timer);
    }
    process.off('exit', this.onParentExit);
    await run('ip', ['netns', 'del', this.namespace]).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }

  private keep(line: string): void {
    this.log.push(line);
    if (this.log.length > LOG_LINES) this.log.shift();
  }

  /** Janus logs this once its HTTP transport listens (the API is then up). */
  private async waitForApi(): Promise<void> {
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!this.log.some((l) => l.includes('HTTP webserver started'))) {
      if (this.exited) throw new Error(`janus exited:\n${this.log.slice(-20).join('\n')}`);
      if (performance.now() > deadline) {
        throw new Error(`janus API not up in ${START_TIMEOUT_MS} ms:\n${this.log.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
