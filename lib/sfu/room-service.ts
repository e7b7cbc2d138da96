/**
 * `SfuRoomService`: the SFU side of multi-party rooms (lib/signal/room-service.ts). Each peer
 * of a signal room of type `sfu` gets two legs on the server's shared ICE-lite port, each a
 * `WebRtcEndpoint` bound to its own router participant:
 * - publish: the peer offers (`publish`), we answer with `answerPublish`; re-offers on the same
 *   ICE ufrag and DTLS fingerprint add and close producers by mid on the same endpoint;
 * - subscribe: we offer the room's other tracks (`subscribe-offer`, see subscribe-offer.ts),
 *   one offer in flight at a time, changes coalesced into the next; subscriptions start when
 *   the answer arrives and the leg is connected (a key frame is requested for each).
 * Rooms are the router's rooms: a WHIP publisher in room `x` is seen by the peers of signal
 * room `x`. Bad input never throws at the caller: it goes back as an `error` message.
 */

import { directionOf, parse } from '../sdp/index.js';
import type {
  RoomService,
  RoomServiceSink,
  SfuClientMessage,
  SfuServerMessage,
} from '../signal/room-service.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { WebRtcEndpoint } from '../webrtc/endpoint.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import { answerTransportOf, remoteParametersOf } from '../webrtc/remote-description.js';
import { bindEndpoint, endpointSenders, ingressDropFilter } from './endpoint-leg.js';
import type { Participant } from './participant.js';
import type { Producer } from './producer.js';
import {
  answerRepublish,
  publishedTracks,
  sameTransport,
  sdpCandidates,
  trackKey,
} from './publish-offer.js';
import type { Room } from './room.js';
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
import type { SfuServer } from './sfu-server.js';
import {
  defaultProducerCodec,
  type PlannedSubscription,
  type ProducerCodec,
  SubscribePlan,
} from './subscribe-offer.js';
import { answerPublish, readOffer, WhipError } from './whip.js';

export type { SfuRoomServiceOptions } from './room-service-options.js';

interface PublishLeg {
  endpoint: WebRtcEndpoint;
  participant: Participant;
  remote: WebRtcRemoteParameters;
  /** Producers by the mid of their publish section, with the key of what they carry. */
  byMid: Map<string, { producer: Producer; key: string }>;
}

interface SubscribeLeg {
  endpoint: WebRtcEndpoint;
  participant: Participant;
  plan: SubscribePlan;
  inFlight: boolean;
  answerTimer: NodeJS.Timeout | undefined;
  /** Subscriptions answered before the leg connected. */
  pending: PlannedSubscription[];
}

interface Peer {
  readonly id: string;
  readonly room: string;
  publish: PublishLeg | undefined;
  subscribe: SubscribeLeg | undefined;
  /** The subscribe leg ended (its endpoint failed): no more offers for this peer. */
  subscribeEnded: boolean;
  /** Set once the first publish-answer went out (rooms-contract: subscriptions follow it). */
  subscribable: boolean;
  scheduled: boolean;
  closed: boolean;
}

/** The participant id of a peer's subscribe leg (its publish leg's id is the peer id). */
export const subscriberIdOf = (peerId: string): string => `${peerId}~sub`;

export class SfuRoomService implements RoomService {
  readonly options: ResolvedRoomServiceOptions;
  private sink: RoomServiceSink | undefined;
  private readonly peers = new Map<string, Peer>();
  /** Peers by room id (a room's changes renegotiate only its peers). */
  private readonly rooms = new Map<string, Set<Peer>>();
  private readonly codecs = new WeakMap<Producer, ProducerCodec>();
  private readonly logger: Logger;
  private closed = false;
  private readonly onRoom = (room: Room): void => this.watchRoom(room);

  /** @throws TypeError for a bad option (named). */
  constructor(
    private readonly server: SfuServer,
    options: SfuRoomServiceOptions = {},
  ) {
    this.options = resolveRoomServiceOptions(options);
    this.logger = options.logger ?? silentLogger;
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
          this.publish(peer, message.sdp);
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

  private publish(peer: Peer, sdp: string): void {
    const { offer, remote } = readOffer(sdp);
    const leg = peer.publish;
    if (leg !== undefined && !sameTransport(leg.remote, remote)) {
      // An ICE restart or a new certificate: a new endpoint, the old tracks end.
      peer.publish = undefined;
      leg.participant.close('republished');
      leg.endpoint.close();
    }
    const answer = peer.publish
      ? this.republish(peer.publish, offer)
      : this.firstPublish(peer, offer, remote);
    this.send(peer.id, { type: 'publish-answer', sdp: answer });
    if (!peer.subscribable) {
      peer.subscribable = true;
      this.schedule(peer);
    }
  }

  private firstPublish(
    peer: Peer,
    offer: ReturnType<typeof readOffer>['offer'],
    remote: WebRtcRemoteParameters,
  ): string {
    const media = this.server.media();
    const endpoint = new WebRtcEndpoint({
      mux: media.mux,
      certificate: media.certificate,
      remote,
      logger: media.logger,
    });
    let participant: Participant | undefined;
    let room: Room | undefined;
    const byMid = new Map<string, { producer: Producer; key: string }>();
    let sdp: string;
    try {
      const transport = answerTransportOf(endpoint, sdpCandidates(media.mux.candidates));
      let a: ReturnType<typeof answerPublish>;
      try {
        a = answerPublish(offer, transport);
      } catch (err) {
        // A peer that only watches offers `inactive` sections (rooms contract: a publish
        // connection with no track yet is fine if it has a section): answered inactive, so
        // its subscribe offers can follow. Anything else sending nothing stays refused.
        const watching = err instanceof WhipError && err.code === 'nothing-published';
        if (!watching || !onlyInactive(offer)) throw err;
        a = { sdp: answerRepublish(offer, transport, undefined), producers: [] };
      }
      room = this.roomFor(peer.room);
      participant = room.join({ id: peer.id, ...endpointSenders(endpoint) });
      for (const t of publishedTracks(offer, a.sdp, a.producers)) {
        const producer = participant.publish(t.options);
        this.codecs.set(producer, t.codec);
        byMid.set(t.mid, { producer, key: trackKey(t.options) });
      }
      sdp = a.sdp;
    } catch (err) {
      // A refused offer leaves nothing: no endpoint, participant or fresh empty room.
      endpoint.close();
      participant?.close('refused');
      if (room) this.closeIfEmpty(room);
      throw err;
    }
    const drop = media.testIngressDrop;
    bindEndpoint(endpoint, participant, drop ? ingressDropFilter(drop, participant) : undefined);
    const leg: PublishLeg = { endpoint, participant, remote, byMid };
    peer.publish = leg;
    const joined = participant;
    joined.on('close', () => {
      if (peer.publish === leg) peer.publish = undefined;
      this.closeIfEmpty(joined.room);
    });
    return sdp;
  }

  /** A re-offer on the same transport: new sections publish, gone or changed ones close. */
  private republish(leg: PublishLeg, offer: ReturnType<typeof readOffer>['offer']): string {
    const candidates = sdpCandidates(this.server.media().mux.candidates);
    const transport = answerTransportOf(leg.endpoint, candidates);
    let published: string | undefined;
    let tracks: ReturnType<typeof publishedTracks> = [];
    try {
      const a = answerPublish(offer, transport);
      published = a.sdp;
      tracks = publishedTracks(offer, a.sdp, a.producers);
    } catch (err) {
      if (!(err instanceof WhipError && err.code === 'nothing-published')) throw err;
    }
    const sdp = answerRepublish(offer, transport, published);
    const next = new Map(tracks.map((t) => [t.mid, t]));
    for (const [mid, { producer, key }] of leg.byMid) {
      const t = next.get(mid);
      if (t !== undefined && trackKey(t.options) === key && !producer.closed) continue;
      leg.byMid.delete(mid);
      producer.close();
    }
    const added: Producer[] = [];
    try {
      for (const t of tracks) {
        if (leg.byMid.has(t.mid)) continue;
        const producer = leg.participant.publish(t.options);
        this.codecs.set(producer, t.codec);
        added.push(producer);
        leg.byMid.set(t.mid, { producer, key: trackKey(t.options) });
      }
    } catch (err) {
      for (const p of added) p.close();
      for (const [mid, { producer }] of leg.byMid) if (producer.closed) leg.byMid.delete(mid);
      throw err;
    }
    return sdp;
  }

  // --- subscribe -----------------------------------------------------------------------------

  private watchRoom(room: Room): void {
    room.on('producer', (p) => {
      p.on('close', () => this.roomChanged(room.id));
      this.roomChanged(room.id);
    });
    for (const p of room.producers()) p.on('close', () => this.roomChanged(room.id));
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
    const media = this.server.media();
    const endpoint = new WebRtcEndpoint({
      mux: media.mux,
      certificate: media.certificate,
      logger: media.logger,
    });
    let participant: Participant;
    try {
      participant = this.roomFor(peer.room).join({
        id: subscriberIdOf(peer.id),
        ...endpointSenders(endpoint),
      });
    } catch (err) {
      endpoint.close();
      throw err;
    }
    bindEndpoint(endpoint, participant);
    const plan = new SubscribePlan(
      (p) => this.codecs.get(p) ?? defaultProducerCodec(p),
      this.options.maxSubscribeSections,
    );
    const leg: SubscribeLeg = {
      endpoint,
      participant,
      plan,
      inFlight: false,
      answerTimer: undefined,
      pending: [],
    };
    peer.subscribe = leg;
    endpoint.once('connected', () => this.startPending(leg));
    participant.on('close', () => {
      clearTimeout(leg.answerTimer);
      if (peer.subscribe === leg) {
        peer.subscribe = undefined;
        peer.subscribeEnded = !peer.closed;
      }
      this.closeIfEmpty(participant.room);
    });
    return leg;
  }

  private sendOffer(peer: Peer, leg: SubscribeLeg): void {
    const ep = leg.endpoint;
    const { sdp, tracks } = leg.plan.offer({
      ice: { ufrag: ep.localUfrag, pwd: ep.localPwd },
      fingerprints: [{ algorithm: 'sha-256', value: ep.localFingerprint }],
      candidates: sdpCandidates(this.server.media().mux.candidates),
      // Browsers re-offer actpass too; an answerer keeps the DTLS role already in use.
      setup: 'actpass',
    });
    leg.inFlight = true;
    clearTimeout(leg.answerTimer);
    leg.answerTimer = setTimeout(() => {
      // The answer never came: the next offer replaces this one (a remote offer may be set
      // again in have-remote-offer), carrying whatever changed meanwhile.
      leg.inFlight = false;
      if (peer.subscribe === leg && !peer.closed) this.sendOffer(peer, leg);
    }, this.options.subscribeAnswerTimeoutMs);
    leg.answerTimer.unref();
    this.send(peer.id, { type: 'subscribe-offer', sdp, tracks });
  }

  private subscribeAnswer(peer: Peer, sdp: string): void {
    const leg = peer.subscribe;
    if (leg === undefined || !leg.inFlight) {
      throw new RoomServiceError('badState', 'no subscribe-offer is outstanding');
    }
    // Everything is checked before anything changes: a bad answer leaves the offer outstanding.
    const parsed = parse(sdp);
    if (!parsed.ok) throw new RoomServiceError('badSdp', `answer: ${parsed.error.code}`);
    let remote: WebRtcRemoteParameters | undefined;
    if (leg.endpoint.dtlsRole === undefined) {
      const r = remoteParametersOf(parsed.value);
      if (!r.ok) throw new RoomServiceError('badSdp', `answer: ${r.error}`);
      if (r.value.setup === 'actpass')
        throw new RoomServiceError('badSdp', 'answer: setup actpass');
      remote = r.value;
    }
    const read = leg.plan.readAnswer(parsed.value);
    if (!read.ok) throw new RoomServiceError('badSdp', `answer: ${read.reason}`);
    if (remote !== undefined) leg.endpoint.setRemoteParameters(remote);
    leg.inFlight = false;
    clearTimeout(leg.answerTimer);
    for (const s of read.rejected) {
      for (const c of leg.participant.consumers.values()) if (c.ssrc === s.ssrc) c.close();
    }
    if (leg.endpoint.state === 'connected') this.subscribeAll(leg, read.subscriptions);
    else leg.pending.push(...read.subscriptions);
    this.schedule(peer);
  }

  private startPending(leg: SubscribeLeg): void {
    const pending = leg.pending;
    leg.pending = [];
    this.subscribeAll(leg, pending);
  }

  private subscribeAll(leg: SubscribeLeg, subs: readonly PlannedSubscription[]): void {
    for (const s of subs) {
      if (s.producer.closed || leg.participant.closed || s.slot.producer !== s.producer) continue;
      try {
        leg.participant.subscribe(s.producer, s.options);
      } catch (err) {
        this.logger.warn({ err, participant: leg.participant.id }, 'sfu room subscribe failed');
      }
    }
  }

  private setLayer(peer: Peer, trackId: string, layer: number): void {
    const leg = peer.subscribe;
    const slot = leg?.plan.slots.find((s) => s.producer?.id === trackId);
    if (leg === undefined || slot === undefined) {
      throw new RoomServiceError('badState', `no subscribed track ${trackId}`);
    }
    slot.preferredLayer = layer;
    for (const c of leg.participant.consumers.values()) {
      if (c.producer.id === trackId) c.setPreferredLayer(layer);
    }
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
    if (subscribe) {
      clearTimeout(subscribe.answerTimer);
      subscribe.participant.close(reason);
      subscribe.endpoint.close();
    }
    if (publish) {
      publish.participant.close(reason);
      publish.endpoint.close();
    }
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

/** True when every audio/video section of `offer` is `inactive` (and there is one). */
function onlyInactive(offer: ReturnType<typeof readOffer>['offer']): boolean {
  const av = offer.media.filter((m) => m.kind === 'audio' || m.kind === 'video');
  return av.length > 0 && av.every((m) => directionOf(m, offer.session) === 'inactive');
}
