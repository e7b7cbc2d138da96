/**
 * What the TURN core and its adapters report, as a narrow interface: `TurnMetrics`
 * (prom-client, `lib/turn/metrics.ts`) implements it, tests may record it, and the default
 * does nothing. No method takes a username, so ephemeral REST usernames never become labels.
 */
export type RelayDirection = 'client-to-peer' | 'peer-to-client';

export type TurnTransport = 'udp' | 'tcp' | 'tls';

export interface TurnObserver {
  /** A datagram or frame was dropped; `reason` is a stable kebab-case code. */
  drop(reason: string): void;
  /** A request was answered; `method` is e.g. `allocate`, `code` is 0 for success. */
  response(method: string, code: number): void;
  /** Authentication failed (bad integrity, unknown user, expired REST username, stale nonce). */
  authFailure(reason: string): void;
  /** A packet was relayed. */
  relayed(direction: RelayDirection, bytes: number): void;
  /** Live counts changed; called with the new totals. */
  gauges(counts: {
    allocations: number;
    permissions: number;
    channels: number;
    connections: number;
  }): void;
}

const noop = (): void => {};

export const nullObserver: TurnObserver = {
  drop: noop,
  response: noop,
  authFailure: noop,
  relayed: noop,
  gauges: noop,
};
