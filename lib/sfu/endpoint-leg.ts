import type { WebRtcEndpoint } from '../webrtc/endpoint.js';
import type { Participant, ParticipantOptions } from './participant.js';

/**
 * The send half of a participant bound to a `WebRtcEndpoint`: the router's clear RTP/RTCP
 * toward this participant is protected and sent by the endpoint (dropped while not connected).
 */
export function endpointSenders(
  ep: WebRtcEndpoint,
): Pick<ParticipantOptions, 'sendRtp' | 'sendRtcp'> {
  return {
    sendRtp: (packet, length) => {
      ep.sendRtp(packet, length);
    },
    sendRtcp: (packet) => {
      ep.sendRtcp(packet);
    },
  };
}

/**
 * The receive half: the endpoint's clear RTP/RTCP goes to the participant, and the end of
 * either side ends the other (the endpoint closing makes the participant leave with reason
 * `endpoint-<reason>`; the participant leaving closes the endpoint). Returns an unbind function.
 * `drop` (test-only, see `ingressDropFilter`) discards clear RTP before the router sees it.
 */
export function bindEndpoint(
  ep: WebRtcEndpoint,
  participant: Participant,
  drop?: (packet: Buffer) => boolean,
): () => void {
  const onRtp = drop
    ? (p: Buffer) => {
        if (!drop(p)) participant.receiveRtp(p);
      }
    : (p: Buffer) => participant.receiveRtp(p);
  const onRtcp = (p: Buffer) => participant.receiveRtcp(p);
  const onClosed = (r: { reason: string }) => participant.close(`endpoint-${r.reason}`);
  const onLeave = () => ep.close();
  ep.on('rtp', onRtp);
  ep.on('rtcp', onRtcp);
  ep.once('closed', onClosed);
  participant.on('close', onLeave);
  return () => {
    ep.off('rtp', onRtp);
    ep.off('rtcp', onRtcp);
    ep.off('closed', onClosed);
    participant.off('close', onLeave);
  };
}

/**
 * TEST ONLY: forced loss on a publisher's path. Drops about `ratio` of the media packets the
 * endpoint receives, before the router sees them, so the router finds gaps and repairs them
 * (NACK upstream, the publisher's retransmission). Default off (no option, no filter).
 */
export interface TestIngressDrop {
  /** Share of packets dropped, 0-1. */
  ratio: number;
  /** Seed of the drop decisions (a small deterministic PRNG). Default 1. */
  seed?: number;
  /** Kinds of producer whose packets may be dropped. Default `['video']`. */
  kinds?: readonly ('video' | 'audio')[];
}

/**
 * A drop predicate for `bindEndpoint`: true for a packet on the media payload type of one of
 * `participant`'s producers of a chosen kind, with probability `ratio`. Retransmissions (the
 * RTX payload type) and unknown payload types are never dropped, so every gap can be repaired.
 */
export function ingressDropFilter(
  o: TestIngressDrop,
  participant: Participant,
): (packet: Buffer) => boolean {
  if (!(o.ratio >= 0 && o.ratio <= 1)) throw new RangeError('testIngressDrop.ratio must be 0-1');
  const kinds = new Set(o.kinds ?? ['video']);
  let state = (o.seed ?? 1) >>> 0;
  // mulberry32: a tiny seeded PRNG, enough to spread test losses evenly.
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 0x100000000;
  };
  return (packet) => {
    if (packet.length < 12) return false;
    const pt = packet[1]! & 0x7f;
    let media = false;
    for (const p of participant.producers.values()) {
      if (p.payloadType === pt && kinds.has(p.kind)) media = true;
    }
    return media && next() < o.ratio;
  };
}
