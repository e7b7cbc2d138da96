/**
 * Page-side scripts (strings for `page.evaluate`) of a Chromium client of the SfuServer: a
 * WHIP publish or WHEP view (RFC 9725: one POST of the offer as application/sdp, a 201 with the
 * answer and a Location) and the page's inbound-rtp totals.
 */

/** What `postOffer`'s script resolves with. */
export interface PostResult {
  status: number;
  location: string | null;
  /** The response body: the answer on a 201, a JSON error otherwise. */
  sdp: string;
  /** The page's offer as POSTed. */
  offer: string;
}

export interface PostOfferOptions {
  /** RTCPeerConnection configuration besides `bundlePolicy: 'max-bundle'` (JSON only). */
  config?: Record<string, unknown>;
  /**
   * Wait (up to 5 s) for ICE gathering to complete before POSTing, so that the offer carries
   * every candidate: the SFU is ICE-lite and trickles nothing. Default false.
   */
  gatherFirst?: boolean;
}

/**
 * Creates the page's pc (`window.pc`), runs `addMedia` (statements with `pc` in scope; they may
 * `await`), POSTs the offer to `url` and applies the answer if the status is 201.
 */
export function postOffer(url: string, addMedia: string, o: PostOfferOptions = {}): string {
  const config = { bundlePolicy: 'max-bundle', ...o.config };
  const gather = `
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 5000);
    });
  }`;
  return `(async () => {
  const pc = new RTCPeerConnection(${JSON.stringify(config)});
  window.pc = pc;
  ${addMedia}
  await pc.setLocalDescription(await pc.createOffer());${o.gatherFirst === true ? gather : ''}
  const offer = pc.localDescription.sdp;
  const res = await fetch(${JSON.stringify(url)}, {
    method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  const sdp = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp });
  return { status: res.status, location: res.headers.get('location'), sdp, offer };
})()`;
}

/** Statements: the fake camera and microphone (320x240 at 15 fps), each track `sendonly` on `pc`. */
export const sendCamera = (pc = 'pc') => `const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 320, height: 240, frameRate: 15 } });
  for (const track of stream.getTracks()) {
    ${pc}.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  }`;

/** Statements: one `recvonly` audio and one `recvonly` video transceiver. */
export const RECEIVE_AUDIO_VIDEO = `pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });`;

/** A WHIP publisher of the fake camera and microphone. */
export const whipPublish = (url: string, o?: PostOfferOptions): string =>
  postOffer(url, sendCamera(), o);

/** A WHEP viewer of one audio and one video track. */
export const whepView = (url: string, o?: PostOfferOptions): string =>
  postOffer(url, RECEIVE_AUDIO_VIDEO, o);

/** What `inboundStats` resolves with. */
export interface Inbound {
  /** Summed over the inbound video streams. */
  framesDecoded: number;
  videoPackets: number;
  audioPackets: number;
  /** Of the last inbound video stream. */
  frameWidth: number;
  frameHeight: number;
  /** Every inbound-rtp SSRC. */
  ssrcs: number[];
}

/** The inbound-rtp stats of the page's `pc` (an expression, default `window.pc`). */
export const inboundStats = (pc = 'window.pc'): string => `(async () => {
  const out = { framesDecoded: 0, videoPackets: 0, audioPackets: 0, frameWidth: 0,
    frameHeight: 0, ssrcs: [] };
  for (const s of (await ${pc}.getStats()).values()) {
    if (s.type !== 'inbound-rtp') continue;
    out.ssrcs.push(s.ssrc);
    if (s.kind === 'video') {
      out.framesDecoded += s.framesDecoded ?? 0;
      out.videoPackets += s.packetsReceived ?? 0;
      out.frameWidth = s.frameWidth ?? 0;
      out.frameHeight = s.frameHeight ?? 0;
    } else out.audioPackets += s.packetsReceived ?? 0;
  }
  return out;
})()`;

/** `inboundStats()` of `window.pc`. */
export const INBOUND = inboundStats();
