import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RelayDirection, TurnObserver } from './observer.js';

export interface TurnMetricsOptions {
  /** Also export prom-client's process metrics (CPU, heap, event loop lag). Default `false`. */
  collectDefaultMetrics?: boolean;
}

/**
 * Distinct label values one counter keeps before folding the rest into `other`. Reasons and
 * methods come from our own code, so this only guards against a caller passing unbounded text.
 */
const MAX_LABEL_VALUES = 64;
const OTHER = 'other';

/**
 * `TurnObserver` backed by prom-client, on a registry of its own (never the global one, so two
 * servers in one process do not collide).
 *
 * The observer methods only bump plain numbers; the prom-client metrics read them in `collect()`
 * at scrape time. A micro-benchmark on Node 20 measured ~100 ns per `Counter.inc()` even on a
 * pre-bound label child (prom-client hashes the labels on every call) against ~1 ns for a
 * field increment, and `relayed()` runs once per relayed packet.
 *
 * No label carries a username: TURN REST usernames are ephemeral and would grow the series
 * without bound.
 */
export class TurnMetrics implements TurnObserver {
  readonly registry: Registry;

  readonly #drops = new Map<string, number>();
  readonly #authFailures = new Map<string, number>();
  /** method → code → count */
  readonly #responses = new Map<string, Map<number, number>>();
  #clientToPeerPackets = 0;
  #clientToPeerBytes = 0;
  #peerToClientPackets = 0;
  #peerToClientBytes = 0;
  #counts = { allocations: 0, permissions: 0, channels: 0, connections: 0 };

  constructor(registry: Registry = new Registry(), options: TurnMetricsOptions = {}) {
    this.registry = registry;
    if (options.collectDefaultMetrics) collectDefaultMetrics({ register: registry });
    this.#registerCounters();
    this.#registerGauges();
  }

  drop(reason: string): void {
    bump(this.#drops, reason);
  }

  response(method: string, code: number): void {
    let byCode = this.#responses.get(method);
    if (byCode === undefined) {
      const key = this.#responses.size < MAX_LABEL_VALUES ? method : OTHER;
      byCode = this.#responses.get(key) ?? new Map<number, number>();
      this.#responses.set(key, byCode);
    }
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  authFailure(reason: string): void {
    bump(this.#authFailures, reason);
  }

  relayed(direction: RelayDirection, bytes: number): void {
    if (direction === 'client-to-peer') {
      this.#clientToPeerPackets++;
      this.#clientToPeerBytes += bytes;
    } else {
      this.#peerToClientPackets++;
      this.#peerToClientBytes += bytes;
    }
  }

  gauges(counts: {
    allocations: number;
    permissions: number;
    channels: number;
    connections: number;
  }): void {
    this.#counts = counts;
  }

  #registerCounters(): void {
    const registers = [this.registry];
    const drops = this.#drops;
    const authFailures = this.#authFailures;
    const responses = this.#responses;
    const relay = (): [RelayDirection, number, number][] => [
      ['client-to-peer', this.#clientToPeerPackets, this.#clientToPeerBytes],
      ['peer-to-client', this.#peerToClientPackets, this.#peerToClientBytes],
    ];
    new Counter({
      name: 'rtcd_turn_drops_total',
      help: 'Datagrams or frames dropped, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of drops) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'rtcd_turn_responses_total',
      help: 'Requests answered, by STUN method and error code (0 = success).',
      labelNames: ['method', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [method, byCode] of responses) {
          for (const [code, n] of byCode) this.inc({ method, code: String(code) }, n);
        }
      },
    });
    new Counter({
      name: 'rtcd_turn_auth_failures_total',
      help: 'Failed authentications, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of authFailures) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'rtcd_turn_relayed_packets_total',
      help: 'Packets relayed, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        this.reset();
        for (const [direction, packets] of relay()) this.inc({ direction }, packets);
      },
    });
    new Counter({
      name: 'rtcd_turn_relayed_bytes_total',
      help: 'Payload bytes relayed, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        this.reset();
        for (const [direction, , bytes] of relay()) this.inc({ direction }, bytes);
      },
    });
  }

  #registerGauges(): void {
    const registers = [this.registry];
    const counts = () => this.#counts;
    const gauge = (name: string, help: string, key: keyof TurnMetrics['counts']) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(counts()[key]);
        },
      });
    gauge('rtcd_turn_allocations', 'Allocations held now.', 'allocations');
    gauge('rtcd_turn_permissions', 'Permissions installed now.', 'permissions');
    gauge('rtcd_turn_channels', 'Channel bindings now.', 'channels');
    gauge('rtcd_turn_connections', 'TCP/TLS client connections open now.', 'connections');
  }

  /** The live counts last reported through `gauges()`. */
  get counts(): Readonly<{
    allocations: number;
    permissions: number;
    channels: number;
    connections: number;
  }> {
    return this.#counts;
  }
}

function bump(map: Map<string, number>, key: string): void {
  const n = map.get(key);
  if (n !== undefined) {
    map.set(key, n + 1);
    return;
  }
  const label = map.size < MAX_LABEL_VALUES ? key : OTHER;
  map.set(label, (map.get(label) ?? 0) + 1);
}
