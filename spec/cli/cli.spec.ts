/**
 * The `rtcd` executable as a user runs it: a child process (`node --import tsx bin/rtcd.ts`),
 * its exit code, stdout and stderr, and for `rtcd turn` / `rtcd dev` a real STUN Binding
 * (RFC 8489 §6) answered on the port it bound.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { kebab, turnOptions } from '../../lib/cli/option-spec.js';
import { reusePortSupported } from '../../lib/cli/platform.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { TurnClient } from '../../lib/turn/client.js';
import { VERSION } from '../../lib/version.js';
import { makeCertificate, removeDir } from '../turn/server-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HAS_SERVER = existsSync(new URL('../../lib/turn/server.ts', import.meta.url));
const NO_SERVER = HAS_SERVER ? false : 'lib/turn/server.ts (helper "core") not there yet';
/**
 * `--workers` needs dgram reusePort (Node >= 22.12). CI runs Node 20, so the cluster test runs
 * there only with RTCD_WORKERS_NODE=/path/to/node22; on a new enough Node it always runs.
 */
const WORKERS_NODE =
  process.env.RTCD_WORKERS_NODE || (reusePortSupported() ? process.execPath : undefined);
const NO_WORKERS =
  NO_SERVER || (WORKERS_NODE ? false : 'needs Node >= 22.12: set RTCD_WORKERS_NODE');

/** The test's own environment without RTCD_* settings that would leak into the CLI. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RTCD_')) env[k] = v;
  return { ...env, ...extra };
}

function start(
  args: string[],
  env: Record<string, string> = {},
  node = process.execPath,
): ChildProcess & {
  out: () => string;
  err: () => string;
} {
  const child = spawn(node, ['--import', 'tsx', 'bin/rtcd.ts', ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
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

async function run(args: string[], env: Record<string, string> = {}) {
  const child = start(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: child.out(), stderr: child.err() };
}

/** Resolves with the first stdout text `match` accepts, or rejects on exit or timeout. */
function waitFor<T>(
  child: ReturnType<typeof start>,
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

/** A port free for both UDP and TCP on 127.0.0.1 (for options that refuse port 0). */
async function freePort(): Promise<number> {
  for (;;) {
    const tcp = createServer().listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as AddressInfo).port;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    tcp.close();
    if (ok) return port;
  }
}

/** A Binding request as raw bytes (RFC 8489 §5): type 0x0001, length 0, cookie, id. */
function bindingRequest(): { bytes: Buffer; id: Buffer } {
  const id = randomBytes(12);
  const bytes = Buffer.alloc(20);
  bytes.writeUInt16BE(0x0001, 0);
  bytes.writeUInt32BE(0x2112a442, 4);
  id.copy(bytes, 8);
  return { bytes, id };
}

/** Sends a Binding request; resolves with the response's message type, or rejects on timeout. */
async function stunBinding(port: number): Promise<number> {
  const socket = createSocket('udp4');
  try {
    const { bytes, id } = bindingRequest();
    const reply = new Promise<Buffer>((resolve) => {
      socket.on('message', (m: Buffer) => {
        if (m.length >= 20 && m.subarray(8, 20).equals(id)) resolve(m);
      });
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      socket.send(bytes, port, '127.0.0.1');
      const got = await Promise.race([reply, new Promise((r) => setTimeout(r, 500))]);
      if (got instanceof Buffer) return got.readUInt16BE(0);
    }
    throw new Error(`no STUN response from 127.0.0.1:${port}`);
  } finally {
    socket.close();
  }
}

/** The JSON log lines whose `msg` is `msg`. */
function logLines(stdout: string, msg: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{') || !text.endsWith('}')) continue;
    const entry = JSON.parse(text) as Record<string, unknown>;
    if (entry.msg === msg) found.push(entry);
  }
  return found;
}

/** The first JSON log line whose `msg` is `msg`, once it appears. */
function logLine(msg: string) {
  return (stdout: string): Record<string, unknown> | undefined => logLines(stdout, msg)[0];
}

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

t.test('--help lists the commands and exits 0', async (t) => {
  const r = await run(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /Usage: rtcd/);
  t.match(r.stdout, /turn \[options\]/);
  t.match(r.stdout, /sfu \[options\]/);
  t.match(r.stdout, /dev \[options\]/);
  t.equal(r.stderr, '');
});

t.test('--version prints the package version', async (t) => {
  const r = await run(['--version']);
  t.equal(r.code, 0);
  t.equal(r.stdout.trim(), VERSION);
});

t.test('turn --help documents every option, the environment and the config file', async (t) => {
  const r = await run(['turn', '--help']);
  t.equal(r.code, 0);
  for (const key of Object.keys(turnOptions)) t.match(r.stdout, `--${kebab(key)}`, key);
  t.match(r.stdout, /RTCD_LISTEN=/);
  t.match(r.stdout, /"listen": \["0\.0\.0\.0:3478"\]/);
});

t.test('usage errors exit 2 with one line on stderr', async (t) => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown option', ['turn', '--lisen', '1'], {}, /^rtcd: unknown option '--lisen'/],
    [
      'bad flag value',
      ['turn', '--max-port', '70000'],
      {},
      /^rtcd: invalid --max-port "70000": must be an integer 1-65535\n$/,
    ],
    [
      'bad environment value',
      ['turn'],
      { RTCD_DENY_PEER: '10.0.0.0/99' },
      /^rtcd: invalid RTCD_DENY_PEER "10\.0\.0\.0\/99": must be a CIDR/,
    ],
    [
      'missing config file',
      ['turn', '--config', '/nonexistent/rtcd.json'],
      {},
      /^rtcd: cannot read config file \/nonexistent\/rtcd\.json: ENOENT\n$/,
    ],
    ['unknown command', ['tunr'], {}, /^rtcd: unknown command 'tunr'/],
  ];
  for (const [name, args, env, message] of cases) {
    const r = await run(args, env);
    t.equal(r.code, 2, `${name}: exit code`);
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line`);
    t.match(r.stderr, message, name);
    t.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
});

t.test(
  '--workers on Node < 22.12 says so in one line and runs one process',
  { skip: NO_SERVER || (reusePortSupported() ? 'this Node supports reusePort' : false) },
  async (t) => {
    const child = start([
      'turn',
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--workers',
      '2',
      '--metrics-listen',
      '127.0.0.1:0',
    ]);
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    await waitFor(child, logLine('rtcd turn listening'));
    t.match(
      child.err(),
      /^rtcd: --workers needs Node >= 22\.12 for dgram reusePort \(this is v20\.[\d.]+\); running one process\n$/,
    );
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 0);
  },
);

t.test(
  'turn starts, answers a STUN Binding and exits 0 on SIGTERM',
  { skip: NO_SERVER },
  async (t) => {
    const child = start(
      ['turn', '--listen', '127.0.0.1:0', '--realm', 'cli.test', '--log-level', 'info'],
      {
        RTCD_USER: 'alice:secret',
      },
    );
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const entry = await waitFor(child, logLine('rtcd turn listening'));
    const udp = (entry.udp as { host: string; port: number }[])[0]!;
    t.equal(udp.host, '127.0.0.1');
    t.ok(udp.port > 0, 'a real port for :0');
    t.equal(await stunBinding(udp.port), 0x0101, 'Binding success response');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 0, `exit code\n${child.err()}`);
    t.match(child.out(), /"msg":"closed"/);
  },
);

t.test(
  'turn: a bad value caught by TurnServer is one usage line too',
  { skip: NO_SERVER },
  async (t) => {
    // Alone, --max-port 1000 is a valid port; against the default --min-port 49152 it is not.
    const r = await run(['turn', '--listen', '127.0.0.1:0', '--max-port', '1000']);
    t.equal(r.code, 2, r.stderr);
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1);
    t.match(r.stderr, /^rtcd: invalid --(max|min)-port: /);
  },
);

t.test(
  'dev prints the credential block and relays STUN on its port',
  { skip: NO_SERVER },
  async (t) => {
    const child = start(['dev', '--port', '0', '--signal-port', '0', '--sfu-port', '0']);
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const block = await waitFor(child, (out) =>
      out.includes('Stop with Ctrl-C.') ? out : undefined,
    );
    const port = Number(/stun:127\.0\.0\.1:(\d+)/.exec(block)?.[1]);
    t.ok(port > 0, 'STUN URL with the bound port');
    t.match(block, /turn:127\.0\.0\.1:\d+\?transport=udp/);
    t.match(block, /turn:127\.0\.0\.1:\d+\?transport=tcp/);
    t.match(block, /username +dev\n/);
    t.match(block, /password +[\w-]{16}\n/);
    t.match(block, /REST secret +[\w-]{32}\n/);
    const json = /RTCIceServer:\n\s*(\{[\s\S]*?\n\s*\})/.exec(block)?.[1];
    const ice = JSON.parse(json ?? 'null') as {
      urls: string[];
      username: string;
      credential: string;
    };
    t.equal(ice.username, 'dev');
    t.match(block, `password     ${ice.credential}`);
    t.equal(await stunBinding(port), 0x0101);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 0);
  },
);

t.test('dev on a busy port fails with one clear line', { skip: NO_SERVER }, async (t) => {
  const busy = createSocket('udp4');
  busy.bind(0, '127.0.0.1');
  await once(busy, 'listening');
  t.teardown(() => busy.close());
  const r = await run(['dev', '--port', String(busy.address().port)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^rtcd: cannot start: 127\.0\.0\.1:\d+ is already in use .*--port\n$/);
});

t.test(
  'turn --workers 2: shared port, summed metrics, restart, drain',
  { skip: NO_WORKERS },
  async (t) => {
    const port = await freePort();
    const args = ['turn', '--listen', `127.0.0.1:${port}`, '--workers', '2'];
    const child = start([...args, '--metrics-listen', '127.0.0.1:0'], {}, WORKERS_NODE);
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const ready = await waitFor(child, logLine('rtcd turn listening'));
    t.equal(ready.workers, 2);
    const metricsPort = (ready.metrics as { port: number }).port;
    // Each Binding from a fresh socket is a new 5-tuple: the kernel hashes them across workers.
    const bindings = 8;
    for (let i = 0; i < bindings; i++) t.equal(await stunBinding(port), 0x0101);
    const metrics = await httpGet(metricsPort, '/metrics');
    t.match(
      metrics.body,
      `rtcd_turn_responses_total{method="binding",code="0"} ${bindings}`,
      'the primary sums both workers',
    );
    t.same(JSON.parse((await httpGet(metricsPort, '/healthz')).body), { status: 'ok' });

    const [first] = logLines(child.out(), 'worker listening');
    process.kill(Number(first!.workerPid), 'SIGKILL');
    await waitFor(child, (out) =>
      logLines(out, 'worker listening').length >= 3 ? true : undefined,
    );
    t.match(child.out(), /"msg":"worker died; starting a new one"/);
    t.equal(await stunBinding(port), 0x0101, 'still answering after the restart');

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 0, child.err());
  },
);

t.test(
  'turn --workers: a worker that cannot start stops everything with exit 1',
  { skip: NO_WORKERS },
  async (t) => {
    const port = await freePort();
    const args = [
      'turn',
      '--listen',
      `127.0.0.1:${port}`,
      '--workers',
      '2',
      '--users-file',
      '/nonexistent',
    ];
    const child = start(args, {}, WORKERS_NODE);
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 1);
    t.match(child.err(), /^rtcd: cannot start: ENOENT/m);
    t.match(child.out(), /"msg":"worker failed to start; stopping"/);
  },
);

/** Resolves true when nothing holds 127.0.0.1:`port` (a probe bind succeeds), else false. */
async function portFree(port: number): Promise<boolean> {
  const probe = createSocket('udp4');
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(port, '127.0.0.1', () => resolve(true));
  });
  probe.close();
  return free;
}

/**
 * Another process joins the reuseport group on 127.0.0.1:`port` (as a late worker would):
 * the kernel re-spreads unconnected 5-tuples over one more socket. Kill it to leave.
 */
async function joinReusePortGroup(node: string, port: number): Promise<ChildProcess> {
  const script = `const s = require('node:dgram').createSocket({ type: 'udp4', reusePort: true });
    s.bind(${port}, '127.0.0.1', () => console.log('bound'));`;
  const member = spawn(node, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(member.stdout!.setEncoding('utf8'), 'data')) as [string];
  if (line.trim() !== 'bound') throw new Error(`group member: ${line}`);
  return member;
}

/**
 * Sends `count` datagrams each way between `client` (over its channel) and `peer` (to the
 * relayed address), one every 5 ms; resolves with how many arrived each way within 1 s.
 */
async function relayBothWays(
  client: TurnClient,
  relayed: TransportAddress,
  peer: ReturnType<typeof createSocket>,
  count: number,
): Promise<{ toPeer: number; toClient: number }> {
  const tag = `${relayed.port}:${Math.random()}:`;
  let toPeer = 0;
  let toClient = 0;
  const fromPeer = (m: Buffer) => {
    if (m.toString().startsWith(tag)) toPeer++;
  };
  const fromClient = (_p: TransportAddress, d: Buffer) => {
    if (d.toString().startsWith(tag)) toClient++;
  };
  peer.on('message', fromPeer);
  client.on('data', fromClient);
  const { port, address } = peer.address();
  for (let i = 0; i < count; i++) {
    client.send({ family: 4, address, port }, Buffer.from(`${tag}${i}`));
    peer.send(`${tag}${i}`, relayed.port, relayed.address);
    await new Promise((r) => setTimeout(r, 5));
  }
  const deadline = Date.now() + 1000;
  while ((toPeer < count || toClient < count) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  peer.off('message', fromPeer);
  client.off('data', fromClient);
  return { toPeer, toClient };
}

t.test(
  'turn --workers 2: allocations of a live worker keep relaying when another is replaced',
  { skip: NO_WORKERS },
  async (t) => {
    // SO_REUSEPORT hashes 5-tuples over the group: when a worker dies and its replacement
    // binds, or any member joins, the hash moves clients between members. Each allocated
    // client has a connected socket in its worker (lib/turn/udp-client-socket.ts) that the
    // kernel prefers, so the survivor's clients must lose nothing. (Without those sockets the
    // replacement steals all or none of them, depending on the group's order; a third member
    // joining moves about a third of them.)
    const port = await freePort();
    const args = ['turn', '--listen', `127.0.0.1:${port}`, '--workers', '2'];
    const child = start(
      [...args, '--relay-ip', '127.0.0.1', '--allow-loopback-peers', '--drain-timeout', '0'],
      // Relay ports above Linux's ephemeral range, so the probe below sees only ours.
      {
        RTCD_USER: 'alice:secret',
        RTCD_MAX_ALLOCATIONS_PER_USER: '100',
        RTCD_MIN_PORT: '61000',
        RTCD_MAX_PORT: '65535',
      },
      WORKERS_NODE,
    );
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    await waitFor(child, logLine('rtcd turn listening'));
    const peer = createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    t.teardown(() => peer.close());
    const peerAddress = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };

    const allocations: { client: TurnClient; relayed: TransportAddress }[] = [];
    for (let i = 0; i < 16; i++) {
      const client = await TurnClient.connect({
        server: { host: '127.0.0.1', port },
        username: 'alice',
        password: 'secret',
        localAddress: '127.0.0.1',
        rtoMs: 100,
        closeTimeoutMs: 200,
      });
      t.teardown(() => client.close());
      const { relayed } = await client.allocate();
      await client.channelBind(peerAddress);
      allocations.push({ client, relayed });
    }
    for (const a of allocations) {
      const got = await relayBothWays(a.client, a.relayed, peer, 5);
      t.same(got, { toPeer: 5, toClient: 5 }, `before: ${a.relayed.port}`);
    }

    const [first] = logLines(child.out(), 'worker listening');
    process.kill(Number(first!.workerPid), 'SIGKILL');
    await waitFor(child, (out) =>
      logLines(out, 'worker listening').length >= 3 ? true : undefined,
    );
    // The dead worker's relay ports are free again; the survivor still holds its own.
    const survivors = [];
    for (const a of allocations) if (!(await portFree(a.relayed.port))) survivors.push(a);
    t.ok(survivors.length > 0 && survivors.length < allocations.length, 'both workers had some');
    let lost = 0;
    for (const a of survivors) {
      const got = await relayBothWays(a.client, a.relayed, peer, 5);
      lost += 10 - got.toPeer - got.toClient;
      t.same(got, { toPeer: 5, toClient: 5 }, `after: ${a.relayed.port}`);
    }
    t.equal(lost, 0, `no datagram lost on ${survivors.length} surviving allocations`);

    const member = await joinReusePortGroup(WORKERS_NODE!, port);
    t.teardown(() => {
      member.kill('SIGKILL');
    });
    lost = 0;
    for (const a of survivors) {
      const got = await relayBothWays(a.client, a.relayed, peer, 5);
      lost += 10 - got.toPeer - got.toClient;
    }
    t.equal(lost, 0, 'no datagram lost with a third member in the group');

    await Promise.all(allocations.map((a) => a.client.close()));
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    t.equal(code, 0, child.err());
  },
);

t.test(
  'turn: SIGHUP reloads --cert/--key; open TLS connections keep going',
  { skip: NO_SERVER },
  async (t) => {
    const first = await makeCertificate();
    t.teardown(() => removeDir(first.dir));
    const second = await makeCertificate(first.dir);
    const cert = `${first.dir}/live-cert.pem`;
    const key = `${first.dir}/live-key.pem`;
    await copyFile(first.cert, cert);
    await copyFile(first.key, key);
    const fingerprint = async (file: string) =>
      new X509Certificate(await readFile(file)).fingerprint256;
    const [port, tlsPort] = [await freePort(), await freePort()];
    const child = start([
      'turn',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-listen',
      `127.0.0.1:${tlsPort}`,
      '--cert',
      cert,
      '--key',
      key,
      '--user',
      'alice:secret',
    ]);
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    await waitFor(child, logLine('rtcd turn listening'));
    const open = () =>
      new Promise<TLSSocket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () =>
          resolve(s),
        );
        s.once('error', reject);
      });
    /** A STUN Binding over the TLS stream; resolves with the response's message type. */
    const bindingOver = (s: TLSSocket) =>
      new Promise<number>((resolve, reject) => {
        const { bytes } = bindingRequest();
        const timer = setTimeout(() => reject(new Error('no Binding response over TLS')), 3000);
        s.once('data', (d: Buffer) => {
          clearTimeout(timer);
          resolve(d.readUInt16BE(0));
        });
        s.write(bytes);
      });
    const old = await open();
    t.teardown(() => old.destroy());
    t.equal(
      old.getPeerX509Certificate()?.fingerprint256,
      await fingerprint(first.cert),
      'first cert',
    );
    t.equal(await bindingOver(old), 0x0101, 'Binding over TLS');

    await copyFile(second.cert, cert);
    await copyFile(second.key, key);
    child.kill('SIGHUP');
    const wanted = await fingerprint(second.cert);
    let seen: string | undefined;
    for (let i = 0; i < 50 && seen !== wanted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const s = await open();
      seen = s.getPeerX509Certificate()?.fingerprint256;
      s.destroy();
    }
    t.equal(seen, wanted, 'a new connection gets the reloaded certificate');
    t.equal(await bindingOver(old), 0x0101, 'the connection opened before SIGHUP still answers');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number | null];
    t.equal(code, 0, 'SIGTERM exits 0');
  },
);
