/**
 * Real NATs for ICE tests, built from Linux network namespaces (needs root, iproute2 and
 * iptables). `buildNatTopology` makes, with names unique to this process:
 *
 *   pub   198.51.100.1 (to natA) and 203.0.113.1 (to natB); forwards; runs the TURN server
 *   natA  WAN 198.51.100.2, LAN 10.0.1.1; MASQUERADE out of WAN
 *   privA 10.0.1.2, default route via natA                        (agent A)
 *   natB  WAN 203.0.113.2, LAN 10.0.2.1; MASQUERADE out of WAN
 *   privB 10.0.2.2, default route via natB                        (agent B)
 *
 * What the NATs are (Linux conntrack):
 * - 'eim': plain `MASQUERADE`. Netfilter keeps the source port when it is free, and one
 *   private socket talking to several servers gets the same public port for each: the
 *   mapping is endpoint-independent (RFC 4787 §4.1). Inbound packets pass only as replies to
 *   a conntrack entry, i.e. from an address and port the inside sent to first: filtering is
 *   address-and-port-dependent ("port-restricted cone"). Unsolicited inbound packets are
 *   dropped in INPUT so they never leave a conntrack entry behind (see below), as a home
 *   router behaves. Hole punching works between two of these.
 * - 'symmetric': `MASQUERADE --random-fully`. Every new 5-tuple gets a random public port, so
 *   the port a STUN server saw is useless to a peer: address-and-port-dependent mapping.
 *   Against a port-restricted peer only the relay gets through.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type NatKind = 'eim' | 'symmetric';

export interface NatTopology {
  /** Namespace names. */
  readonly pub: string;
  readonly privA: string;
  readonly privB: string;
  /** The TURN server's address as both sides see it. */
  readonly pubAddress: string;
  /** Runs `argv` in namespace `ns`; resolves with stdout. */
  exec(ns: string, argv: string[]): Promise<string>;
  /** Starts `node --import tsx script args` inside `ns`, talking JSON lines. */
  spawnNode(ns: string, script: string, args: string[]): JsonChild;
  destroy(): Promise<void>;
}

export class JsonChild {
  private readonly waiters: { match(m: JsonEvent): boolean; resolve(m: JsonEvent): void }[] = [];
  readonly events: JsonEvent[] = [];
  readonly stderr: string[] = [];
  private exited = false;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: JsonEvent;
      try {
        m = JSON.parse(line) as JsonEvent;
      } catch {
        this.stderr.push(line);
        return;
      }
      this.events.push(m);
      for (const w of [...this.waiters]) {
        if (w.match(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    child.on('exit', () => {
      this.exited = true;
    });
  }

  /** The first event (past or future) for which `match` holds; rejects after `ms`. */
  wait(match: (m: JsonEvent) => boolean, ms = 15_000): Promise<JsonEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out; events: ${JSON.stringify(this.events)} ${this.stderr}`));
      }, ms);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  send(cmd: Record<string, unknown>): void {
    if (!this.exited) this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  }
}

export type JsonEvent = { event: string } & Record<string, unknown>;

async function ip(...argv: string[]): Promise<void> {
  await run('ip', argv);
}

async function nsExec(ns: string, argv: string[]): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, ...argv]);
  return stdout;
}

/** Builds the topology above; on any failure removes what it made and rethrows. */
export async function buildNatTopology(kindA: NatKind, kindB: NatKind): Promise<NatTopology> {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const names = {
    pub: `rtcd-${id}-pub`,
    natA: `rtcd-${id}-natA`,
    natB: `rtcd-${id}-natB`,
    privA: `rtcd-${id}-privA`,
    privB: `rtcd-${id}-privB`,
  };
  const made: string[] = [];
  const children: JsonChild[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(children.map((c) => c.stop().catch(() => {})));
    for (const ns of made.reverse()) await ip('netns', 'del', ns).catch(() => {});
  };
  try {
    for (const ns of Object.values(names)) {
      await ip('netns', 'add', ns);
      made.push(ns);
      await nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    const link = async (a: string, ifA: string, b: string, ifB: string): Promise<void> => {
      await ip('link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b);
      await nsExec(a, ['ip', 'link', 'set', ifA, 'up']);
      await nsExec(b, ['ip', 'link', 'set', ifB, 'up']);
    };
    const addr = (ns: string, cidr: string, dev: string): Promise<string> =>
      nsExec(ns, ['ip', 'addr', 'add', cidr, 'dev', dev]);
    const sides = [
      { nat: names.natA, priv: names.privA, wan: '198.51.100', lan: '10.0.1', kind: kindA, n: 'a' },
      { nat: names.natB, priv: names.privB, wan: '203.0.113', lan: '10.0.2', kind: kindB, n: 'b' },
    ];
    await nsExec(names.pub, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const s of sides) {
      await link(names.pub, `p${s.n}`, s.nat, 'wan');
      await link(s.nat, 'lan', s.priv, 'eth0');
      await addr(names.pub, `${s.wan}.1/24`, `p${s.n}`);
      await addr(s.nat, `${s.wan}.2/24`, 'wan');
      await addr(s.nat, `${s.lan}.1/24`, 'lan');
      await addr(s.priv, `${s.lan}.2/24`, 'eth0');
      await nsExec(s.nat, ['ip', 'route', 'add', 'default', 'via', `${s.wan}.1`]);
      await nsExec(s.priv, ['ip', 'route', 'add', 'default', 'via', `${s.lan}.1`]);
      await nsExec(s.nat, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      const masq = ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE'];
      if (s.kind === 'symmetric') masq.push('--random-fully');
      await nsExec(s.nat, masq);
      // Unsolicited packets to the NAT itself are dropped before their conntrack entry is
      // confirmed. Without this, a peer's early check (before our own went out) leaves an
      // entry for that public port and netfilter maps our later packets to a different port:
      // hole punching would fail the way it does on no home router.
      await nsExec(s.nat, [
        'iptables',
        '-A',
        'INPUT',
        '-i',
        'wan',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    pub: names.pub,
    privA: names.privA,
    privB: names.privB,
    pubAddress: '198.51.100.1',
    exec: nsExec,
    spawnNode(ns, script, args) {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...args],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      const c = new JsonChild(child);
      children.push(c);
      return c;
    },
    destroy,
  };
}
