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
    sendRtp: (packet) => {
      ep.sendRtp(packet);
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
 */
export function bindEndpoint(ep: WebRtcEndpoint, participant: Participant): () => void {
  const onRtp = (p: Buffer) => participant.receiveRtp(p);
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
