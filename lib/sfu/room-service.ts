/**
 * `SfuRoomService`: the SFU side of multi-party rooms (lib/signal/room-service.ts). Each peer
 * of a signal room of type `sfu` gets two legs on the server's shared ICE-lite port, each a
 * `WebRtcEndpoint` bound to its own router participant:
 * - publish: the peer offers (`publish`), we answer with `answerPublish`; re-offers on the same
 *   ICE ufrag and DTLS fingerprint add and close producers by mid on the same endpoint;
 * - subscribe: we offer the room's other tracks (`subscribe-offer`, see subscribe-offer.ts),
 *   one offer in flight at a time, changes coalesced into the next; subscriptions start when
 *   the answer arrives and the leg is connected (a key frame is requested for each); a leg
 *   that dies under a peer still in the room is re-created (`restart: true`), within a budget.
 * Rooms are the router's rooms: a WHIP publisher in room `x` is seen by the peers of signal
 * room `x`. Bad input never throws at the caller: it goes back as an `error` message.
 */

import type {
  RoomService,
  RoomServiceSink,
  SfuClientMessage,
  SfuServerMessage,
  SfuTrackSource,
} from '../signal/room-service.js';
import { type Logger, silentLogger } from '../util/logger.js';
import type { Producer } from './producer.js';
import { sameTransport } from './publish-offer.js';
import type { Room } from './room.js';
import {
  closePublishLeg,
  openPublishLeg,
  type PublishLeg,
  type PublishLegContext,
  republish,
} from './room-publish-leg.js';
import {
  RoomServiceError,
  type RoomServiceErrorKey,
  roomServiceCodes,
  serviceError,
} from './room-service-errors.js';
import {
  type ResolvedRoomServiceOptions,
  resolveRoomServiceOptions,
  type SfuRoomServiceOptions,
} from './room-service-options.js';
import { SubscribeLeg } from './room-subscribe-leg.js';
import type { SfuServer } from './sfu-server.js';
import { defaultProducerCodec, type ProducerCodec } from './subscribe-offer.js';
import { readOffer } from './whip.js';

export type { SfuRoomServiceOptions } from './room-service-options.js';

interface Peer {
  readonly id: string;
  readonly room: string;
  publish: PublishLeg | undefined;
  subscribe: SubscribeLeg | undefined;
  /** The subscribe leg ended past its restart budget: no more offers for this peer. */
  subscribeEnded: boolean;
  /** Its last subscribe leg ended under it: the next one is offered with `restart`. */
  subscribeRestart: boolean;
  /** When its subscribe legs were re-created (the last minute's, for the budget). */
  restarts: number[];
  /** Set once the first publish-answer went out (rooms-contract: subscriptions follow it). */
  subscribable: boolean;
  scheduled: boolean;
  closed: boolean;
}

export { subscriberIdOf } from './room-subscribe-leg.js';

export class SfuRoomService implements RoomService {
  readonly options: ResolvedRoomServiceOptions;
  private sink: RoomServiceSink | undefined;
  private readonly peers = new Map<string, Peer>();
  /** Peers by room id (a room's changes renegotiate only its peers). */
  private readonly rooms = new Map<string, Set<Peer>>();
  private readonly codecs = new WeakMap<Producer, ProducerCodec>();
  private readonly sources = new WeakMap<Producer, SfuTrackSource>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private closed = false;
  private readonly onRoom = (room: Room): void => this.watchRoom(room);

  /** @throws TypeError for a bad option (named). */
  constructor(
    private readonly server: SfuServer,
    options: SfuRoomServiceOptions = {},
  ) {
    this.options = resolveRoomServiceOptions(options);
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? (() => performance.now());
    server.router.on('room', this.onRoom);
    for (const room of server.router.rooms.values()) this.watchRoom(room);
  }

  attach(sink: RoomServiceSink): void {
    this.sink = sink;
  }

  /** Peers currently joined (all rooms). */
  get size(): number {
    return this.peers.size;
  }

  join(room: string, peerId: string): void {
    if (this.closed) {
      this.fail(peerId, 'unavailable', 'room service closed', 'join');
      return;
    }
    const old = this.peers.get(peerId);
    if (old !== undefined) {
      if (old.room === room) return;
      this.leave(old.room, peerId);
    }
    if (this.peers.size >= this.options.maxPeers) {
      this.fail(peerId, 'limit', `peers limit of ${this.options.maxPeers}`, 'join');
      return;
    }
    const peer: Peer = {
      id: peerId,
      room,
      publish: undefined,
      subscribe: undefined,
      subscribeEnded: false,
      subscribeRestart: false,
      restarts: [],
      subscribable: false,
      scheduled: false,
      closed: false,
    };
    this.peers.set(peerId, peer);
    const set = this.rooms.get(room) ?? new Set<Peer>();
    set.add(peer);
    this.rooms.set(room, set);
  }

  message(room: string, peerId: string, message: SfuClientMessage): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.room !== room || this.closed) {
      this.fail(peerId, 'badState', 'not joined to this sfu room', message.type);
      return;
    }
    try {
      switch (message.type) {
        case 'publish':
          this.publish(peer, message.sdp, message.sources);
          return;
        case 'subscribe-answer':
          this.subscribeAnswer(peer, message.sdp);
          return;
        case 'set-layer':
          this.setLayer(peer, message.trackId, message.layer);
          return;
      }
    } catch (err) {
      const e = serviceError(err);
      if (e.key === 'internal') this.logger.warn({ err, peer: peerId }, 'sfu room service');
      this.fail(peerId, e.key, e.message, message.type);
    }
  }

  leave(room: string, peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.room !== room) return;
    this.peers.delete(peerId);
    const set = this.rooms.get(room);
    set?.delete(peer);
    if (set?.size === 0) this.rooms.delete(room);
    peer.closed = true;
    this.closeLegs(peer, 'left');
  }

  /** Ends every peer's legs (their producers and subscriptions close). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.router.off('room', this.onRoom);
    for (const peer of [...this.peers.values()]) this.leave(peer.room, peer.id);
  }

  // --- publish -------------------------------------------------------------------------------

  private publish(
    peer: Peer,
    sdp: string,
    sources: Readonly<Record<string, SfuTrackSource>> | undefined,
  ): void {
    const { offer, remote } = readOffer(sdp);
    const old = peer.publish;
    if (old !== undefined && !sameTransport(old.remote, remote)) {
      // An ICE restart or a new certificate: a new endpoint, the old tracks end.
      peer.publish = undefined;
      closePublishLeg(old, 'republished');
    }
    const ctx = this.publishContext(peer, sources);
    let answer: string;
    if (peer.publish !== undefined) answer = republish(ctx, peer.publish, offer);
    else {
      const { leg, sdp: first } = openPublishLeg(ctx, peer.id, offer, remote);
      answer = first;
      peer.publish = leg;
      const { participant } = leg;
      participant.on('close', (reason) => {
        if (peer.publish === leg) {
          peer.publish = undefined;
          // Not a leave or a restart we made: the peer learns its tracks are gone.
          if (!peer.closed) this.legEnded(peer, 'publish', reason);
        }
        this.closeIfEmpty(participant.room);
      });
    }
    this.send(peer.id, { type: 'publish-answer', sdp: answer });
    if (!peer.subscribable) {
      peer.subscribable = true;
      this.schedule(peer);
    }
  }

  private publishContext(
    peer: Peer,
    sources: Readonly<Record<string, SfuTrackSource>> | undefined,
  ): PublishLegContext {
    return {
      media: this.server.media(),
      room: () => this.roomFor(peer.room),
      closeIfEmpty: (room) => this.closeIfEmpty(room),
      codecs: this.codecs,
      sources: this.sources,
      sourceOf: (mid) =>
        sources !== undefined && Object.hasOwn(sources, mid) ? sources[mid] : undefined,
    };
  }

  // --- subscribe -----------------------------------------------------------------------------

  private watchRoom(room: Room): void {
    room.on('activespeaker', (p) => this.speakerChanged(room.id, p));
    room.on('producer', (p) => {
      p.on('close', () => this.roomChanged(room.id));
      this.roomChanged(room.id);
    });
    for (const p of room.producers()) p.on('close', () => this.roomChanged(room.id));
  }

  /** Every peer of the room hears who speaks (the speaker too: its UI may show it). */
  private speakerChanged(roomId: string, p: Producer): void {
    const peers = this.rooms.get(roomId);
    if (peers === undefined || this.sink === undefined) return;
    const m: SfuServerMessage = { type: 'active-speaker', peerId: p.participant.id, trackId: p.id };
    for (const peer of peers) if (!peer.closed) this.sink(peer.id, m);
  }

  private roomChanged(roomId: string): void {
    for (const peer of this.rooms.get(roomId) ?? []) this.schedule(peer);
  }

  /** Coalesces changes of one event-loop turn into one renegotiation. */
  private schedule(peer: Peer): void {
    if (peer.scheduled || peer.closed || !peer.subscribable || peer.subscribeEnded) return;
    peer.scheduled = true;
    setImmediate(() => {
      peer.scheduled = false;
      try {
        this.renegotiate(peer);
      } catch (err) {
        const e = serviceError(err);
        this.logger.warn({ err, peer: peer.id }, 'sfu subscribe offer failed');
        this.fail(peer.id, e.key, e.message, 'subscribe-offer');
      }
    });
  }

  private otherProducers(peer: Peer): Producer[] {
    const room = this.server.router.getRoom(peer.room);
    if (room === undefined) return [];
    return [...room.producers()].filter((p) => p.participant.id !== peer.id);
  }

  private renegotiate(peer: Peer): void {
    if (peer.closed || this.closed || peer.subscribeEnded) return;
    let leg = peer.subscribe;
    if (leg?.inFlight) return;
    const producers = this.otherProducers(peer);
    if (leg === undefined) {
      if (producers.length === 0) return;
      leg = this.openSubscribe(peer);
    }
    leg.plan.sync(producers);
    if (!leg.plan.changed()) return;
    this.sendOffer(peer, leg);
  }

  private openSubscribe(peer: Peer): SubscribeLeg {
    const leg = SubscribeLeg.open(this.server.media(), this.roomFor(peer.room), peer.id, {
      codecOf: (p) => this.codecs.get(p) ?? defaultProducerCodec(p),
      sourceOf: (p) => this.sources.get(p),
      maxSections: this.options.maxSubscribeSections,
      logger: this.logger,
      restart: peer.subscribeRestart,
    });
    peer.subscribe = leg;
    peer.subscribeRestart = false;
    const { participant } = leg;
    participant.on('close', (reason) => {
      clearTimeout(leg.answerTimer);
      if (peer.subscribe === leg) {
        peer.subscribe = undefined;
        if (!peer.closed && !this.closed) this.subscribeLegEnded(peer, reason);
      }
      this.closeIfEmpty(participant.room);
    });
    return leg;
  }

  /**
   * The subscribe leg died under a peer still in the room (consent lost, DTLS closed, never
   * connected, abuse): its publish leg and membership are fine, so a new leg is offered with
   * `restart` (the client answers on a new connection) — within the per-minute budget; past
   * it the peer gets `error sfu-internal` as before and no more subscribe offers.
   */
  private subscribeLegEnded(peer: Peer, reason: string): void {
    const now = this.now();
    peer.restarts = peer.restarts.filter((t) => now - t < 60_000);
    if (peer.restarts.length >= this.options.maxSubscribeRestartsPerMinute) {
      peer.subscribeEnded = true;
      this.legEnded(peer, 'subscribe', reason);
      return;
    }
    peer.restarts.push(now);
    peer.subscribeRestart = true;
    this.logger.info({ peer: peer.id, reason }, 'sfu room subscribe leg re-created');
    this.schedule(peer);
  }

  private sendOffer(peer: Peer, leg: SubscribeLeg): void {
    const offer = leg.offer();
    clearTimeout(leg.answerTimer);
    leg.answerTimer = setTimeout(() => {
      // The answer never came: the next offer replaces this one (a remote offer may be set
      // again in have-remote-offer), carrying whatever changed meanwhile.
      if (peer.subscribe === leg && !peer.closed) {
        leg.plan.sync(this.otherProducers(peer));
        this.sendOffer(peer, leg);
      }
    }, this.options.subscribeAnswerTimeoutMs);
    leg.answerTimer.unref();
    this.send(peer.id, { type: 'subscribe-offer', ...offer });
  }

  private subscribeAnswer(peer: Peer, sdp: string): void {
    const leg = peer.subscribe;
    if (leg === undefined)
      throw new RoomServiceError('badState', 'no subscribe-offer is outstanding');
    leg.answer(sdp);
    this.schedule(peer);
  }

  private setLayer(peer: Peer, trackId: string, layer: number): void {
    const leg = peer.subscribe;
    if (leg === undefined) throw new RoomServiceError('badState', `no subscribed track ${trackId}`);
    leg.setLayer(trackId, layer);
  }

  // --- shared --------------------------------------------------------------------------------

  private roomFor(id: string): Room {
    return this.server.router.getRoom(id) ?? this.server.router.createRoom(id);
  }

  private closeIfEmpty(room: Room): void {
    if (!room.closed && room.participants.size === 0) room.close();
  }

  private closeLegs(peer: Peer, reason: string): void {
    const { publish, subscribe } = peer;
    peer.publish = undefined;
    peer.subscribe = undefined;
    subscribe?.close(reason);
    if (publish) closePublishLeg(publish, reason);
  }

  /**
   * A leg ended under a peer still in the room (its connection failed, consent was lost, the
   * router closed it for abuse) and is not re-created: logged, and the peer gets `error
   * sfu-internal` naming the leg and the reason, so a client can publish again or leave and
   * join afresh.
   */
  private legEnded(peer: Peer, leg: 'publish' | 'subscribe', reason: string): void {
    this.logger.info({ peer: peer.id, leg, reason }, 'sfu room leg ended');
    this.fail(peer.id, 'internal', `${leg} connection ended: ${reason}`, undefined);
  }

  private send(peerId: string, message: SfuServerMessage): void {
    if (this.sink === undefined) {
      this.logger.warn({ peer: peerId, type: message.type }, 'sfu room service not attached');
      return;
    }
    try {
      this.sink(peerId, message);
    } catch (err) {
      this.logger.warn({ err, peer: peerId }, 'sfu room service sink threw');
    }
  }

  private fail(
    peerId: string,
    key: RoomServiceErrorKey,
    message: string,
    ref: string | undefined,
  ): void {
    const m: SfuServerMessage = { type: 'error', code: roomServiceCodes[key], message };
    if (ref !== undefined) m.ref = ref;
    this.send(peerId, m);
  }
}
