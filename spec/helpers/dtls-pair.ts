/**
 * Two sans-IO DtlsConnections wired back to back under a fake clock, for handshake specs.
 * A `tap` hook sees (and may replace, drop or multiply) every datagram in flight, which is
 * how the tamper, fuzz and loss specs act as the network or as a man in the middle.
 *
 *   const pair = await dtlsPair();                 // fresh ECDSA certificates, fingerprints set
 *   pair.run();                                    // until both settle (or the time limit)
 *   t.equal(pair.client.state, 'connected');
 */
import type { DtlsCertificate } from '../../lib/dtls/certificate.js';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { type DtlsCloseReason, DtlsConnection } from '../../lib/dtls/connection.js';
import type { DtlsOptions } from '../../lib/dtls/options.js';

export type Side = 'client' | 'server';

export interface Endpoint {
  readonly conn: DtlsConnection;
  readonly received: Buffer[];
  connectedAt: number | undefined;
  closed: DtlsCloseReason | undefined;
  /** Every datagram this side sent, in order, with the time. */
  readonly sent: { at: number; datagram: Buffer }[];
}

/**
 * Returns what to deliver instead: undefined/[] drops, an array delivers each (in order),
 * after the link delay or after its own `delayMs`.
 */
export type Tap = (
  from: Side,
  datagram: Buffer,
  now: number,
) => (Buffer | { datagram: Buffer; delayMs: number })[] | undefined;

export interface PairOptions {
  client?: Partial<DtlsOptions>;
  server?: Partial<DtlsOptions>;
  clientCertificate?: DtlsCertificate;
  serverCertificate?: DtlsCertificate;
  tap?: Tap;
  /** A DtlsConnection subclass per side (a rogue peer that alters its own messages). */
  clientClass?: typeof DtlsConnection;
  serverClass?: typeof DtlsConnection;
  /** One-way delay of the fake link, ms. Default 5. */
  delayMs?: number;
}

export interface Pair {
  readonly client: DtlsConnection;
  readonly server: DtlsConnection;
  readonly ends: Record<Side, Endpoint>;
  readonly clientCertificate: DtlsCertificate;
  readonly serverCertificate: DtlsCertificate;
  now: number;
  /** Starts the client (once) and runs until nothing is pending or `limitMs` of fake time. */
  run(limitMs?: number): void;
  /** Delivers `datagram` to `to` after `delayMs`, bypassing the tap. */
  inject(to: Side, datagram: Buffer, delayMs?: number): void;
}

let cached: Promise<DtlsCertificate[]> | undefined;

/** Two certificates shared by the specs of one process (generation is the slow part). */
export function testCertificates(): Promise<DtlsCertificate[]> {
  cached ??= Promise.all([generateCertificate(), generateCertificate()]);
  return cached;
}

export async function dtlsPair(options: PairOptions = {}): Promise<Pair> {
  const [a, b] = await testCertificates();
  const clientCertificate = options.clientCertificate ?? a!;
  const serverCertificate = options.serverCertificate ?? b!;
  const delay = options.delayMs ?? 5;
  const queue: { at: number; order: number; to: Side; datagram: Buffer }[] = [];
  let order = 0;
  const pair: Pair = {
    now: 0,
    clientCertificate,
    serverCertificate,
  } as Pair;
  const enqueue = (to: Side, datagram: Buffer, d: number): void => {
    queue.push({ at: pair.now + d, order: order++, to, datagram });
  };
  const makeEnd = (side: Side, opts: DtlsOptions): Endpoint => {
    const other: Side = side === 'client' ? 'server' : 'client';
    const Conn = (side === 'client' ? options.clientClass : options.serverClass) ?? DtlsConnection;
    const end: Endpoint = {
      received: [],
      connectedAt: undefined,
      closed: undefined,
      sent: [],
      conn: new Conn(opts, {
        send: (datagram) => {
          const copy = Buffer.from(datagram);
          end.sent.push({ at: pair.now, datagram: copy });
          const out =
            options.tap === undefined ? [copy] : (options.tap(side, copy, pair.now) ?? []);
          for (const d of out) {
            if (Buffer.isBuffer(d)) enqueue(other, d, delay);
            else enqueue(other, d.datagram, d.delayMs);
          }
        },
        data: (x) => end.received.push(Buffer.from(x)),
        connected: () => {
          end.connectedAt = pair.now;
        },
        closed: (r) => {
          end.closed = r;
        },
      }),
    };
    return end;
  };
  const client = makeEnd('client', {
    role: 'client',
    certificate: clientCertificate,
    remoteFingerprints: [{ algorithm: 'sha-256', value: serverCertificate.fingerprint('sha-256') }],
    ...options.client,
  });
  const server = makeEnd('server', {
    role: 'server',
    certificate: serverCertificate,
    remoteFingerprints: [{ algorithm: 'sha-256', value: clientCertificate.fingerprint('sha-256') }],
    ...options.server,
  });
  const ends = { client, server };
  let started = false;
  Object.assign(pair, {
    client: client.conn,
    server: server.conn,
    ends,
    inject: (to: Side, datagram: Buffer, d = 0) => enqueue(to, datagram, d),
    run: (limitMs = 120_000) => {
      if (!started) {
        started = true;
        client.conn.start(pair.now);
        server.conn.start(pair.now);
      }
      const limit = pair.now + limitMs;
      for (;;) {
        const timers = [client.conn.nextTimeout(), server.conn.nextTimeout()].filter(
          (x): x is number => x !== undefined,
        );
        queue.sort((x, y) => x.at - y.at || x.order - y.order);
        const nextPacket = queue[0]?.at;
        const nextTimer = timers.length > 0 ? Math.min(...timers) : undefined;
        if (nextPacket === undefined && nextTimer === undefined) return;
        const at = Math.min(nextPacket ?? Infinity, nextTimer ?? Infinity);
        if (at > limit) return;
        pair.now = Math.max(pair.now, at);
        if (nextPacket !== undefined && nextPacket <= at) {
          const p = queue.shift()!;
          ends[p.to].conn.receive(p.datagram, pair.now);
        } else {
          for (const e of [client, server]) {
            const due = e.conn.nextTimeout();
            if (due !== undefined && due <= pair.now) e.conn.handleTimeout(pair.now);
          }
        }
      }
    },
  });
  return pair;
}
