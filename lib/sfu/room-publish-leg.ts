/**
 * A room peer's publish leg: the `WebRtcEndpoint` of its publishing connection bound to a
 * router participant whose id is the peer id, and its producers by the mid of their section.
 * The first offer makes the leg (`openPublishLeg`); re-offers on the same ICE ufrag and DTLS
 * fingerprint add and close producers on it (`republish`).
 */
import { directionOf, type SessionDescription } from '../sdp/index.js';
import type { SfuTrackSource } from '../signal/room-service.js';
import { WebRtcEndpoint } from '../webrtc/endpoint.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import { answerTransportOf } from '../webrtc/remote-description.js';
import { bindEndpoint, endpointSenders, ingressDropFilter } from './endpoint-leg.js';
import type { Participant } from './participant.js';
import type { Producer } from './producer.js';
import { type PublishedTrack, publishedTracks, trackKey } from './publish-offer.js';
import type { Room } from './room.js';
import type { SfuServer } from './sfu-server.js';
import type { ProducerCodec } from './subscribe-offer.js';
import { answerPublish } from './whip.js';

export interface PublishLeg {
  endpoint: WebRtcEndpoint;
  participant: Participant;
  remote: WebRtcRemoteParameters;
  /** Producers by the mid of their publish section, with the key of what they carry. */
  byMid: Map<string, { producer: Producer; key: string }>;
}

/** What a leg needs from the service: the server's media, the room, where codecs go. */
export interface PublishLegContext {
  media: ReturnType<SfuServer['media']>;
  /** The router room of the peer (created if needed). */
  room: () => Room;
  /** Closes `room` if it has no participant left. */
  closeIfEmpty: (room: Room) => void;
  /** The publisher's codec of each producer, for subscribers' offers. */
  codecs: WeakMap<Producer, ProducerCodec>;
  /** What each producer carries, where its publisher said (`publish` `sources`). */
  sources: WeakMap<Producer, SfuTrackSource>;
  /** The source the current `publish` message gives the section `mid`. */
  sourceOf: (mid: string) => SfuTrackSource | undefined;
}

/**
 * The leg of a peer's first publish offer and our answer. A refused offer (thrown: `WhipError`,
 * `SfuError`) leaves nothing: no endpoint, participant or fresh empty room.
 */
export function openPublishLeg(
  ctx: PublishLegContext,
  peerId: string,
  offer: SessionDescription,
  remote: WebRtcRemoteParameters,
): { leg: PublishLeg; sdp: string } {
  const { mux, certificate, logger, testIngressDrop, pendingTimeoutMs } = ctx.media;
  // The answer goes out now, so a peer that never does ICE/DTLS is dropped like a WHIP one.
  const endpoint = new WebRtcEndpoint({
    mux,
    certificate,
    remote,
    logger,
    connectTimeoutMs: pendingTimeoutMs,
  });
  let participant: Participant | undefined;
  let room: Room | undefined;
  const byMid = new Map<string, { producer: Producer; key: string }>();
  let sdp: string;
  try {
    const transport = answerTransportOf(endpoint, mux.candidates);
    // A peer that only watches offers `inactive` sections (rooms contract: a publish connection
    // with no track yet is fine if it has a section): answered with a transport alone, so its
    // subscribe offers can follow. An offer sending nothing otherwise (recvonly) is refused.
    const a = answerPublish(offer, transport, { allowEmpty: onlyInactive(offer) });
    room = ctx.room();
    participant = room.join({ id: peerId, ...endpointSenders(endpoint) });
    for (const t of publishedTracks(offer, a.sdp, a.producers)) {
      byMid.set(t.mid, { producer: publish(ctx, participant, t), key: trackKey(t.options) });
    }
    sdp = a.sdp;
  } catch (err) {
    endpoint.close();
    participant?.close('refused');
    if (room) ctx.closeIfEmpty(room);
    throw err;
  }
  const drop = testIngressDrop ? ingressDropFilter(testIngressDrop, participant) : undefined;
  bindEndpoint(endpoint, participant, drop);
  ctx.media.watch(endpoint, participant);
  return { leg: { endpoint, participant, remote, byMid }, sdp };
}

/** A re-offer on the leg's transport: new sections publish, gone or changed ones close. */
export function republish(
  ctx: PublishLegContext,
  leg: PublishLeg,
  offer: SessionDescription,
): string {
  const transport = answerTransportOf(leg.endpoint, ctx.media.mux.candidates);
  // Nothing published any more is fine here: the transport stays for tracks added later.
  const a = answerPublish(offer, transport, { allowEmpty: true });
  const tracks = publishedTracks(offer, a.sdp, a.producers);
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
      const producer = publish(ctx, leg.participant, t);
      added.push(producer);
      leg.byMid.set(t.mid, { producer, key: trackKey(t.options) });
    }
  } catch (err) {
    for (const p of added) p.close();
    for (const [mid, { producer }] of leg.byMid) if (producer.closed) leg.byMid.delete(mid);
    throw err;
  }
  return a.sdp;
}

/** Ends the leg: its producers close with the participant, then its endpoint. */
export function closePublishLeg(leg: PublishLeg, reason: string): void {
  leg.participant.close(reason);
  leg.endpoint.close();
}

function publish(ctx: PublishLegContext, participant: Participant, t: PublishedTrack): Producer {
  const producer = participant.publish(t.options);
  ctx.codecs.set(producer, t.codec);
  const source = ctx.sourceOf(t.mid);
  if (source !== undefined) ctx.sources.set(producer, source);
  return producer;
}

/** True when every audio/video section of `offer` is `inactive` (and there is one). */
function onlyInactive(offer: SessionDescription): boolean {
  const av = offer.media.filter((m) => m.kind === 'audio' || m.kind === 'video');
  return av.length > 0 && av.every((m) => directionOf(m, offer.session) === 'inactive');
}
