/**
 * WHIP publish and WHEP view from @roamhq/wrtc (libwebrtc in Node), for specs that run the SFU
 * as a real process: a publisher feeding a synthetic I420 video track, and a viewer counting
 * the frames its RTCVideoSink decodes. Specs using it must leave with `exitAfterTests`
 * (wrtc-client.ts): libwebrtc's finalizers crash Node's teardown.
 */
import { type PeerConnection, wrtc } from './wrtc-client.js';

export interface WhipSession {
  /** The POST's status; 201 when the session exists. */
  status: number;
  /** The answer SDP (or the error body). */
  answer: string;
  /** The resource URL path (`Location`). */
  location: string;
  pc: PeerConnection;
  /** Frames the viewer decoded so far (0 for a publisher). */
  frames(): number;
  close(): void;
}

async function postOffer(
  url: string,
  pc: PeerConnection,
  cleanup: () => void,
  frames: () => number,
): Promise<WhipSession> {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: offer.sdp,
  });
  const answer = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return {
    status: res.status,
    answer,
    location: res.headers.get('location') ?? '',
    pc,
    frames,
    close: () => {
      cleanup();
      pc.close();
    },
  };
}

/** Publishes a 160×120 synthetic video track (a frame every 33 ms) with one WHIP POST. */
export function whipPublish(url: string): Promise<WhipSession> {
  const pc = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  pc.addTransceiver(track, { direction: 'sendonly' });
  const width = 160;
  const height = 120;
  const data = new Uint8Array(width * height * 1.5);
  let n = 0;
  const timer = setInterval(() => {
    data.fill(n++ & 0xff, 0, width * height);
    source.onFrame({ width, height, data });
  }, 33);
  const cleanup = () => {
    clearInterval(timer);
    track.stop();
  };
  return postOffer(url, pc, cleanup, () => 0);
}

/** Views one video track with one WHEP POST, counting the frames it decodes. */
export function whepView(url: string): Promise<WhipSession> {
  const pc = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  let frames = 0;
  const sinks: { stop(): void }[] = [];
  pc.ontrack = (e) => {
    const sink = new wrtc.nonstandard.RTCVideoSink(e.track);
    sink.onframe = () => {
      frames++;
    };
    sinks.push(sink);
  };
  const cleanup = () => {
    for (const s of sinks) s.stop();
  };
  return postOffer(url, pc, cleanup, () => frames);
}
