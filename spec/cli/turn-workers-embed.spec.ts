/**
 * `main()` embedded in another program runs `turn --workers 2` as the bin does: its workers
 * are rtcd's worker entry (not the embedding script run again, nor `process.argv[1]`, which a
 * `node -e` program does not have), with the embedder's node flags (`--import tsx` here) plus
 * `--max-semi-space-size=1`; they get the configuration and the shared NONCE secret over IPC
 * (no password in a worker's argv or environment), both allocate relays (RFC 8656 §7) on the
 * shared port, the primary sums their metrics, a replacement accepts the dead worker's nonces,
 * and SIGTERM drains them and exits 0. An option TurnServer refuses stops the primary before any
 * worker starts, with one usage line and exit 2.
 *
 * Needs dgram reusePort (Node >= 22.12): RTCD_WORKERS_NODE names such a node when the runner's
 * is older (as for spec/cli/cli.spec.ts); without one the tests fail rather than skip.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { reusePortSupported } from '../../lib/cli/platform.js';
import {
  AttributeType,
  decodeErrorCode,
  decodeStunMessage,
  decodeXorAddress,
  encodeRequestedTransport,
  longTermKey,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
} from '../../lib/stun/index.js';
import { freePort } from '../interop/processes.js';
import { type Child, startNode, waitForOutput } from '../signal/child.js';

const NODE = process.env.RTCD_WORKERS_NODE || (reusePortSupported() ? process.execPath : undefined);
const USER = 'alice';
const PASSWORD = 'embed-pass-7f3a';

t.test('a node with reusePort runs these tests (RTCD_WORKERS_NODE)', (t) => {
  t.ok(NODE, 'set RTCD_WORKERS_NODE to a Node >= 22.12');
  t.end();
});

function spawnNode(args: string[]): Child {
  return startNode(
    NODE ?? process.execPath,
    args,
    { RTCD_LOG_LEVEL: 'info' },
    { semiSpace: false },
  );
}

function args(port: number): string[] {
  return [
    '--listen',
    `127.0.0.1:${port}`,
    '--workers',
    '2',
    '--metrics-listen',
    '127.0.0.1:0',
    '--user',
    `${USER}:${PASSWORD}`,
    '--relay-ip',
    '127.0.0.1',
    '--drain-timeout',
    '0',
  ];
}

/** Sends `bytes` from `socket` until the response to `id` comes (RFC 8489 §6.2.1, short). */
async function transact(socket: Socket, port: number, bytes: Buffer): Promise<StunMessage> {
  const id = bytes.subarray(8, 20);
  return new Promise((resolve, reject) => {
    const onMessage = (m: Buffer) => {
      const r = decodeStunMessage(m);
      if (!r.ok || !r.message.transactionId.equals(id)) return;
      done();
      resolve(r.message);
    };
    const send = () => socket.send(bytes, port, '127.0.0.1');
    const retry = setInterval(send, 500);
    const timer = setTimeout(() => {
      done();
      reject(new Error('no STUN response in 5 s'));
    }, 5000);
    const done = () => {
      clearInterval(retry);
      clearTimeout(timer);
      socket.off('message', onMessage);
    };
    socket.on('message', onMessage);
    send();
  });
}

function errorCode(m: StunMessage): number | undefined {
  const a = m.get(AttributeType.ERROR_CODE);
  return a === undefined ? undefined : decodeErrorCode(m, a)?.code;
}

/** A TURN client on its own UDP socket: the 401's realm and nonce, then signed requests. */
class RawClient {
  realm = '';
  nonce = '';
  /** The relayed port of its allocation, once allocated. */
  relayed = 0;
  private constructor(
    readonly socket: Socket,
    private readonly port: number,
  ) {}

  static async open(port: number): Promise<RawClient> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RawClient(socket, port);
  }

  private build(method: number): StunMessageBuilder {
    return new StunMessageBuilder(StunClass.request, method, randomBytes(12));
  }

  private sign(b: StunMessageBuilder): Buffer {
    return b
      .addString(AttributeType.USERNAME, USER)
      .addString(AttributeType.REALM, this.realm)
      .addString(AttributeType.NONCE, this.nonce)
      .addMessageIntegrity(longTermKey(USER, this.realm, PASSWORD))
      .toBuffer();
  }

  /** Allocates (401 first, RFC 8656 §7.2 / RFC 8489 §9.2); resolves with the relayed port. */
  async allocate(): Promise<number> {
    const udp = () =>
      this.build(StunMethod.allocate).add(
        AttributeType.REQUESTED_TRANSPORT,
        encodeRequestedTransport(17),
      );
    const challenge = await transact(this.socket, this.port, udp().toBuffer());
    if (errorCode(challenge) !== 401) throw new Error(`expected 401, got ${errorCode(challenge)}`);
    this.realm = challenge.value(AttributeType.REALM)!.toString();
    this.nonce = challenge.value(AttributeType.NONCE)!.toString();
    const r = await transact(this.socket, this.port, this.sign(udp()));
    const relayed = r.get(AttributeType.XOR_RELAYED_ADDRESS);
    if (r.messageClass !== StunClass.success || relayed === undefined) {
      throw new Error(`allocate failed: ${errorCode(r)}`);
    }
    this.relayed = decodeXorAddress(r, relayed)!.port;
    return this.relayed;
  }

  /** A signed Refresh with the nonce learnt earlier; resolves with its error code, if any. */
  async refresh(): Promise<number | undefined> {
    return errorCode(
      await transact(this.socket, this.port, this.sign(this.build(StunMethod.refresh))),
    );
  }

  /** A Binding (RFC 8489 §6): true on a success response. */
  async binding(): Promise<boolean> {
    const r = await transact(this.socket, this.port, this.build(StunMethod.binding).toBuffer());
    return r.method === StunMethod.binding && r.messageClass === StunClass.success;
  }
}

/** The process among `pids` holding a UDP socket bound to 127.0.0.1:`port`, from /proc. */
function udpOwner(pids: readonly number[], port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === `0100007F:${hexPort}`)
    .map((f) => `socket:[${f[9]}]`);
  return pids.find((pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false; // closed meanwhile
      }
    }),
  );
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

/** SIGTERM; resolves with the exit code, or null if it took over 20 s (then SIGKILL). */
async function stop(child: Child): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

function workerPids(child: Child): number[] {
  return child
    .out()
    .split('\n')
    .filter((l) => l.includes('"worker listening"'))
    .map((l) => (JSON.parse(l) as { workerPid: number }).workerPid);
}

/**
 * Checks a running primary: its workers are the entry with the embedder's flags and no secret
 * in argv/environment; allocations land on both; metrics sum both. Resolves with the clients.
 */
async function checkServes(t: Test, child: Child, port: number): Promise<RawClient[]> {
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const ready = await waitForOutput(child, (out) => {
    const line = out.split('\n').find((l) => l.includes('rtcd turn listening'));
    return line === undefined
      ? undefined
      : (JSON.parse(line) as { workers: number; metrics: { port: number } });
  });
  t.equal(ready.workers, 2);
  const pids = workerPids(child);
  t.equal(pids.length, 2, 'two workers listening');
  for (const pid of pids) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    t.match(argv.at(-2) ?? '', /lib\/cli\/turn-worker-entry\.ts$/, 'the worker runs the entry');
    t.ok(argv.includes('tsx'), 'with the embedder’s --import tsx');
    t.ok(argv.includes('--max-semi-space-size=1'), 'and the small semi-space');
    t.notOk(argv.join(' ').includes(PASSWORD), 'no password in the worker’s argv');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    t.notOk(/NONCE_SECRET|embed-pass/.test(environ), 'no secret in its environment');
  }
  const clients: RawClient[] = [];
  t.teardown(() => {
    for (const c of clients) c.socket.close();
  });
  const owners = new Set<number>();
  // Each client is a new 5-tuple, which the kernel hashes over the group: until both own one.
  while (owners.size < 2 && clients.length < 32) {
    const c = await RawClient.open(port);
    clients.push(c);
    const relayed = await c.allocate();
    const owner = udpOwner(pids, relayed);
    if (owner !== undefined) owners.add(owner);
  }
  t.same([...owners].sort(), [...pids].sort(), `both workers allocate (${clients.length} tries)`);
  for (const c of clients) t.ok(await c.binding(), 'Binding success');
  const metrics = await httpGet(ready.metrics.port, '/metrics');
  t.match(
    metrics,
    `rtcd_turn_responses_total{method="allocate",code="0"} ${clients.length}`,
    'the primary sums both workers',
  );
  return clients;
}

t.test('a script calling main() with its own argv', { skip: !NODE }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-turn-embed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runs = join(dir, 'runs');
  const port = await freePort();
  const child = spawnNode([
    '--import',
    'tsx',
    'spec/cli/turn-workers-embed-child.ts',
    runs,
    ...args(port),
  ]);
  const clients = await checkServes(t, child, port);

  // The worker holding the first allocation dies; its replacement got the same NONCE secret
  // over IPC. That client's 5-tuple now reaches another worker, which has no allocation for
  // it: 437 means the nonce and integrity passed, 438 that the nonce was not accepted.
  const [first] = clients;
  const pids = workerPids(child);
  const victim = udpOwner(pids, first!.relayed);
  t.ok(victim, 'the first allocation’s worker');
  process.kill(victim!, 'SIGKILL');
  await waitForOutput(child, (out) =>
    out.split('\n').filter((l) => l.includes('"worker listening"')).length >= 3 ? true : undefined,
  );
  t.match(child.out(), /"msg":"worker died; starting a new one"/);
  t.equal(await first!.refresh(), 437, 'the dead worker’s nonce is accepted elsewhere');

  t.equal(await stop(child), 0, 'SIGTERM drains the workers and exits 0');
  t.equal(readFileSync(runs, 'utf8').trim().split('\n').length, 1, 'the script ran once');
});

t.test('node -e code calling main() (no process.argv[1])', { skip: !NODE }, async (t) => {
  const port = await freePort();
  const main = new URL('../../lib/cli/main.ts', import.meta.url).href;
  const code =
    `const { main } = await import(${JSON.stringify(main)});\n` +
    `await main(['node', 'inline', 'turn', ${args(port)
      .map((a) => JSON.stringify(a))
      .join(', ')}]);`;
  const child = spawnNode(['--import', 'tsx', '--input-type=module', '-e', code]);
  await checkServes(t, child, port);
  t.equal(await stop(child), 0, 'SIGTERM drains the workers and exits 0');
});

t.test('an option TurnServer refuses is a usage error of the primary (exit 2)', async (t) => {
  const port = await freePort();
  const child = spawnNode([
    '--import',
    'tsx',
    'bin/rtcd.ts',
    'turn',
    '--listen',
    `127.0.0.1:${port}`,
    '--workers',
    '2',
    '--default-lifetime',
    '7200',
    '--max-lifetime',
    '3600',
  ]);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 2, 'as without --workers');
  t.match(child.err(), /^rtcd: invalid --default-lifetime: [^\n]*\n$/, 'one line, no worker');
  t.notMatch(child.out(), /worker/, 'no worker was started');
});
