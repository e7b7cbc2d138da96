/**
 * Time from start to connected for two full agents on loopback, ours beside werift's
 * `Connection`, in the same run: host, srflx (a STUN server in the path) and relay (both
 * sides relay-only through an in-process TurnServer). "Start" is the construction of both
 * agents; "connected" is when both have selected a pair, so gathering is included. The
 * ceiling is one bare UDP request/response between two fresh sockets (or through a TURN
 * allocation for relay): what no agent can beat.
 *
 * werift gathers on every interface plus 127.0.0.1 (it cannot be limited to loopback); ours
 * on 127.0.0.1 only. Rounds alternate ours and werift; the median counts.
 */
import dgram from 'node:dgram';
import { Candidate, Connection } from 'werift';
import { IceAgent } from '../../lib/ice/agent.js';
import type { IceAgentOptions } from '../../lib/ice/agent-options.js';
import { formatCandidate, parseCandidate } from '../../lib/ice/candidate.js';
import { TurnClient } from '../../lib/turn/client.js';
import { TurnServer } from '../../lib/turn/server.js';

export type ConnectCase = 'host' | 'srflx' | 'relay';

export interface ConnectBenchOptions {
  cases?: ConnectCase[];
  /** Connections per case and implementation. Default 10. */
  rounds?: number;
}

export interface ConnectRow {
  case: ConnectCase;
  /** Medians, ms. */
  rtcd: number;
  werift: number;
  bare: number;
  /** rtcd / werift (≤ 1 meets the target). */
  ratio: number;
}

const USER = 'bench';
const PASS = 'bench-pw';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function ours(server: TurnServer, c: ConnectCase): Promise<number> {
  const udp = server.addresses.udp[0]!;
  const extra: IceAgentOptions =
    c === 'srflx'
      ? { stunServers: [`stun:${udp.host}:${udp.port}`] }
      : c === 'relay'
        ? {
            relayOnly: true,
            turnServers: [
              { urls: `turn:${udp.host}:${udp.port}`, username: USER, credential: PASS },
            ],
          }
        : {};
  const t0 = performance.now();
  const a = new IceAgent({ addresses: ['127.0.0.1'], controlling: true, ...extra });
  const b = new IceAgent({ addresses: ['127.0.0.1'], controlling: false, ...extra });
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    y.setRemoteParameters(x.localParameters);
    x.on('candidate', (cand) => y.addRemoteCandidate(parseCandidate(formatCandidate(cand))!));
    x.on('gathering-complete', () => y.addRemoteCandidate(null));
  }
  await Promise.all([a.connect(), b.connect()]);
  const took = performance.now() - t0;
  await Promise.all([a.close(), b.close()]);
  return took;
}

async function werift(server: TurnServer, c: ConnectCase): Promise<number> {
  const udp = server.addresses.udp[0]!;
  const address: [string, number] = [udp.host, udp.port];
  const options = {
    additionalHostAddresses: ['127.0.0.1'],
    useIpv6: false,
    ...(c === 'srflx' ? { stunServer: address } : {}),
    ...(c === 'relay'
      ? { turnServer: address, turnUsername: USER, turnPassword: PASS, forceTurn: true }
      : {}),
  };
  const t0 = performance.now();
  const a = new Connection(true, options);
  const b = new Connection(false, options);
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    y.setRemoteParams({
      iceLite: false,
      usernameFragment: x.localUsername,
      password: x.localPassword,
    });
    x.onIceCandidate.subscribe((cand) => {
      void y.addRemoteCandidate(Candidate.fromSdp(cand.toSdp()));
    });
  }
  await Promise.all([a.gatherCandidates(), b.gatherCandidates()]);
  await Promise.all([a.addRemoteCandidate(undefined), b.addRemoteCandidate(undefined)]);
  await Promise.all([a.connect(), b.connect()]);
  const took = performance.now() - t0;
  await Promise.all([a.close(), b.close()]);
  return took;
}

/** Two fresh sockets, one request and its answer: the floor under any connect time. */
async function bare(server: TurnServer, c: ConnectCase): Promise<number> {
  const t0 = performance.now();
  if (c === 'relay') {
    const udp = server.addresses.udp[0]!;
    const client = await TurnClient.connect({
      server: { host: udp.host, port: udp.port },
      username: USER,
      password: PASS,
      localAddress: '127.0.0.1',
    });
    try {
      await client.allocate();
      return performance.now() - t0;
    } finally {
      await client.close();
    }
  }
  const x = dgram.createSocket('udp4');
  const y = dgram.createSocket('udp4');
  await Promise.all([
    new Promise<void>((r) => x.bind(0, '127.0.0.1', r)),
    new Promise<void>((r) => y.bind(0, '127.0.0.1', r)),
  ]);
  y.on('message', (m, r) => y.send(m, r.port, r.address));
  await new Promise<void>((resolve) => {
    x.once('message', () => resolve());
    x.send(Buffer.alloc(100), y.address().port, '127.0.0.1');
  });
  const took = performance.now() - t0;
  x.close();
  y.close();
  return took;
}

/**
 * An in-process TurnServer on 127.0.0.1. Port 0 picks the UDP port and TCP then listens on
 * the same number, which another process may hold: retried on EADDRINUSE.
 */
async function startTurn(): Promise<TurnServer> {
  for (let attempt = 1; ; attempt++) {
    // Short allocation lifetimes: werift 0.24's refresh loop sleeps 5/6 of the lifetime and
    // close() does not cancel the sleep, which would hold the process open for minutes.
    const server = new TurnServer({
      listen: [{ host: '127.0.0.1', port: 0 }],
      realm: 'bench',
      users: { [USER]: PASS },
      allowLoopbackPeers: true,
      defaultLifetime: 2,
      maxLifetime: 2,
      maxAllocationsPerUser: 1000,
      drainTimeoutMs: 0,
    });
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.close().catch(() => {});
      const code = err instanceof Error && 'code' in err ? err.code : undefined;
      if (code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

export async function benchConnect(o: ConnectBenchOptions = {}): Promise<ConnectRow[]> {
  const rounds = o.rounds ?? 10;
  // Short allocation lifetimes: werift 0.24's refresh loop sleeps 5/6 of the lifetime and
  // close() does not cancel the sleep, which would hold the process open for minutes.
  const server = await startTurn();
  const rows: ConnectRow[] = [];
  try {
    for (const c of o.cases ?? ['host', 'srflx', 'relay']) {
      const r: number[] = [];
      const w: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < rounds; i++) {
        r.push(await ours(server, c));
        w.push(await werift(server, c));
        b.push(await bare(server, c));
      }
      const rtcd = median(r);
      const wm = median(w);
      rows.push({ case: c, rtcd, werift: wm, bare: median(b), ratio: rtcd / wm });
    }
  } finally {
    await server.close();
  }
  return rows;
}

export function formatConnectRows(rows: readonly ConnectRow[]): string {
  const lines = [
    'ICE start → connected on loopback (median ms; both agents, gathering included)',
    'case    rtcd      werift    bare      rtcd/werift  rtcd/bare',
  ];
  for (const r of rows) {
    lines.push(
      `${r.case.padEnd(8)}${r.rtcd.toFixed(1).padEnd(10)}${r.werift.toFixed(1).padEnd(10)}` +
        `${r.bare.toFixed(2).padEnd(10)}${r.ratio.toFixed(2).padEnd(13)}${(r.rtcd / r.bare).toFixed(1)}`,
    );
  }
  return lines.join('\n');
}
