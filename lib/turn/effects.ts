import type { TransportAddress } from '../stun/transport-address.js';
import type { TurnTransport } from './observer.js';

/**
 * The sans-IO TURN core (`TurnCore`) talks to sockets only through these types: the adapter
 * (`TurnServer`, or a test) hands it `ClientRef`s and `RelayRef`s and performs the effects it
 * asks for. The core never looks inside a ref beyond the fields below, so an adapter may use
 * richer objects (its socket, its connection) and get them back, typed, in every effect.
 */
export interface ClientRef {
  readonly transport: TurnTransport;
  /** The client's address as the server sees it (source of its packets). */
  readonly remote: TransportAddress;
  /** The server address the client reached (the listener). */
  readonly local: TransportAddress;
  /**
   * The 5-tuple as one string, unique among live clients, e.g. `udp/1.2.3.4:5/0.0.0.0:3478`.
   * An adapter builds it once per client, never per packet (the relay path allocates nothing).
   */
  readonly key: string;
}

/** A relay socket the adapter opened for an allocation (or a reservation). */
export type RelayRef = object;

/** Asks the adapter for a relay socket; answered with `core.relayOpened(id, result, now)`. */
export interface RelayRequest<C extends ClientRef> {
  /** Correlates the answer. */
  readonly id: number;
  readonly client: C;
  readonly family: 4 | 6;
  /** EVEN-PORT: the relay port must be even (RFC 8656 §7.2). */
  readonly evenPort: boolean;
  /** EVEN-PORT with R set: also hold the next port (odd) for a later RESERVATION-TOKEN. */
  readonly reserveNext: boolean;
}

export type RelayResult<R extends RelayRef> =
  | {
      ok: true;
      relay: R;
      /** What XOR-RELAYED-ADDRESS says: the bound address or its external (1:1 NAT) one. */
      relayed: TransportAddress;
      /** With `reserveNext`: the held socket on the next port. */
      reserved?: { relay: R; relayed: TransportAddress };
    }
  | {
      ok: false;
      /** `ports-exhausted` → 508; `family-unavailable` → 440; anything else → 508. */
      reason: string;
    };

/**
 * What the core asks its adapter to do. Calls happen synchronously inside the core's entry
 * points; the adapter must not call back into the core from within them except
 * `relayOpened`, which it may call later (usually after an async bind).
 */
export interface TurnEffects<C extends ClientRef, R extends RelayRef> {
  /**
   * Sends one message to a client: `head`, then `body` (not copied: a view of a peer's
   * datagram), then `padding` zero bytes. On TCP/TLS the three are one frame. The core never
   * modifies `head` or `body` afterwards (a cached response may be passed again), so the
   * adapter may queue them without copying.
   */
  sendToClient(client: C, head: Uint8Array, body?: Uint8Array, padding?: number): void;
  /** Sends `data[offset, offset + length)` from `relay` to `peer`; `data` is not kept. */
  sendToPeer(
    relay: R,
    peer: TransportAddress,
    data: Uint8Array,
    offset: number,
    length: number,
  ): void;
  /** Opens a relay socket; the adapter answers with `core.relayOpened(request.id, …)`. */
  openRelay(request: RelayRequest<C>): void;
  /** Closes a relay socket (allocation ended, reservation expired). */
  closeRelay(relay: R): void;
  /** The core holds no more state for this client (UDP adapters may forget its ref). */
  released(client: C): void;
  /** Closes a TCP/TLS client connection (e.g. garbage that cannot be framed). */
  closeClient(client: C, reason: string): void;
}
