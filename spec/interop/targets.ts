/**
 * The TURN server under test, behind one small interface so each interop test runs against
 * `rtcd` (in-process `TurnServer`) and, for comparison, coturn's `turnserver`.
 *
 * `RTCD_INTEROP_TARGETS` picks them: a comma list of `rtcd` and `coturn`; default `rtcd`.
 * The required assertions are the rtcd ones; coturn proves the harness itself.
 */
import type { RelayDirection, TurnObserver } from '../../lib/turn/observer.js';
import { TurnServer } from '../../lib/turn/server.js';
import { startCoturn } from '../helpers/coturn.js';
import { freePort } from './processes.js';

export type TargetKind = 'rtcd' | 'coturn';

export interface TargetOptions {
  realm: string;
  /** Static long-term users. */
  users?: Record<string, string>;
  /** TURN REST API shared secret. */
  authSecret?: string;
  /** Relay port range: tests assert relayed ports fall inside it. */
  minPort: number;
  maxPort: number;
  /**
   * rtcd only: accept RFC 5766 channel numbers (0x4000-0x7FFF). coturn always does; rtcd
   * keeps to RFC 8656's 0x4000-0x4FFF unless told.
   */
  legacyChannelNumbers?: boolean;
}

export interface TurnTarget {
  readonly kind: TargetKind;
  readonly host: '127.0.0.1';
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly minPort: number;
  readonly maxPort: number;
  /** What the server reported through its observer; undefined for coturn (no in-process view). */
  readonly stats: RecordingObserver | undefined;
  /** Diagnostics for failure messages (coturn's log tail). */
  log(): string;
  close(): Promise<void>;
}

/** A TurnObserver that keeps totals, so tests can prove traffic went through *our* server. */
export class RecordingObserver implements TurnObserver {
  allocations = 0;
  peakAllocations = 0;
  allocationsCreated = 0;
  readonly relayedBytes: Record<RelayDirection, number> = {
    'client-to-peer': 0,
    'peer-to-client': 0,
  };
  readonly drops = new Map<string, number>();
  readonly authFailures = new Map<string, number>();
  readonly responses = new Map<string, number>();

  drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
  response(method: string, code: number): void {
    const key = `${method}:${code}`;
    this.responses.set(key, (this.responses.get(key) ?? 0) + 1);
    if (method === 'allocate' && code === 0) this.allocationsCreated++;
  }
  authFailure(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }
  relayed(direction: RelayDirection, bytes: number): void {
    this.relayedBytes[direction] += bytes;
  }
  gauges(counts: { allocations: number }): void {
    this.allocations = counts.allocations;
    this.peakAllocations = Math.max(this.peakAllocations, counts.allocations);
  }
  /** A one-line summary for failure messages. */
  summary(): string {
    const map = (m: Map<string, number>): string => JSON.stringify(Object.fromEntries(m));
    return (
      `allocations=${this.allocations} peak=${this.peakAllocations} ` +
      `created=${this.allocationsCreated} relayed=${JSON.stringify(this.relayedBytes)} ` +
      `responses=${map(this.responses)} drops=${map(this.drops)} ` +
      `authFailures=${map(this.authFailures)}`
    );
  }
}

const isTargetKind = (s: string): s is TargetKind => s === 'rtcd' || s === 'coturn';

export function targetKinds(): TargetKind[] {
  const raw = process.env.RTCD_INTEROP_TARGETS ?? 'rtcd';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((s) => !isTargetKind(s));
  if (unknown.length > 0) throw new TypeError(`RTCD_INTEROP_TARGETS: unknown ${unknown.join()}`);
  return names.filter(isTargetKind);
}

export async function startTarget(kind: TargetKind, o: TargetOptions): Promise<TurnTarget> {
  return kind === 'rtcd' ? startRtcd(o) : startCoturnTarget(o);
}

async function startCoturnTarget(o: TargetOptions): Promise<TurnTarget> {
  // coturn checks every username against the secret alone once --use-auth-secret is on.
  const auth =
    o.authSecret !== undefined
      ? ['--use-auth-secret', `--static-auth-secret=${o.authSecret}`]
      : ['--lt-cred-mech'];
  const users = Object.entries(o.users ?? {}).map(([name, pass]) => `--user=${name}:${pass}`);
  const coturn = await startCoturn({
    flags: [
      `--realm=${o.realm}`,
      ...auth,
      ...users,
      // Later flags override the helper's own relay range: tests assert ports fall in ours.
      `--min-port=${o.minPort}`,
      `--max-port=${o.maxPort}`,
      '--no-rfc5780',
    ],
  });
  return {
    kind: 'coturn',
    host: '127.0.0.1',
    udpPort: coturn.port,
    tcpPort: coturn.port,
    minPort: o.minPort,
    maxPort: o.maxPort,
    stats: undefined,
    log: () => coturn.logs().slice(-4000),
    close: () => coturn.stop(),
  };
}

async function startRtcd(o: TargetOptions): Promise<TurnTarget> {
  let lastError: unknown;
  // One port for UDP and TCP, as coturn's clients take a single -p; retry if it was taken.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const observer = new RecordingObserver();
    const server = new TurnServer(
      {
        listen: [{ host: '127.0.0.1', port }],
        relayIps: ['127.0.0.1'],
        realm: o.realm,
        users: o.users ?? {},
        authSecrets: o.authSecret !== undefined ? [o.authSecret] : [],
        minPort: o.minPort,
        maxPort: o.maxPort,
        allowLoopbackPeers: true,
        legacyChannelNumbers: o.legacyChannelNumbers ?? false,
        drainTimeoutMs: 0,
      },
      { observer },
    );
    try {
      await server.start();
    } catch (err) {
      lastError = err;
      await server.close({ drainTimeoutMs: 0 }).catch(() => {});
      continue;
    }
    const udpPort = server.addresses.udp[0]?.port ?? port;
    const tcpPort = server.addresses.tcp[0]?.port ?? port;
    return {
      kind: 'rtcd',
      host: '127.0.0.1',
      udpPort,
      tcpPort,
      minPort: o.minPort,
      maxPort: o.maxPort,
      stats: observer,
      log: () => observer.summary(),
      close: () => server.close({ drainTimeoutMs: 0 }),
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
