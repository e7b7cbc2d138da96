/**
 * A room peer's subscribe leg: the `WebRtcEndpoint` of its subscribing connection (we offer,
 * ICE-lite, `actpass`) bound to a router participant `<peerId>~sub`, the sections of its
 * offers (`SubscribePlan`), and the subscriptions its answers make: started at once when the
 * leg is connected, else when it connects (each with a key frame request).
 */
import { parse } from '../sdp/index.js';
import type { SfuTrackInfo, SfuTrackSource } from '../signal/room-service.js';
import type { Logger } from '../util/logger.js';
import { WebRtcEndpoint } from '../webrtc/endpoint.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import { answerTransportOf, remoteParametersOf } from '../webrtc/remote-description.js';
import { bindEndpoint, endpointSenders } from './endpoint-leg.js';
import type { Participant } from './participant.js';
import type { Producer } from './producer.js';
import type { Room } from './room.js';
import { RoomServiceError } from './room-service-errors.js';
import type { SfuServer } from './sfu-server.js';
import { type PlannedSubscription, type ProducerCodec, SubscribePlan } from './subscribe-offer.js';

/** The participant id of a peer's subscribe leg (its publish leg's id is the peer id). */
export const subscriberIdOf = (peerId: string): string => `${peerId}~sub`;

export class SubscribeLeg {
  /** An offer was sent and its answer has not come. */
  inFlight = false;
  /** An answer was applied (the client has taken this leg's connection). */
  answered = false;
  answerTimer: NodeJS.Timeout | undefined;
  /** Subscriptions answered before the leg connected. */
  private pending: PlannedSubscription[] = [];

  private constructor(
    readonly endpoint: WebRtcEndpoint,
    readonly participant: Participant,
    readonly plan: SubscribePlan,
    private readonly media: ReturnType<SfuServer['media']>,
    private readonly logger: Logger,
    /** This leg replaces one that ended: its offers say `restart` until one is answered. */
    readonly restart: boolean,
  ) {
    endpoint.once('connected', () => {
      const pending = this.pending;
      this.pending = [];
      this.subscribeAll(pending);
    });
  }

  /** A new leg in `room`; throws (`SfuError` limit, mux full) leaving nothing behind. */
  static open(
    media: ReturnType<SfuServer['media']>,
    room: Room,
    peerId: string,
    o: {
      codecOf: (p: Producer) => ProducerCodec;
      sourceOf?: (p: Producer) => SfuTrackSource | undefined;
      maxSections: number;
      logger: Logger;
      restart?: boolean;
    },
  ): SubscribeLeg {
    const { mux, certificate, logger, pendingTimeoutMs } = media;
    // Like a publish leg: one not connected in time (its answer never came, ICE never
    // completed) fails, and the service re-creates it within its restart budget.
    const endpoint = new WebRtcEndpoint({
      mux,
      certificate,
      logger,
      connectTimeoutMs: pendingTimeoutMs,
    });
    let participant: Participant;
    try {
      participant = room.join({ id: subscriberIdOf(peerId), ...endpointSenders(endpoint) });
    } catch (err) {
      endpoint.close();
      throw err;
    }
    bindEndpoint(endpoint, participant);
    media.watch(endpoint, participant);
    const plan = new SubscribePlan(o.codecOf, o.maxSections, o.sourceOf);
    return new SubscribeLeg(endpoint, participant, plan, media, o.logger, o.restart === true);
  }

  /** The next offer for the plan's current sections; the leg waits for its answer. */
  offer(): { sdp: string; tracks: SfuTrackInfo[]; restart?: boolean } {
    this.inFlight = true;
    const offer = this.plan.offer({
      ...answerTransportOf(this.endpoint, this.media.mux.candidates),
      // Browsers re-offer actpass too; an answerer keeps the DTLS role already in use.
      setup: 'actpass',
    });
    // Until answered: a resent offer may be the first the client sees of this connection.
    return this.restart && !this.answered ? { ...offer, restart: true } : offer;
  }

  /**
   * The answer to the outstanding offer. Everything is checked before anything changes: a bad
   * answer throws `RoomServiceError` (`bad-sdp`, `sfu-bad-state`) and the offer stays out.
   */
  answer(sdp: string): void {
    if (!this.inFlight) throw new RoomServiceError('badState', 'no subscribe-offer is outstanding');
    const parsed = parse(sdp);
    if (!parsed.ok) throw new RoomServiceError('badSdp', `answer: ${parsed.error.code}`);
    let remote: WebRtcRemoteParameters | undefined;
    if (this.endpoint.dtlsRole === undefined) {
      const r = remoteParametersOf(parsed.value);
      if (!r.ok) throw new RoomServiceError('badSdp', `answer: ${r.error}`);
      if (r.value.setup === 'actpass') {
        throw new RoomServiceError('badSdp', 'answer: setup actpass');
      }
      remote = r.value;
    }
    const read = this.plan.readAnswer(parsed.value);
    if (!read.ok) throw new RoomServiceError('badSdp', `answer: ${read.reason}`);
    if (remote !== undefined) this.endpoint.setRemoteParameters(remote);
    this.inFlight = false;
    this.answered = true;
    clearTimeout(this.answerTimer);
    for (const s of read.rejected) {
      for (const c of this.participant.consumers.values()) if (c.ssrc === s.ssrc) c.close();
    }
    if (this.endpoint.state === 'connected') this.subscribeAll(read.subscriptions);
    else this.pending.push(...read.subscriptions);
  }

  /**
   * Starts answered subscriptions, each preferring its slot's layer as it is now: a
   * `set-layer` between the answer and the leg connecting found no consumer to tell and is
   * only on the slot (the options were read at the answer).
   */
  private subscribeAll(subs: readonly PlannedSubscription[]): void {
    for (const s of subs) {
      if (s.producer.closed || this.participant.closed || s.slot.producer !== s.producer) continue;
      // A re-answer lists every live section, those already consumed too.
      if (this.consumes(s.producer)) continue;
      const preferredLayer = s.slot.preferredLayer;
      const options = preferredLayer === undefined ? s.options : { ...s.options, preferredLayer };
      try {
        this.participant.subscribe(s.producer, options);
      } catch (err) {
        this.logger.warn({ err, participant: this.participant.id }, 'sfu room subscribe failed');
      }
    }
  }

  private consumes(producer: Producer): boolean {
    for (const c of this.participant.consumers.values()) if (c.producer === producer) return true;
    return false;
  }

  /** `set-layer`: the consumer of `trackId` (or the one to come) prefers `layer`. */
  setLayer(trackId: string, layer: number): void {
    const slot = this.plan.slots.find((s) => s.producer?.id === trackId);
    if (slot === undefined)
      throw new RoomServiceError('badState', `no subscribed track ${trackId}`);
    slot.preferredLayer = layer;
    for (const c of this.participant.consumers.values()) {
      if (c.producer.id === trackId) c.setPreferredLayer(layer);
    }
  }

  /** Ends the leg: its consumers close, then its endpoint. */
  close(reason: string): void {
    clearTimeout(this.answerTimer);
    this.participant.close(reason);
    this.endpoint.close();
  }
}
