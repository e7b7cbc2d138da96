import type { TransportAddress } from '../stun/transport-address.js';
import type { Allocation } from './allocation.js';
import type { ClientRef, RelayRef } from './effects.js';

/**
 * The live allocations, found by 5-tuple (`ClientRef.key`) for requests and ChannelData from
 * clients, and by relay socket for datagrams from peers; plus per-user counts for the
 * `maxAllocationsPerUser` quota. Pending allocations (relay not bound yet) count everywhere
 * except `byRelay`.
 */
export class AllocationTable<C extends ClientRef, R extends RelayRef> {
  private readonly byKey = new Map<string, Allocation<C, R>>();
  private readonly relays = new Map<R, Allocation<C, R>>();
  private readonly perUser = new Map<string, number>();

  get size(): number {
    return this.byKey.size;
  }

  /** The allocation of a 5-tuple (pending or active), if any. */
  get(client: ClientRef): Allocation<C, R> | undefined {
    return this.byKey.get(client.key);
  }

  /** The active allocation owning `relay`. */
  byRelay(relay: R): Allocation<C, R> | undefined {
    return this.relays.get(relay);
  }

  /** Allocations `user` holds (pending included). */
  countOf(user: string): number {
    return this.perUser.get(user) ?? 0;
  }

  /** Adds a pending allocation. */
  add(allocation: Allocation<C, R>): void {
    this.byKey.set(allocation.client.key, allocation);
    this.perUser.set(allocation.user, this.countOf(allocation.user) + 1);
  }

  /** Gives a pending allocation its relay socket. */
  activate(allocation: Allocation<C, R>, relay: R, relayed: TransportAddress): void {
    allocation.relay = relay;
    allocation.relayed = relayed;
    this.relays.set(relay, allocation);
  }

  /** True if `allocation` is still the one in the table (not removed meanwhile). */
  holds(allocation: Allocation<C, R>): boolean {
    return this.byKey.get(allocation.client.key) === allocation;
  }

  /** Removes an allocation; the caller closes its relay. */
  remove(allocation: Allocation<C, R>): void {
    if (!this.holds(allocation)) return;
    this.byKey.delete(allocation.client.key);
    if (allocation.relay !== undefined) this.relays.delete(allocation.relay);
    const left = this.countOf(allocation.user) - 1;
    if (left > 0) this.perUser.set(allocation.user, left);
    else this.perUser.delete(allocation.user);
  }

  values(): IterableIterator<Allocation<C, R>> {
    return this.byKey.values();
  }
}
