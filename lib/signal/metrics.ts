import { Counter, Gauge, Registry } from 'prom-client';
import type { SignalHub } from './hub.js';

/**
 * Prometheus metrics of one SignalServer (`GET /metrics`): gauges read from the hub when
 * scraped, counters of relayed messages and of errors by code.
 */
export function signalRegistry(hub: SignalHub, connections: () => number): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'rtcd_signal_connections',
    help: 'WebSocket and SSE connections held',
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
  new Gauge({
    name: 'rtcd_signal_peers',
    help: 'peers held by this node (including those waiting for a resume)',
    registers: [registry],
    collect() {
      this.set(hub.peers.size);
    },
  });
  new Gauge({
    name: 'rtcd_signal_rooms',
    help: 'rooms with a member on this node',
    registers: [registry],
    collect() {
      this.set(hub.rooms.size);
    },
  });
  new Gauge({
    name: 'rtcd_signal_store_healthy',
    help: '1 while the store (Redis) is reachable',
    registers: [registry],
    collect() {
      this.set(hub.store.healthy() ? 1 : 0);
    },
  });
  let relayedSeen = 0;
  new Counter({
    name: 'rtcd_signal_relayed_total',
    help: 'offers, answers, candidates and messages delivered to a peer on this node',
    registers: [registry],
    collect() {
      this.inc(hub.stats.relayed - relayedSeen);
      relayedSeen = hub.stats.relayed;
    },
  });
  const errorsSeen = new Map<string, number>();
  new Counter({
    name: 'rtcd_signal_errors_total',
    help: 'error replies sent, by code',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, n] of hub.stats.errors) {
        this.inc({ code }, n - (errorsSeen.get(code) ?? 0));
        errorsSeen.set(code, n);
      }
    },
  });
  return registry;
}
