import { Gauge, Registry } from 'prom-client';
import { totalsCounter } from '../util/totals-counter.js';
import type { SignalHub } from './hub.js';
import type { SfuLinks } from './sfu-links.js';

/**
 * Prometheus metrics of one SignalServer (`GET /metrics`): gauges read from the hub when
 * scraped, counters of relayed messages and of errors by code.
 */
export function signalRegistry(
  hub: SignalHub,
  connections: () => number,
  links?: SfuLinks,
): Registry {
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
  totalsCounter(
    registry,
    'rtcd_signal_relayed_total',
    'offers, answers, candidates and messages delivered to a peer on this node',
    [],
    () => [[{}, hub.stats.relayed]],
  );
  totalsCounter(registry, 'rtcd_signal_errors_total', 'error replies sent, by code', ['code'], () =>
    [...hub.stats.errors].map(([code, n]) => [{ code }, n]),
  );
  sfuMetrics(registry, hub, links);
  return registry;
}

/** The room service's side: is it there, how many links, how many messages each way. */
function sfuMetrics(registry: Registry, hub: SignalHub, links: SfuLinks | undefined): void {
  new Gauge({
    name: 'rtcd_signal_sfu_available',
    help: '1 while rooms of session type sfu can be joined (a room service or SFU link is up)',
    registers: [registry],
    collect() {
      this.set(hub.sfuAvailable() ? 1 : 0);
    },
  });
  if (links !== undefined) {
    new Gauge({
      name: 'rtcd_signal_sfu_links',
      help: 'SFU links up on /sfu',
      registers: [registry],
      collect() {
        this.set(links.linkCount);
      },
    });
  }
  totalsCounter(
    registry,
    'rtcd_signal_sfu_messages_total',
    'messages between peers and the room service, by direction (to_sfu, from_sfu)',
    ['direction'],
    () => [
      [{ direction: 'to_sfu' }, hub.stats.toService],
      [{ direction: 'from_sfu' }, hub.stats.fromService],
    ],
  );
}
