/**
 * The SFU bench's parent side of its child processes (bench/sfu/e2e.ts for rtcd's server and
 * client children, bench/sfu/janus.ts for the client children in Janus's namespace): a
 * request/reply queue over a child's IPC channel, and what the parent does with the client
 * children's replies (connect rooms, run a phase and sum what every child measured).
 */
import type { ChildProcess } from 'node:child_process';
import { addGcPauses, noGcPauses } from './gc-watch.js';
import {
  type ClientIn,
  type ClientOut,
  type GcPauses,
  Histogram,
  isMessage,
  monoUs,
  type PhaseMode,
  type RoomPlan,
  SEND_TICK_MS,
} from './protocol.js';
import { type SlowSummary, summarizeSlow } from './slow-timeline.js';

const REPLY_TIMEOUT_MS = 120_000;

/** A phase's timings, the same on every server's rows: warm-up on the server path, ms. */
export const SFU_WARMUP_MS = 1200;
/** Warm-up on the direct path (no server), ms. */
export const DIRECT_WARMUP_MS = 200;
/** How long subscribers keep counting after the last send, ms. */
export const DRAIN_MS = 300;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A child process as a request/reply queue: replies are taken in the order they come. */
export class ChildLink<In, Out extends { type: string }> {
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  private readonly inbox: Out[] = [];
  private readonly waiters: ((m: Out | Error) => void)[] = [];

  /** `label` names the child in errors. */
  constructor(
    readonly proc: ChildProcess,
    readonly label: string,
  ) {
    proc.on('message', (m: unknown) => {
      if (isMessage(m)) this.deliver(m as Out);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code) => {
        while (this.waiters.length > 0) this.deliver(new Error(`${label} exited with ${code}`));
        resolve();
      });
    });
  }

  /** The type of the last message sent, for the timeout's error. */
  private lastSent = 'nothing';

  send(m: In): void {
    this.lastSent = String(Reflect.get(m as object, 'type'));
    if (this.proc.connected) this.proc.send(m as object);
  }

  /** The next reply; rejects on an `error` reply, on exit, or after 120 s. */
  next(): Promise<Out> {
    const m = this.inbox.shift();
    if (m) return m.type === 'error' ? Promise.reject(this.failure(m)) : Promise.resolve(m);
    return new Promise<Out>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.label}: no reply in ${REPLY_TIMEOUT_MS / 1000} s ` +
                `(last sent: ${this.lastSent}, pid ${this.proc.pid})`,
            ),
          ),
        REPLY_TIMEOUT_MS,
      );
      this.waiters.push((x) => {
        clearTimeout(timer);
        if (x instanceof Error) reject(x);
        else if (x.type === 'error') reject(this.failure(x));
        else resolve(x);
      });
    });
  }

  /** The next reply, which must be of `type`. */
  async expect<T extends Out['type']>(type: T): Promise<Extract<Out, { type: T }>> {
    const m = await this.next();
    if (m.type !== type) throw new Error(`${this.label}: expected ${type}, got ${m.type}`);
    return m as Extract<Out, { type: T }>;
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  private failure(m: Out): Error {
    return new Error(`${this.label}: ${String(Reflect.get(m, 'message'))}`);
  }

  private deliver(m: Out | Error): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else if (!(m instanceof Error)) this.inbox.push(m);
  }
}

export type ClientLink = ChildLink<ClientIn, ClientOut>;

/** What the client children measured in one phase, summed (the loop lag: the worst). */
export interface ClientTotals {
  sent: number;
  expected: number;
  received: number;
  verified: number;
  badPackets: number;
  histogram: Histogram;
  /** Where the slow packets were (bench/sfu/slow-timeline.ts). */
  slow: SlowSummary;
  cpuUs: number;
  loopDelayP99Ms: number;
  /** The client processes' GC pauses in the window, summed (the longest: the longest). */
  gc: GcPauses;
}

/** Starts one phase in every client child (bench/sfu/child-core.ts runs it). */
export function startPhase(
  clients: readonly ClientLink[],
  mode: PhaseMode,
  warmupMs: number,
  durationMs: number,
  drainMs: number,
  verifyEvery: number,
  tickMs = SEND_TICK_MS,
  relayPort?: number,
): void {
  // One window for every child (one monotonic clock): with --split-rooms a publisher's child
  // counts what it sent in the window and another child what arrived of it.
  const windowAtUs = monoUs() + warmupMs * 1000;
  for (const c of clients) {
    c.send({
      type: 'phase',
      mode,
      warmupMs,
      durationMs,
      drainMs,
      verifyEvery,
      tickMs,
      windowAtUs,
      ...(relayPort === undefined ? {} : { relayPort }),
    });
  }
}

/** Waits for every client child's `phase-done` and sums them. */
export async function phaseTotals(clients: readonly ClientLink[]): Promise<ClientTotals> {
  const t: ClientTotals = {
    sent: 0,
    expected: 0,
    received: 0,
    verified: 0,
    badPackets: 0,
    histogram: new Histogram(),
    slow: summarizeSlow([]),
    cpuUs: 0,
    loopDelayP99Ms: 0,
    gc: noGcPauses(),
  };
  const timelines: { all: number[]; slow: number[] }[] = [];
  for (const c of clients) {
    const d = await c.expect('phase-done');
    timelines.push(d.timeline);
    t.sent += d.sent;
    t.expected += d.expected;
    t.received += d.received;
    t.verified += d.verified;
    t.badPackets += d.badPackets;
    t.cpuUs += d.cpuUs;
    t.loopDelayP99Ms = Math.max(t.loopDelayP99Ms, d.loopDelayP99Ms);
    t.histogram.merge(new Histogram(d.histogram));
    addGcPauses(t.gc, d.gc);
  }
  t.slow = summarizeSlow(timelines);
  return t;
}

/** The share of expected packets not received (1 when none were expected). */
export const lossOf = (t: { expected: number; received: number }): number =>
  t.expected === 0 ? 1 : Math.max(0, 1 - t.received / t.expected);

/**
 * The child that holds room `index`'s subscribers: the publisher's (`index` mod the number of
 * children), or with `split` (2 or more children) the next one.
 */
export function audienceChild(index: number, children: number, split: boolean): number {
  return (index + (split && children > 1 ? 1 : 0)) % children;
}

/**
 * Sets up new rooms, `plans[i]` (publishers) in child i. Without `split`, or with one child,
 * each room's subscribers join in its publisher's child (`connectRooms`). With `split`
 * (`--split-rooms`), they join in the next child (`audienceChild`), and each publisher is then
 * told its subscribers' ports for the direct path, which so crosses processes as the path
 * through the server does. Sums the replies: publishers, subscribers (all so far) and failures.
 */
export async function setUpRooms(
  clients: readonly ClientLink[],
  plans: RoomPlan[][],
  ready: { url: string; udpPort: number },
  split: boolean,
): Promise<{ publishers: number; subscribers: number; failed: number }> {
  const n = clients.length;
  if (!split || n < 2) return connectRooms(clients, 'connect', plans, ready);
  const sizes = new Map<string, number>();
  for (const [i, c] of clients.entries()) {
    const rooms = (plans[i] ?? []).map((r) => ({ ...r, elsewhere: true }));
    for (const r of rooms) sizes.set(r.id, r.subscribers);
    c.send({ type: 'connect', url: ready.url, udpPort: ready.udpPort, rooms });
  }
  const published = await connectedAll(clients);
  for (const [i, r] of published.entries()) {
    const rooms = (r.published ?? []).map((publication) => ({
      publication,
      subscribers: sizes.get(publication.id) ?? 0,
    }));
    clients[(i + 1) % n]!.send({ type: 'join', rooms });
  }
  const joined = await connectedAll(clients);
  // Child j's subscribers belong to child j - 1's publishers.
  for (const [j, r] of joined.entries()) {
    clients[(j + n - 1) % n]!.send({ type: 'direct-ports', rooms: r.ports ?? [] });
  }
  await connectedAll(clients);
  return {
    publishers: sum(published, (r) => r.publishers),
    subscribers: sum(joined, (r) => r.subscribers),
    failed: sum(published, (r) => r.failed) + sum(joined, (r) => r.failed),
  };
}

type Connected = Extract<ClientOut, { type: 'connected' }>;

/** Every client child's next reply, which must be `connected`, in child order. */
const connectedAll = (clients: readonly ClientLink[]): Promise<Connected[]> =>
  Promise.all(clients.map((c) => c.expect('connected')));

const sum = (replies: readonly Connected[], of: (r: Connected) => number): number =>
  replies.reduce((a, r) => a + of(r), 0);

/** Sends each client child its rooms (`plans[i]` to child i) and sums the replies. */
export async function connectRooms(
  clients: readonly ClientLink[],
  type: 'connect' | 'add-subscribers',
  plans: RoomPlan[][],
  ready: { url: string; udpPort: number },
): Promise<{ publishers: number; subscribers: number; failed: number }> {
  for (const [i, c] of clients.entries()) {
    c.send({ type, url: ready.url, udpPort: ready.udpPort, rooms: plans[i] ?? [] });
  }
  const replies = await connectedAll(clients);
  return {
    publishers: sum(replies, (r) => r.publishers),
    subscribers: sum(replies, (r) => r.subscribers),
    failed: sum(replies, (r) => r.failed),
  };
}
