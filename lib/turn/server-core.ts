import { encodeAddressErrorCode } from '../stun/attributes/address-error-code.js';
import type { StunMessageBuilder } from '../stun/builder.js';
import { AttributeType } from '../stun/constants.js';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Allocation } from './allocation.js';
import { AllocationTable } from './allocation-table.js';
import { type AuthDeps, challenge } from './auth.js';
import type { PendingAllocate, TurnRequest } from './core-context.js';
import { CredentialStore } from './credentials.js';
import type { ClientRef, RelayRef, RelayRequest, RelayResult, TurnEffects } from './effects.js';
import { NonceIssuer } from './nonce.js';
import { nullObserver, type TurnObserver } from './observer.js';
import { PeerFilter } from './peer-filter.js';
import { RelayFraming } from './relay-framing.js';
import { finishResponse, methodName, type ReplyInfo, responseBuilder } from './reply.js';
import { ReservationTable } from './reservations.js';
import type { ResolvedTurnOptions } from './resolve-options.js';
import { type DispatchContext, dispatchStun } from './stun-dispatch.js';
import { TokenBucket } from './token-bucket.js';

export interface TurnCoreInit<C extends ClientRef, R extends RelayRef> {
  options: ResolvedTurnOptions;
  effects: TurnEffects<C, R>;
  /** Default `nullObserver`. */
  observer?: TurnObserver;
  /** Default: built from `options` (realm, users, authSecrets, passwordAlgorithms). */
  credentials?: CredentialStore;
  /**
   * Default: a random secret, `options.nonceLifetime` and the nonce cookie of
   * `credentials.securityFeatures()`.
   */
  nonces?: NonceIssuer;
  /** Default: built from `options` (allowPeers, denyPeers, allowLoopbackPeers). */
  peerFilter?: PeerFilter;
}

/**
 * The TURN server (RFC 8656) and STUN Binding responder (RFC 8489) as a sans-IO state
 * machine: it opens no socket and reads no clock. Every entry point takes `now` (ms) and
 * performs its effects through `TurnEffects`. Lifetimes are timestamps swept by `tick(now)`.
 *
 * The two relay paths — `handleClientPacket` with ChannelData and `handlePeerPacket` —
 * parse by offset, find state with `Map.get` on strings the adapter already has, and send
 * the payload as a view (client → peer: offset and length into the received buffer; peer →
 * client: a 4-byte or ~40-byte head, then the datagram untouched). They allocate only that
 * head. Network input never throws out of the core: it is answered or dropped with a
 * counted reason (`TurnObserver.drop`).
 */
export class TurnCore<C extends ClientRef, R extends RelayRef> implements DispatchContext<C, R> {
  readonly options: ResolvedTurnOptions;
  readonly effects: TurnEffects<C, R>;
  readonly observer: TurnObserver;
  readonly table = new AllocationTable<C, R>();
  readonly reservations = new ReservationTable<R>();
  readonly peerFilter: PeerFilter;
  readonly credentials: CredentialStore;
  readonly nonces: NonceIssuer;
  draining = false;
  private readonly bucket: TokenBucket;
  private readonly framing = new RelayFraming();
  private readonly pending = new Map<number, PendingAllocate<C, R>>();
  readonly authDeps: AuthDeps<C>;
  private nextRelayId = 1;
  private readonly counts = { allocations: 0, permissions: 0, channels: 0, connections: 0 };

  constructor(init: TurnCoreInit<C, R>) {
    const o = init.options;
    this.options = o;
    this.effects = init.effects;
    this.observer = init.observer ?? nullObserver;
    this.credentials =
      init.credentials ??
      new CredentialStore({
        realm: o.realm,
        users: o.users,
        authSecrets: o.authSecrets,
        passwordAlgorithms: o.passwordAlgorithms,
      });
    // The nonce cookie announces what the credentials support (RFC 8489 §9.2, auth.ts).
    this.nonces =
      init.nonces ??
      new NonceIssuer({
        lifetimeMs: o.nonceLifetime * 1000,
        ...(o.nonceSecret ? { secret: o.nonceSecret } : {}),
        securityFeatures: this.credentials.securityFeatures(),
      });
    this.peerFilter =
      init.peerFilter ??
      new PeerFilter({
        allow: o.allowPeers,
        deny: o.denyPeers,
        allowLoopback: o.allowLoopbackPeers,
      });
    this.bucket = new TokenBucket(o.bpsCapacity);
    this.authDeps = {
      credentials: this.credentials,
      nonces: this.nonces,
      observer: this.observer,
      answer: (client, reply, code, now) => {
        const builder =
          code === 400
            ? responseBuilder(reply, code)
            : challenge(this.credentials, this.nonces, client, reply, code, now);
        this.respond(client, reply, builder, code);
      },
    };
  }

  /** Allocations held, pending ones included. */
  get allocationCount(): number {
    return this.table.size;
  }

  /**
   * True while the client's 5-tuple has an allocation (pending or active); with `now`, only
   * if it has not expired by then (it may not have been swept yet).
   */
  hasAllocation(client: ClientRef, now = Number.NEGATIVE_INFINITY): boolean {
    const allocation = this.table.get(client);
    return allocation !== undefined && now < allocation.expiresAt;
  }

  /**
   * A datagram (UDP) or one frame (TCP/TLS, cut by `streamFrameLength`) from a client:
   * `data[offset, offset + length)`. The core keeps no view of `data` after returning.
   */
  handleClientPacket(client: C, data: Buffer, offset: number, length: number, now: number): void {
    // 0x40..0x7F: ChannelData of RFC 8656 and of RFC 5766's wider channel range; whether a
    // number is bound is the channel table's business (unbound → counted drop).
    if (length >= 4 && (data[offset]! & 0xc0) === 0x40) {
      this.relayChannelData(client, data, offset, length, now);
    } else if (length >= 20 && (data[offset]! & 0xc0) === 0) {
      const view =
        offset === 0 && length === data.length ? data : data.subarray(offset, offset + length);
      dispatchStun(this, client, view, now);
    } else {
      this.observer.drop('not-turn');
    }
  }

  /** A datagram from `address`:`port` (Node's `rinfo`) arrived on relay socket `relay`. */
  handlePeerPacket(relay: R, address: string, port: number, data: Buffer, now: number): void {
    const allocation = this.table.byRelay(relay);
    if (allocation === undefined || now >= allocation.expiresAt) {
      this.observer.drop('no-allocation');
      return;
    }
    const peer = allocation.peers.get(address);
    if (peer === undefined || now >= peer.permissionExpiresAt) {
      this.observer.drop('no-permission');
      return;
    }
    const length = data.length;
    if (!this.admit(allocation, length, now)) return;
    const channel = peer.channels.get(port);
    const client = allocation.client;
    if (channel !== undefined && now < channel.expiresAt) {
      // RFC 8656 §12.5: ChannelData over TCP/TLS is padded to 4 bytes, over UDP need not be.
      const padding = client.transport === 'udp' ? 0 : (4 - (length & 3)) & 3;
      this.effects.sendToClient(
        client,
        this.framing.channelDataHead(channel.number, length),
        data,
        padding,
      );
    } else {
      if (!this.framing.fitsDataIndication(peer, length)) {
        this.observer.drop('oversized-data');
        return;
      }
      const head = this.framing.dataHead(peer, port, length);
      this.effects.sendToClient(client, head, data, (4 - (length & 3)) & 3);
    }
    this.observer.relayed('peer-to-client', length);
  }

  /** The adapter's answer to `TurnEffects.openRelay`. */
  relayOpened(id: number, result: RelayResult<R>, now: number): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (pending === undefined || !this.table.holds(pending.allocation)) {
      // The client went away (or the server closed) while the socket was being bound.
      if (result.ok) this.closeRelays(result);
      return;
    }
    const allocation = pending.allocation;
    if (!result.ok) {
      this.removeAllocation(allocation);
      const code = result.reason === 'family-unavailable' ? 440 : 508;
      this.respond(allocation.client, pending.reply, responseBuilder(pending.reply, code), code);
      return;
    }
    const token =
      result.reserved &&
      this.reservations.hold(
        result.reserved.relay,
        result.reserved.relayed,
        allocation.family,
        now,
      );
    this.completeAllocate(pending, result.relay, result.relayed, now, token);
  }

  /** Expires allocations, permissions, channels and reservations due at `now`. Call ~1/s. */
  tick(now: number): void {
    for (const allocation of this.table.values()) {
      if (allocation.pending) continue;
      if (now >= allocation.expiresAt) this.removeAllocation(allocation);
      else this.sweep(allocation, now);
    }
    this.reservations.sweep(now, (relay) => this.effects.closeRelay(relay));
  }

  /** A TCP/TLS connection was accepted (counted in the connections gauge). */
  clientConnected(_client: C): void {
    this.counts.connections++;
    this.emitGauges();
  }

  /** A TCP/TLS connection closed: its allocation goes with it (RFC 8656 §3.1). */
  clientClosed(client: C): void {
    const allocation = this.table.get(client);
    if (allocation !== undefined) this.removeAllocation(allocation);
    this.counts.connections--;
    this.emitGauges();
  }

  /** Stops granting allocations: new Allocate requests get 508 (clients try another server). */
  drain(): void {
    this.draining = true;
  }

  /** Deletes every allocation and reservation, closing their relays. */
  close(): void {
    this.draining = true;
    for (const allocation of this.table.values()) this.removeAllocation(allocation);
    this.reservations.sweep(Number.POSITIVE_INFINITY, (relay) => this.effects.closeRelay(relay));
  }

  // --- CoreContext, for the handlers -------------------------------------------------------

  respond(client: C, reply: ReplyInfo, builder: StunMessageBuilder, code: number): Buffer {
    const bytes = finishResponse(reply, builder, this.options.software);
    this.effects.sendToClient(client, bytes);
    this.observer.response(methodName(reply.method), code);
    return bytes;
  }

  succeed(
    request: Pick<TurnRequest<C>, 'client' | 'reply'>,
    allocation: Allocation<C, R>,
    builder = responseBuilder(request.reply, 0),
  ): void {
    const response = this.respond(request.client, request.reply, builder, 0);
    allocation.remember(request.reply.transactionId, response);
  }

  reject(request: TurnRequest<C>, code: number, extra?: (b: StunMessageBuilder) => void): void {
    const builder = responseBuilder(request.reply, code);
    extra?.(builder);
    this.respond(request.client, request.reply, builder, code);
  }

  liveAllocation(client: C, now: number): Allocation<C, R> | undefined {
    const allocation = this.table.get(client);
    if (allocation === undefined || allocation.pending) return allocation;
    if (now >= allocation.expiresAt) {
      this.removeAllocation(allocation);
      return undefined;
    }
    this.sweep(allocation, now);
    return allocation;
  }

  openRelay(pending: PendingAllocate<C, R>, request: Omit<RelayRequest<C>, 'id' | 'client'>): void {
    const id = this.nextRelayId++;
    this.pending.set(id, pending);
    this.table.add(pending.allocation);
    this.emitGauges();
    this.effects.openRelay({
      id,
      client: pending.allocation.client,
      family: pending.allocation.family,
      evenPort: request.evenPort,
      reserveNext: request.reserveNext,
    });
  }

  completeAllocate(
    pending: PendingAllocate<C, R>,
    relay: R,
    relayed: TransportAddress,
    now: number,
    token?: Buffer,
  ): void {
    const allocation = pending.allocation;
    this.table.activate(allocation, relay, relayed);
    allocation.expiresAt = now + pending.lifetime * 1000;
    this.emitGauges();
    const builder = responseBuilder(pending.reply, 0)
      .addXorAddress(AttributeType.XOR_RELAYED_ADDRESS, relayed)
      .addUint32(AttributeType.LIFETIME, pending.lifetime)
      .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, allocation.client.remote);
    if (token !== undefined) builder.add(AttributeType.RESERVATION_TOKEN, token);
    if (pending.refuseAdditionalFamily) {
      builder.add(AttributeType.ADDRESS_ERROR_CODE, encodeAddressErrorCode(6, 440));
    }
    this.succeed({ client: allocation.client, reply: pending.reply }, allocation, builder);
  }

  removeAllocation(allocation: Allocation<C, R>): void {
    if (!this.table.holds(allocation)) return;
    const gone = allocation.counts();
    this.table.remove(allocation);
    if (allocation.relay !== undefined) this.effects.closeRelay(allocation.relay);
    this.effects.released(allocation.client);
    this.countChanged(-gone.permissions, -gone.channels);
  }

  admit(allocation: Allocation<C, R>, bytes: number, now: number): boolean {
    if (!allocation.bucket.take(bytes, now)) {
      this.observer.drop('allocation-bandwidth');
      return false;
    }
    if (!this.bucket.take(bytes, now)) {
      this.observer.drop('server-bandwidth');
      return false;
    }
    return true;
  }

  countChanged(permissions: number, channels: number): void {
    this.counts.permissions += permissions;
    this.counts.channels += channels;
    this.emitGauges();
  }

  // --- internals -----------------------------------------------------------------------------

  /** ChannelData from a client (RFC 8656 §12.6): the hot path, no allocation. */
  private relayChannelData(client: C, data: Buffer, offset: number, length: number, now: number) {
    const allocation = this.table.get(client);
    if (allocation === undefined || allocation.relay === undefined || now >= allocation.expiresAt) {
      this.observer.drop('no-allocation');
      return;
    }
    const number = (data[offset]! << 8) | data[offset + 1]!;
    const size = (data[offset + 2]! << 8) | data[offset + 3]!;
    if (size > length - 4) {
      this.observer.drop('truncated-channel-data');
      return;
    }
    const channel = allocation.channels.get(number);
    if (channel === undefined || now >= channel.expiresAt) {
      this.observer.drop('unbound-channel');
      return;
    }
    if (now >= channel.entry.permissionExpiresAt) {
      this.observer.drop('no-permission');
      return;
    }
    if (!this.admit(allocation, size, now)) return;
    this.effects.sendToPeer(allocation.relay, channel.peer, data, offset + 4, size);
    this.observer.relayed('client-to-peer', size);
  }

  private sweep(allocation: Allocation<C, R>, now: number): void {
    const gone = allocation.sweep(now);
    if (gone.permissions !== 0 || gone.channels !== 0) {
      this.countChanged(-gone.permissions, -gone.channels);
    }
  }

  private closeRelays(result: Extract<RelayResult<R>, { ok: true }>): void {
    this.effects.closeRelay(result.relay);
    if (result.reserved) this.effects.closeRelay(result.reserved.relay);
  }

  /** Reports the gauges; the allocation count is the table's, read at each report. */
  private emitGauges(): void {
    this.counts.allocations = this.table.size;
    this.observer.gauges(this.counts);
  }
}
