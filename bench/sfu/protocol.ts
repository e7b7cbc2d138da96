/**
 * Messages between the end-to-end SFU bench (bench/sfu/e2e.ts) and its children: the SFU
 * under test (server-child.ts) and the synthetic clients (client-child.ts); and the latency
 * histogram the clients fill and the parent merges.
 */

/** 1 Mbit/s of 1,200-byte packets: ~104 packets per second per video track. */
export const PACKET_BYTES = 1200;
export const PACKETS_PER_SECOND = 1_000_000 / 8 / PACKET_BYTES;
/** Subscribers fully unprotect 1 packet in this many by default (bench/sfu/stamp-reader.ts). */
export const VERIFY_EVERY = 16;
/**
 * How often the publishers' send loop runs, ms: each run sends every packet due since the last
 * (publishers' phases are spread over a packet interval), so a run is a burst of ~tick/9.6 ms
 * packets per publisher of the process. Default of `--client-tick-ms`.
 */
export const SEND_TICK_MS = 4;

/**
 * The machine's monotonic clock (CLOCK_MONOTONIC, as `process.hrtime`) in µs, read through
 * `performance.now()` (the same clock from this process's origin: no allocation per read).
 * One clock for every process of the bench, so a send stamp written in one process and read
 * in another subtracts exactly; `timeOrigin + now()` is each process's own reading of the
 * wall clock at start and two processes' can disagree.
 */
export const monoUs: () => number = (() => {
  let offset = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const before = performance.now() * 1000;
    const mono = Number(process.hrtime.bigint()) / 1000;
    offset = Math.min(offset, mono - before);
  }
  return () => performance.now() * 1000 + offset;
})();

export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Pauses by kind: `scavenge`, `mark-sweep`, `incremental`, `weak-callbacks`. */
  byKind: Record<string, number>;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

export type ServerIn =
  /** `fastUdpSend`: the SfuServer option (false: Node's `socket.send`, to compare). */
  | {
      type: 'start';
      fastUdpSend: boolean;
      /**
       * Time, per RTP packet the SFU routes, how long after its send stamp the router got it
       * (queueing before the SFU, mostly) and how long routing it took (unprotected, routed,
       * protected and sent to every subscriber); `--sfu-arrival`. Adds a wrapper per packet.
       */
      arrival?: boolean;
      /** µs the bare relay spins per datagram it copies out (`--relay-work-us`); default 0. */
      relayWorkUs?: number;
    }
  | { type: 'mark' }
  /** The drop and close counters, asked for outside the measured window (see `drops`). */
  | { type: 'drops' }
  | { type: 'memory' }
  /**
   * The ceiling: send datagrams of a forwarded packet's size to `ports` in turn, with Node's
   * `socket.send` (`dgram`) or through the socket's handle as the SFU does (`handle`).
   */
  | { type: 'bare-send'; ports: number[]; durationMs: number; via: 'dgram' | 'handle' }
  | { type: 'stop' };

export type ServerOut =
  | {
      type: 'ready';
      url: string;
      udpPort: number;
      /** The bare relay's UDP port in this process (`relay` phases; bench/sfu/bare-relay.ts). */
      relayPort?: number;
    }
  | {
      type: 'mark';
      /** CPU µs (user + system) and wall ms since the previous mark. */
      cpuUs: number;
      wallMs: number;
      /** RTP packets the SFU's endpoints sent (all time), and received. */
      forwarded: number;
      received: number;
      sessions: number;
      /** Event-loop delay p99 since the previous mark, ms. */
      loopDelayP99Ms: number;
      /** Garbage-collection pauses since the previous mark: count, total and longest, ms. */
      gc: GcPauses;
      /**
       * With `arrival`, since the previous mark: send stamp → the router has the packet, and
       * the router's handling of it, as `Histogram` counts (µs).
       */
      arrival?: { waited: number[]; handled: number[] };
    }
  | {
      /**
       * The SFU's drop and close counters (all time), `router:<reason>`, `closed:<reason>`…:
       * summing them walks every participant and endpoint (~2 ms at 500 sessions), so they
       * are read before the warm-up and after the drain, not at the window's edges, where
       * that pause held the packets of the window's first and last milliseconds.
       */
      type: 'drops';
      drops: Record<string, number>;
    }
  | ({ type: 'memory'; sessions: number } & MemorySample)
  | { type: 'bare-sent'; sent: number; cpuUs: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

/** A room as a client child sets it up: its publisher, and its subscribers unless elsewhere. */
export interface RoomPlan {
  id: string;
  subscribers: number;
  /**
   * `--split-rooms`: only the publisher here; the `connect` reply's `published` describes it
   * and another child's `join` adds the subscribers.
   */
  elsewhere?: boolean;
  /**
   * The SFU worker the room lives on (its HTTP base URL and ICE-lite UDP port); default the
   * message's `url` / `udpPort`. A room's later subscribers go where its publisher went.
   */
  url?: string;
  udpPort?: number;
}

/** What a subscriber in another child needs of a publisher (`--split-rooms`). */
export interface Publication {
  id: string;
  /** The SFU worker the room lives on. */
  url: string;
  udpPort: number;
  /** The direct path's SRTP master key and salt, hex. */
  masterKey: string;
  masterSalt: string;
  /** How a subscriber names the publisher's track to the server (Janus: its feed; rtcd: 0). */
  ref: number;
}

/**
 * The path a phase measures: `sfu` (publisher → SFU → subscribers), `direct` (publisher →
 * subscriber sockets, no server: the baseline), `relay` (publisher → a bare Node relay in the
 * SFU's process, no SRTP and no routing → subscriber sockets: the least any process in the
 * SFU's place adds on this machine).
 */
export type PhaseMode = 'sfu' | 'direct' | 'relay';

export type ClientIn =
  | {
      type: 'connect';
      url: string;
      udpPort: number;
      /** New rooms (a publisher and its subscribers) to set up. */
      rooms: RoomPlan[];
    }
  | {
      type: 'add-subscribers';
      url: string;
      udpPort: number;
      /** Subscribers joining rooms this child already hosts (idle, for memory). */
      rooms: RoomPlan[];
    }
  /** `--split-rooms`: subscribers here for publishers in another child. */
  | { type: 'join'; rooms: { publication: Publication; subscribers: number }[] }
  /** `--split-rooms`: where each publisher here sends on the direct path. */
  | { type: 'direct-ports'; rooms: { id: string; ports: number[] }[] }
  | {
      type: 'phase';
      mode: PhaseMode;
      /** `relay` phases: the bare relay's port (on the clients' address). */
      relayPort?: number;
      /** Sending before the measured window (consumers start on a key frame). */
      warmupMs: number;
      /** The measured window: packets stamped inside it are counted. */
      durationMs: number;
      drainMs: number;
      /**
       * Every how many packets a subscriber fully unprotects (tag and payload); the others'
       * send stamps are read from the ciphertext (bench/sfu/stamp-reader.ts).
       */
      verifyEvery: number;
      /** The publishers' send-loop period, ms (default `SEND_TICK_MS`). */
      tickMs?: number;
      /** The window's start (`monoUs`), the same for every child; default now + warm-up. */
      windowAtUs?: number;
    }
  | { type: 'close' };

export type ClientOut =
  | {
      type: 'connected';
      publishers: number;
      subscribers: number;
      failed: number;
      /** `connect` with `elsewhere` rooms: their publishers, for another child's `join`. */
      published?: Publication[];
      /** `join`: each room's subscriber ports here, for its publisher's `direct-ports`. */
      ports?: { id: string; ports: number[] }[];
    }
  | {
      type: 'phase-done';
      /**
       * Packets the publishers sent in the window, and packets expected at subscribers
       * (sent × fan-out); `received` counts those that arrived by the end of the drain.
       */
      sent: number;
      expected: number;
      received: number;
      /**
       * Packets fully unprotected at subscribers, and those that failed SRTP authentication
       * or whose decrypted send stamp differed from the one read without decrypting.
       */
      verified: number;
      badPackets: number;
      /** Latency histogram counts (see `Histogram`). */
      histogram: number[];
      /** Packets, and those over `SLOW_US`, per 10 ms of send time (bench/sfu/slow-timeline.ts). */
      timeline: { all: number[]; slow: number[] };
      /** CPU µs of this process during the window. */
      cpuUs: number;
      /** Event-loop delay p99 of this process during the window, ms. */
      loopDelayP99Ms: number;
      /** This process's GC pauses during the window. */
      gc: GcPauses;
    }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export function isMessage(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof Reflect.get(m, 'type') === 'string';
}

const FINE_US = 5;
const FINE_BINS = 4000; // 5 µs bins up to 20 ms
const COARSE_US = 1000;
const BINS = FINE_BINS + 5000; // then 1 ms bins up to ~5 s; the last bin holds everything later

function binOf(us: number): number {
  if (us <= 0) return 0;
  if (us < FINE_BINS * FINE_US) return Math.floor(us / FINE_US);
  return Math.min(BINS - 1, FINE_BINS + Math.floor((us - FINE_BINS * FINE_US) / COARSE_US));
}

/** The middle of bin `i`, µs. */
function midOf(i: number): number {
  if (i < FINE_BINS) return (i + 0.5) * FINE_US;
  return FINE_BINS * FINE_US + (i - FINE_BINS + 0.5) * COARSE_US;
}

/** Latency counts in 5 µs bins to 20 ms, then 1 ms bins to ~5 s; mergeable across processes. */
export class Histogram {
  readonly counts: Uint32Array;

  constructor(counts?: readonly number[]) {
    this.counts = new Uint32Array(BINS);
    if (counts) this.counts.set(counts.slice(0, BINS));
  }

  add(us: number): void {
    this.counts[binOf(us)]!++;
  }

  merge(o: Histogram): void {
    for (let i = 0; i < BINS; i++) this.counts[i]! += o.counts[i]!;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** The `p` quantile in µs (the middle of its bin); NaN when empty. */
  quantile(p: number): number {
    const total = this.total;
    if (total === 0) return Number.NaN;
    const rank = Math.ceil(total * p);
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return midOf(i);
    }
    return midOf(BINS - 1);
  }

  toArray(): number[] {
    return Array.from(this.counts);
  }
}
