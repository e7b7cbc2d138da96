/**
 * A bad network for handshake tests, reproducible from a seed:
 *
 * - `LinkImpairment`: the decision alone (drop, duplicate, delay each datagram), usable with a
 *   fake clock by sans-IO tests;
 * - `startLossyLink`: a UDP proxy on 127.0.0.1 applying it both ways between the first client
 *   that sends to `port` and `target`.
 *
 *   const link = await startLossyLink({ target: { address: '127.0.0.1', port }, seed: 7,
 *     loss: 0.2, duplicate: 0.1, reorder: 0.3 });
 *   … the client talks to 127.0.0.1:link.port …
 *   await link.close();
 */
import dgram from 'node:dgram';
import { Random } from './prng.js';

export interface ImpairmentOptions {
  seed: number;
  /** Probability that a datagram is dropped. Default 0.2. */
  loss?: number;
  /** Probability that a delivered datagram is delivered twice. Default 0.1. */
  duplicate?: number;
  /** Probability that a datagram is held back by a random delay (so later ones overtake it). */
  reorder?: number;
  /** The longest hold-back, ms. Default 60. */
  maxDelayMs?: number;
  /** Fixed one-way delay for every datagram, ms. Default 1. */
  baseDelayMs?: number;
}

export interface ImpairmentStats {
  sent: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

/** Seeded loss / duplication / reordering: `plan()` says when (if ever) each copy arrives. */
export class LinkImpairment {
  readonly stats: ImpairmentStats = { sent: 0, dropped: 0, duplicated: 0, reordered: 0 };
  private readonly random: Random;
  private readonly loss: number;
  private readonly duplicate: number;
  private readonly reorder: number;
  private readonly maxDelayMs: number;
  private readonly baseDelayMs: number;

  constructor(options: ImpairmentOptions) {
    this.random = new Random(options.seed);
    this.loss = options.loss ?? 0.2;
    this.duplicate = options.duplicate ?? 0.1;
    this.reorder = options.reorder ?? 0.3;
    this.maxDelayMs = options.maxDelayMs ?? 60;
    this.baseDelayMs = options.baseDelayMs ?? 1;
  }

  /** Delays (ms from now) of the copies of one datagram to deliver; [] when it is lost. */
  plan(): number[] {
    this.stats.sent++;
    if (this.random.chance(this.loss)) {
      this.stats.dropped++;
      return [];
    }
    const copies = this.random.chance(this.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      let delay = this.baseDelayMs;
      if (this.random.chance(this.reorder)) {
        this.stats.reordered++;
        delay += 1 + this.random.int(this.maxDelayMs);
      }
      delays.push(delay);
    }
    return delays;
  }
}

export interface LossyLinkOptions extends ImpairmentOptions {
  target: { address: string; port: number };
}

export interface LossyLink {
  /** Clients send here (127.0.0.1). */
  readonly port: number;
  /** Client → target and target → client decisions. */
  readonly upstream: LinkImpairment;
  readonly downstream: LinkImpairment;
  close(): Promise<void>;
}

export async function startLossyLink(options: LossyLinkOptions): Promise<LossyLink> {
  const front = dgram.createSocket('udp4'); // faces the client
  const back = dgram.createSocket('udp4'); // faces the target
  await Promise.all([bind(front), bind(back)]);
  const upstream = new LinkImpairment(options);
  const downstream = new LinkImpairment({ ...options, seed: options.seed ^ 0x5eed });
  const timers = new Set<NodeJS.Timeout>();
  let client: { address: string; port: number } | undefined;
  let closed = false;
  const later = (delay: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, delay);
    timers.add(timer);
  };
  front.on('message', (msg, rinfo) => {
    client ??= { address: rinfo.address, port: rinfo.port };
    const copy = Buffer.from(msg);
    for (const delay of upstream.plan()) {
      later(delay, () => back.send(copy, options.target.port, options.target.address));
    }
  });
  back.on('message', (msg) => {
    const to = client;
    if (to === undefined) return;
    const copy = Buffer.from(msg);
    for (const delay of downstream.plan()) {
      later(delay, () => front.send(copy, to.port, to.address));
    }
  });
  return {
    port: front.address().port,
    upstream,
    downstream,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all([close(front), close(back)]);
    },
  };
}

function bind(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
}

function close(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
