/**
 * Drivers for coturn's test clients: `turnutils_stunclient`, `turnutils_uclient` and the UDP
 * echo peer `turnutils_peer`, with parsers for what they print.
 */
import { type Daemon, runTool, startDaemon, udpRoundTrip } from './processes.js';

export interface Reflexive {
  address: string;
  port: number;
}

/** `turnutils_stunclient` prints `IPv4. UDP reflexive addr: 127.0.0.1:33314`. */
export function parseReflexive(output: string): Reflexive | undefined {
  const m = /UDP reflexive addr: ([0-9.]+|\[[0-9a-f:]+\]):(\d+)/i.exec(output);
  if (m === null) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export interface UclientSummary {
  sent: number;
  received: number;
  lost: number;
  lostPercent: number;
}

/**
 * The totals `turnutils_uclient` prints when it finishes:
 * `start_mclient: tot_send_msgs=100, tot_recv_msgs=100` and
 * `Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)`.
 * The per-second progress lines say `msz=2, tot_send_msgs=…` and are not matched.
 */
export function parseUclientSummary(output: string): UclientSummary | undefined {
  const totals = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/.exec(output);
  const lost = /Total lost packets (\d+) \(([0-9.]+)%\)/.exec(output);
  if (totals === null || lost === null) return undefined;
  return {
    sent: Number(totals[1]),
    received: Number(totals[2]),
    lost: Number(lost[1]),
    lostPercent: Number(lost[2]),
  };
}

export async function stunclient(serverPort: number, timeoutMs = 10_000) {
  return runTool('turnutils_stunclient', ['-p', String(serverPort), '127.0.0.1'], timeoutMs);
}

export interface UclientOptions {
  serverPort: number;
  peerPort: number;
  transport: 'udp' | 'tcp';
  /** Long-term credentials (`-u/-w`) or a REST secret (`-W`, with `user` as the REST userid). */
  auth: { user: string; password: string } | { user: string; secret: string };
  /** Messages per client (`-n`). */
  messages: number;
  /** Concurrent clients (`-m`). */
  clients: number;
  /** Payload bytes (`-l`). */
  length: number;
  /** Send indications instead of channels (`-s`). */
  sendIndications?: boolean;
  timeoutMs?: number;
}

export function uclientArgs(o: UclientOptions): string[] {
  const args =
    'password' in o.auth
      ? ['-u', o.auth.user, '-w', o.auth.password]
      : ['-u', o.auth.user, '-W', o.auth.secret];
  if (o.transport === 'tcp') args.push('-t');
  if (o.sendIndications === true) args.push('-s');
  args.push('-e', '127.0.0.1', '-r', String(o.peerPort), '-p', String(o.serverPort));
  args.push('-n', String(o.messages), '-m', String(o.clients), '-l', String(o.length));
  args.push('127.0.0.1');
  return args;
}

export async function uclient(o: UclientOptions) {
  return runTool('turnutils_uclient', uclientArgs(o), o.timeoutMs ?? 30_000);
}

/**
 * Starts `turnutils_peer` (a UDP echo server) on 127.0.0.1:port and waits until it echoes.
 * Returns undefined (after stopping it) if it never does.
 */
export async function startPeer(port: number): Promise<Daemon | undefined> {
  const daemon = startDaemon('turnutils_peer', ['-L', '127.0.0.1', '-p', String(port)]);
  const probe = Buffer.from('rtcd-interop-probe');
  for (let i = 0; i < 25; i++) {
    const echo = await udpRoundTrip(port, probe, 200);
    if (echo?.equals(probe)) return daemon;
  }
  await daemon.stop();
  return undefined;
}
