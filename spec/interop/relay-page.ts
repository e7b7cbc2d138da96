/**
 * The page each Chromium tab loads for the relay test: plain JavaScript (the spec files are
 * compiled without DOM types), exposing `window.peer` for the test to drive with
 * `page.evaluate('peer.…')`. Every wait inside the page is bounded, and failures carry what
 * Chromium reported (icecandidateerror events, states) so a red test says why.
 */
export interface CandidateStats {
  candidateType: string;
  address: string;
  port: number;
  protocol: string;
  relayProtocol?: string;
  url?: string;
}

export interface SelectedPair {
  state: string;
  bytesSent: number;
  bytesReceived: number;
  local: CandidateStats;
  remote: CandidateStats;
}

export const RELAY_PAGE_HTML = `<!doctype html>
<meta charset="utf-8"><title>rtcd relay interop</title>
<script>
'use strict';
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what + ': timed out after ' + ms + ' ms; '
      + JSON.stringify(window.peer.report()))), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
function until(target, event, test) {
  return new Promise((resolve) => {
    if (test()) return resolve();
    const check = () => { if (test()) { target.removeEventListener(event, check); resolve(); } };
    target.addEventListener(event, check);
  });
}
window.peer = {
  pc: null,
  channel: null,
  errors: [],
  report() {
    const pc = this.pc;
    return { errors: this.errors, connectionState: pc && pc.connectionState,
      iceConnectionState: pc && pc.iceConnectionState,
      iceGatheringState: pc && pc.iceGatheringState };
  },
  async setup(config) {
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    pc.addEventListener('icecandidateerror', (e) => {
      this.errors.push({ url: e.url, errorCode: e.errorCode, errorText: e.errorText });
    });
    // Both sides send the fake camera, so video crosses the relay in both directions.
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240, frameRate: 15 }, audio: false });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    // The answerer echoes data-channel messages back, prefixed.
    pc.addEventListener('datachannel', (e) => {
      const ch = e.channel;
      ch.addEventListener('message', (m) => ch.send('echo:' + m.data));
    });
  },
  async gathered() {
    await within(15000, 'ICE gathering', until(this.pc, 'icegatheringstatechange',
      () => this.pc.iceGatheringState === 'complete'));
    const sdp = this.pc.localDescription.sdp;
    if (!/ typ relay /.test(sdp)) {
      throw new Error('no relay candidate gathered; ' + JSON.stringify(this.report()));
    }
    return sdp;
  },
  async offer() {
    this.channel = this.pc.createDataChannel('chat');
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  },
  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  },
  async accept(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  },
  async connected() {
    const pc = this.pc;
    await within(20000, 'connection', new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        if (pc.connectionState === 'failed') {
          reject(new Error('connection failed; ' + JSON.stringify(this.report())));
        }
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    }));
    return pc.connectionState;
  },
  async roundTrip(text) {
    const ch = this.channel;
    await within(10000, 'data channel open', until(ch, 'open', () => ch.readyState === 'open'));
    const reply = new Promise((resolve) => {
      ch.addEventListener('message', (m) => resolve(m.data), { once: true });
    });
    ch.send(text);
    return within(10000, 'data channel echo', reply);
  },
  async framesDecoded() {
    let frames = 0;
    const stats = await this.pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
    });
    return frames;
  },
  async waitFrames(min) {
    const deadline = Date.now() + 15000;
    for (;;) {
      const frames = await this.framesDecoded();
      if (frames >= min || Date.now() > deadline) return frames;
      await new Promise((r) => setTimeout(r, 200));
    }
  },
  async selectedPair() {
    const stats = await this.pc.getStats();
    let transport;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) transport = s; });
    if (!transport) return null;
    const pair = stats.get(transport.selectedCandidatePairId);
    const pick = (c) => ({ candidateType: c.candidateType, address: c.address, port: c.port,
      protocol: c.protocol, relayProtocol: c.relayProtocol, url: c.url });
    return { state: pair.state, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
      local: pick(stats.get(pair.localCandidateId)),
      remote: pick(stats.get(pair.remoteCandidateId)) };
  },
  close() {
    if (this.pc) this.pc.close();
  },
};
</script>
`;
