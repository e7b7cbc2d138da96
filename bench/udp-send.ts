/**
 * `npm run bench -- udp-send [--datagrams 200000] [--rounds 3] [--bytes 1200]`
 *
 * CPU per datagram of Node's `socket.send` against `UdpSender` (lib/util/udp-send.ts: the
 * socket's libuv handle called as `socket.send` calls it), on loopback, in one process and
 * alternating modes round by round (the machine's speed drifts; ratios within a round hold).
 * Modes: `dgram` (`socket.send` with the literal lookup rtcd's sockets use), `handle`
 * (`UdpSender.send`), `handle-list` (`sendList` of a 4-byte head and the rest: TURN's
 * ChannelData shape), `handle-connected` (`sendConnected` on a connected socket). A receiver
 * in a child process drains the datagrams, so the kernel's delivery is counted as it is for a
 * server. Prints µs of CPU per datagram (user + system), scavenges per 100k, and each mode's
 * ratio to `dgram` in the same round.
 */
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { literalLookup } from '../lib/util/literal-lookup.js';
import { UdpSender } from '../lib/util/udp-send.js';
import { countScavenges } from './sfu/heap-sampler.js';

export const MODES = ['dgram', 'handle', 'handle-list', 'handle-connected'] as const;
export type Mode = (typeof MODES)[number];

export interface UdpSendConfig {
  datagrams: number;
  rounds: number;
  bytes: number;
}

export interface ModeResult {
  mode: Mode;
  round: number;
  usPerDatagram: number;
  scavengesPer100k: number;
  /** usPerDatagram of `dgram` in the same round / this mode's (> 1: cheaper than socket.send). */
  vsDgram: number;
}

export function parseConfig(args: string[]): UdpSendConfig {
  const { values: v } = parseArgs({
    args,
    options: {
      datagrams: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '3' },
      bytes: { type: 'string', default: '1200' },
      quick: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, s: string, min: number, max: number): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new TypeError(`--${name} must be an integer in ${min}..${max}, got ${s}`);
    }
    return n;
  };
  if (v.quick) return { datagrams: 2_000, rounds: 1, bytes: int('bytes', v.bytes, 8, 60_000) };
  return {
    datagrams: int('datagrams', v.datagrams, 1_000, 10_000_000),
    rounds: int('rounds', v.rounds, 1, 20),
    bytes: int('bytes', v.bytes, 8, 60_000),
  };
}

async function bound(connectTo?: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4', lookup: literalLookup });
  await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
  if (connectTo !== undefined)
    await new Promise<void>((ok) => s.connect(connectTo, '127.0.0.1', ok));
  return s;
}

/** Sends `n` datagrams in batches of 32, yielding every 1,024; CPU µs per datagram. */
async function timed(n: number, send: () => void): Promise<{ us: number; scavenges: number }> {
  const scavenges = countScavenges();
  const c0 = process.cpuUsage();
  for (let sent = 0; sent < n; ) {
    for (let i = 0; i < 32; i++) send();
    sent += 32;
    if ((sent & 1023) === 0) await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  return { us: (c.user + c.system) / n, scavenges: await scavenges() };
}

export async function runUdpSend(
  c: UdpSendConfig,
  log: (line: string) => void = console.log,
): Promise<ModeResult[]> {
  const sink = fork(fileURLToPath(new URL('./udp-send/sink.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const sockets: Socket[] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      sink.once('message', (m) => resolve(Number(m)));
      sink.once('exit', (code) => reject(new Error(`udp-send sink exited with ${code}`)));
    });
    const plain = await bound();
    const connected = await bound(port);
    sockets.push(plain, connected);
    const fast = new UdpSender(plain);
    const fastConnected = new UdpSender(connected);
    if (!fast.fast) log('note: this Node does not expose the handle; every mode is socket.send');
    const datagram = Buffer.alloc(c.bytes, 0x80);
    const list = [datagram.subarray(0, 4), datagram.subarray(4)];
    const send: Record<Mode, () => void> = {
      dgram: () => plain.send(datagram, port, '127.0.0.1'),
      handle: () => fast.send(datagram, port, '127.0.0.1'),
      'handle-list': () => fast.sendList(list, 2, port, '127.0.0.1'),
      'handle-connected': () => fastConnected.sendConnected(datagram),
    };
    const results: ModeResult[] = [];
    log(
      `UDP send, ${c.bytes} B datagrams to a receiver in another process, node ${process.version}`,
    );
    log('round  mode              µs/datagram  scavenges/100k  vs socket.send');
    for (let round = 1; round <= c.rounds; round++) {
      let base = 0;
      for (const mode of MODES) {
        const r = await timed(c.datagrams, send[mode]);
        if (mode === 'dgram') base = r.us;
        const row: ModeResult = {
          mode,
          round,
          usPerDatagram: r.us,
          scavengesPer100k: (r.scavenges * 1e5) / c.datagrams,
          vsDgram: base / Math.max(r.us, 1e-9),
        };
        results.push(row);
        log(
          `${String(round).padEnd(7)}${mode.padEnd(18)}${r.us.toFixed(3).padEnd(13)}` +
            `${row.scavengesPer100k.toFixed(1).padEnd(16)}${row.vsDgram.toFixed(2)}x`,
        );
      }
    }
    return results;
  } finally {
    for (const s of sockets) s.close();
    sink.kill();
  }
}

export async function main(args: string[]): Promise<number> {
  await runUdpSend(parseConfig(args));
  return 0;
}
