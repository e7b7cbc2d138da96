import type { StunMessageBuilder } from '../stun/builder.js';
import type { StunMessage } from '../stun/message.js';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Allocation } from './allocation.js';
import type { AllocationTable } from './allocation-table.js';
import type { ClientRef, RelayRef, RelayRequest, TurnEffects } from './effects.js';
import type { TurnObserver } from './observer.js';
import type { PeerFilter } from './peer-filter.js';
import type { ReplyInfo } from './reply.js';
import type { ReservationTable } from './reservations.js';
import type { ResolvedTurnOptions } from './resolve-options.js';

/** An authenticated TURN request, as the per-method handlers see it. */
export interface TurnRequest<C extends ClientRef> {
  readonly client: C;
  readonly message: StunMessage;
  /** ms, from the adapter's clock. */
  readonly now: number;
  /** How to answer: carries the long-term key, so responses get MESSAGE-INTEGRITY. */
  readonly reply: ReplyInfo;
  /** USERNAME as sent. */
  readonly username: string;
  /** Quota identity from the credential store. */
  readonly user: string;
}

/** An Allocate waiting for its relay socket. */
export interface PendingAllocate<C extends ClientRef, R extends RelayRef> {
  readonly allocation: Allocation<C, R>;
  readonly reply: ReplyInfo;
  /** Granted lifetime, seconds. */
  readonly lifetime: number;
  /** ADDITIONAL-ADDRESS-FAMILY asked for IPv6, which is refused with ADDRESS-ERROR-CODE. */
  readonly refuseAdditionalFamily: boolean;
}

/** What `TurnCore` offers its per-method handlers (`handle-*.ts`). */
export interface CoreContext<C extends ClientRef, R extends RelayRef> {
  readonly options: ResolvedTurnOptions;
  readonly effects: TurnEffects<C, R>;
  readonly observer: TurnObserver;
  readonly table: AllocationTable<C, R>;
  readonly reservations: ReservationTable<R>;
  readonly peerFilter: PeerFilter;
  /** `close()` has begun: new allocations are refused with 508. */
  readonly draining: boolean;
  /** Finishes (SOFTWARE, integrity, FINGERPRINT) and sends a response; returns its bytes. */
  respond(client: C, reply: ReplyInfo, builder: StunMessageBuilder, code: number): Buffer;
  /**
   * Sends a success response (`builder`, default one with no attributes) and remembers it
   * as the allocation's answer to a retransmission of `request` (RFC 8489 §6.3.1).
   */
  succeed(
    request: Pick<TurnRequest<C>, 'client' | 'reply'>,
    allocation: Allocation<C, R>,
    builder?: StunMessageBuilder,
  ): void;
  /** Sends an error response with just ERROR-CODE (and `extra` attributes). */
  reject(request: TurnRequest<C>, code: number, extra?: (b: StunMessageBuilder) => void): void;
  /** The client's allocation, after removing it if it expired at `now`. */
  liveAllocation(client: C, now: number): Allocation<C, R> | undefined;
  /** Adds a pending allocation and asks the adapter for its relay socket. */
  openRelay(pending: PendingAllocate<C, R>, request: Omit<RelayRequest<C>, 'id' | 'client'>): void;
  /** Makes a reserved relay the allocation's relay and answers the Allocate. */
  completeAllocate(
    pending: PendingAllocate<C, R>,
    relay: R,
    relayed: TransportAddress,
    now: number,
    token?: Buffer,
  ): void;
  /** Deletes an allocation, closing its relay. */
  removeAllocation(allocation: Allocation<C, R>): void;
  /** Takes `bytes` from the allocation's and the server's token buckets; counts a drop if not. */
  admit(allocation: Allocation<C, R>, bytes: number, now: number): boolean;
  /** Permission and channel gauges moved by these amounts. */
  countChanged(permissions: number, channels: number): void;
}

/**
 * The live allocation a Refresh, CreatePermission or ChannelBind acts on, or undefined after
 * answering 437 (none on this 5-tuple) or 441 (another USERNAME made it, RFC 8656 §5).
 */
export function ownAllocation<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): Allocation<C, R> | undefined {
  const allocation = core.liveAllocation(request.client, request.now);
  if (allocation === undefined || allocation.pending) {
    core.reject(request, 437);
    return undefined;
  }
  if (allocation.username !== request.username) {
    core.observer.authFailure('wrong-credentials');
    core.reject(request, 441);
    return undefined;
  }
  return allocation;
}
