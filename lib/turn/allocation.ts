import type { TransportAddress } from '../stun/transport-address.js';
import { parseIp } from '../util/ip.js';
import type { ClientRef, RelayRef } from './effects.js';
import { TokenBucket } from './token-bucket.js';

/**
 * What an allocation knows about one peer IP address: its permission (RFC 8656 §9, keyed by
 * IP only) and the channels bound to ports of that IP. The relay path finds a peer's entry
 * with one `Map.get(rinfo.address)` and its channel with one more `get(port)`: no string is
 * built per packet.
 */
export interface PeerEntry {
  /** Canonical text, as Node reports `rinfo.address` (see `ipToString`). */
  readonly address: string;
  readonly family: 4 | 6;
  /** 4 or 16 network-order bytes, for writing XOR-PEER-ADDRESS without parsing text. */
  readonly bytes: Buffer;
  /** ms; the permission is live while `now < permissionExpiresAt`. */
  permissionExpiresAt: number;
  /** Counted in the permission gauge (installed and not yet swept). */
  counted: boolean;
  /** Channels bound to ports of this IP, by port. */
  readonly channels: Map<number, ChannelBinding>;
}

/** A channel binding (RFC 8656 §12): a number ⇄ one peer transport address. */
export interface ChannelBinding {
  readonly number: number;
  readonly peer: TransportAddress;
  readonly entry: PeerEntry;
  /** ms; bound while `now < expiresAt`. */
  expiresAt: number;
}

/** Counts an allocation's sweep removed, for the gauges. */
export interface SweepResult {
  permissions: number;
  channels: number;
}

export interface AllocationInit<C extends ClientRef> {
  client: C;
  /** USERNAME of the Allocate: later requests must use the same (else 441). */
  username: string;
  /** Quota identity (REST: the user id part), counted against `maxAllocationsPerUser`. */
  user: string;
  family: 4 | 6;
  /** Transaction ID of the Allocate request (copied). */
  transactionId: Buffer;
  maxBps: number;
}

/**
 * One TURN allocation (RFC 8656 §2.2), identified by the client's 5-tuple. Lifetimes are
 * timestamps swept by `TurnCore.tick`, never timers. `pending` until the adapter has bound
 * its relay socket.
 *
 * Sweeping costs what expires, not what is held: every permission (and every channel) lasts
 * the same fixed lifetime from its last refresh, so keeping them in refresh order — a
 * refresh moves one to the end — keeps them in expiry order, and a sweep stops at the first
 * one still alive. (Should the clock step back, sweeping stops early and catches up later;
 * lookups check each timestamp anyway.)
 */
export class Allocation<C extends ClientRef, R extends RelayRef> {
  readonly client: C;
  readonly username: string;
  readonly user: string;
  readonly family: 4 | 6;
  readonly bucket: TokenBucket;
  readonly peers = new Map<string, PeerEntry>();
  /** By number, in expiry order. */
  readonly channels = new Map<number, ChannelBinding>();
  /** The entries with a counted permission, in expiry order. */
  private readonly permitted = new Set<PeerEntry>();
  relay: R | undefined;
  /** XOR-RELAYED-ADDRESS as advertised. */
  relayed: TransportAddress | undefined;
  /** ms; the allocation lives while `now < expiresAt`. */
  expiresAt = Number.POSITIVE_INFINITY;
  /** The last request answered on this allocation and its response, for retransmissions. */
  lastTransactionId: Buffer;
  lastResponse: Buffer | undefined;

  constructor(init: AllocationInit<C>) {
    this.client = init.client;
    this.username = init.username;
    this.user = init.user;
    this.family = init.family;
    this.lastTransactionId = init.transactionId;
    this.bucket = new TokenBucket(init.maxBps);
  }

  get pending(): boolean {
    return this.relay === undefined;
  }

  /** Remembers the response to `transactionId` so a retransmission gets it again. */
  remember(transactionId: Uint8Array, response: Buffer): void {
    this.lastTransactionId = Buffer.from(transactionId);
    this.lastResponse = Buffer.from(response);
  }

  /** True if `peer` (IP) has a live permission at `now`. */
  permits(address: string, now: number): boolean {
    const entry = this.peers.get(address);
    return entry !== undefined && now < entry.permissionExpiresAt;
  }

  /** Permissions installed and not yet swept. */
  get permissionCount(): number {
    return this.permitted.size;
  }

  /** How many IP addresses of `peers` (a repeat counts once) have no permission yet. */
  newPermissions(peers: readonly { readonly address: string }[]): number {
    if (peers.length === 1) return this.peers.get(peers[0]!.address)?.counted ? 0 : 1;
    const fresh = new Set<string>();
    for (const { address } of peers) {
      if (!this.peers.get(address)?.counted) fresh.add(address);
    }
    return fresh.size;
  }

  /**
   * Installs or refreshes the permission for `address` until `expiresAt`, now + the same
   * lifetime for every call (see the class comment). Returns true if it is newly counted
   * (the permission gauge goes up).
   */
  permit(address: string, expiresAt: number): boolean {
    const entry = this.entryFor(address);
    if (entry === undefined) return false;
    entry.permissionExpiresAt = expiresAt;
    const added = !entry.counted;
    entry.counted = true;
    this.permitted.delete(entry);
    this.permitted.add(entry);
    return added;
  }

  /** The channel bound to `peer`, live or not yet swept. */
  channelOfPeer(peer: TransportAddress): ChannelBinding | undefined {
    return this.peers.get(peer.address)?.channels.get(peer.port);
  }

  /**
   * Binds `number` to `peer` (or refreshes the binding) until `expiresAt`, now + the same
   * lifetime for every call; the caller has checked the §12 rebinding rules. Returns true if
   * the binding is new.
   */
  bind(number: number, peer: TransportAddress, expiresAt: number): boolean {
    const existing = this.channels.get(number);
    if (existing !== undefined) {
      existing.expiresAt = expiresAt;
      this.channels.delete(number);
      this.channels.set(number, existing);
      return false;
    }
    const entry = this.entryFor(peer.address);
    if (entry === undefined) return false;
    const binding: ChannelBinding = { number, peer, entry, expiresAt };
    this.channels.set(number, binding);
    entry.channels.set(peer.port, binding);
    return true;
  }

  /**
   * Removes expired channels and permissions (and peers left with neither), oldest first,
   * stopping at the first live one of each: the cost is what expires, plus two.
   */
  sweep(now: number): SweepResult {
    const removed: SweepResult = { permissions: 0, channels: 0 };
    for (const binding of this.channels.values()) {
      if (now < binding.expiresAt) break;
      this.channels.delete(binding.number);
      const entry = binding.entry;
      entry.channels.delete(binding.peer.port);
      if (entry.channels.size === 0 && !entry.counted) this.peers.delete(entry.address);
      removed.channels++;
    }
    for (const entry of this.permitted) {
      if (now < entry.permissionExpiresAt) break;
      this.permitted.delete(entry);
      entry.counted = false;
      removed.permissions++;
      // A peer whose channels outlive its permission stays, for them (§12: a channel needs a
      // live permission to relay, but stays bound); it goes with its last channel.
      if (entry.channels.size === 0) this.peers.delete(entry.address);
    }
    return removed;
  }

  /** Live permissions and channels, for the gauges when the allocation goes away. */
  counts(): SweepResult {
    return { permissions: this.permitted.size, channels: this.channels.size };
  }

  private entryFor(address: string): PeerEntry | undefined {
    let entry = this.peers.get(address);
    if (entry !== undefined) return entry;
    const ip = parseIp(address);
    if (ip === undefined) return undefined;
    entry = {
      address,
      family: ip.family,
      bytes: ip.bytes,
      permissionExpiresAt: 0,
      counted: false,
      channels: new Map(),
    };
    this.peers.set(address, entry);
    return entry;
  }
}
