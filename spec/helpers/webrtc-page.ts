/**
 * A Chromium page that publishes the fake camera and microphone to a server-side
 * `WebRtcEndpoint` and receives one video track back, plus the SDP answer the specs give it.
 *
 * A minimal answer is built here with string templates (independent of lib/sdp): one
 * BUNDLE group, `a=ice-lite`, rtcp-mux, no header extensions, one codec per m-line (Opus,
 * VP8) with the offer's payload type, fmtp and rtcp-fb; the offer's send m-lines are
 * answered `recvonly`, its `recvonly` video m-line `sendonly` with our SSRC.
 */
import type { Page } from 'playwright-core';
import type { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import type { DtlsSetup, WebRtcRemoteParameters } from '../../lib/webrtc/options.js';

/** The page's script: audio+video sent, one video transceiver `recvonly`; returns the offer. */
export const PUBLISH_OFFER = `(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 320, height: 240, frameRate: 15 } });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
})()`;

/** Resolves with the connection state once connected or failed (or 'timeout:<state>'). */
export const WAIT_CONNECTED = `new Promise((resolve) => {
  const pc = window.pc;
  const done = () => {
    const s = pc.connectionState;
    if (s === 'connected' || s === 'failed') resolve(s);
  };
  pc.addEventListener('connectionstatechange', done);
  done();
  setTimeout(() => resolve('timeout:' + pc.connectionState), 20000);
})`;

/** Inbound video stats of the page: frames decoded and packets received so far. */
export const INBOUND_VIDEO = `(async () => {
  const out = { framesDecoded: 0, packetsReceived: 0, frameWidth: 0 };
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.framesDecoded += s.framesDecoded ?? 0;
      out.packetsReceived += s.packetsReceived ?? 0;
      out.frameWidth = s.frameWidth ?? 0;
    }
  }
  return out;
})()`;

export interface InboundVideo {
  framesDecoded: number;
  packetsReceived: number;
  frameWidth: number;
}

/** Polls the page until `framesDecoded > 0` or `ms` pass; returns the last stats. */
export async function waitFramesDecoded(page: Page, ms: number): Promise<InboundVideo> {
  const until = Date.now() + ms;
  let last = await page.evaluate<InboundVideo>(INBOUND_VIDEO);
  while (last.framesDecoded === 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    last = await page.evaluate<InboundVideo>(INBOUND_VIDEO);
  }
  return last;
}

/** One m-section of an offer, as much of it as the answer needs. */
export interface OfferSection {
  kind: 'audio' | 'video' | 'application';
  mid: string;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** The offer's lines of this section (without the m= line). */
  lines: string[];
  /** Its `a=ssrc:<n> …` SSRCs, first one first (the media SSRC before its RTX). */
  ssrcs: number[];
}

export function offerSections(offer: string): OfferSection[] {
  const lines = offer.split(/\r?\n/).filter((l) => l.length > 0);
  const sections: OfferSection[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const kind = line.slice(2).split(' ')[0] as OfferSection['kind'];
      sections.push({ kind, mid: '', direction: 'sendrecv', lines: [], ssrcs: [] });
      continue;
    }
    const s = sections.at(-1);
    if (s === undefined) continue;
    s.lines.push(line);
    if (line.startsWith('a=mid:')) s.mid = line.slice(6);
    if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      s.direction = line.slice(2) as OfferSection['direction'];
    }
    const ssrc = /^a=ssrc:(\d+) /.exec(line);
    if (ssrc && !s.ssrcs.includes(Number(ssrc[1]))) s.ssrcs.push(Number(ssrc[1]));
  }
  return sections;
}

/** The peer's transport parameters from its offer (session- or media-level attributes). */
export function remoteParameters(offer: string): WebRtcRemoteParameters {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(offer)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(offer)?.[1];
  const setup = /^a=setup:(\S+)/m.exec(offer)?.[1] as DtlsSetup | undefined;
  const fp = /^a=fingerprint:(\S+) (\S+)/m.exec(offer);
  if (ufrag === undefined || setup === undefined || fp === null) {
    throw new Error('the offer lacks ice-ufrag, setup or fingerprint');
  }
  return {
    iceUfrag: ufrag,
    ...(pwd === undefined ? {} : { icePwd: pwd }),
    setup,
    fingerprints: [{ algorithm: fp[1]!.toLowerCase() as 'sha-256', value: fp[2]! }],
  };
}

/** Payload type of `codec` (e.g. 'VP8/90000') in a section; undefined if not offered. */
export function payloadType(section: OfferSection, codec: string): number | undefined {
  const re = new RegExp(`^a=rtpmap:(\\d+) ${codec}`, 'i');
  for (const l of section.lines) {
    const m = re.exec(l);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export interface AnswerOptions {
  /** Our SSRC on the offer's `recvonly` video m-line. */
  sendSsrc: number;
  /** Overrides our `a=setup` (default: the endpoint's). */
  setup?: string;
  /** Overrides our fingerprint (default: the endpoint's certificate's). */
  fingerprint?: string;
}

/** The answer to `PUBLISH_OFFER`'s offer for `ep` (see the file comment). */
export function answerSdp(
  offer: string,
  ep: WebRtcEndpoint,
  candidates: readonly string[],
  o: AnswerOptions,
): string {
  const sections = offerSections(offer);
  const out = [
    'v=0',
    'o=- 7340519227031512321 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${sections.map((s) => s.mid).join(' ')}`,
    'a=msid-semantic: WMS rtcd',
  ];
  for (const s of sections) {
    const codec = s.kind === 'audio' ? 'opus/48000' : 'VP8/90000';
    const pt = payloadType(s, codec);
    if (pt === undefined) throw new Error(`no ${codec} in m-line ${s.mid}`);
    const direction = s.direction === 'recvonly' ? 'sendonly' : 'recvonly';
    out.push(
      `m=${s.kind} 9 UDP/TLS/RTP/SAVPF ${pt}`,
      'c=IN IP4 0.0.0.0',
      `a=mid:${s.mid}`,
      `a=ice-ufrag:${ep.localUfrag}`,
      `a=ice-pwd:${ep.localPwd}`,
      `a=fingerprint:sha-256 ${o.fingerprint ?? ep.localFingerprint}`,
      `a=setup:${o.setup ?? ep.localSetup}`,
      `a=${direction}`,
      'a=rtcp-mux',
      ...s.lines.filter(
        (l) =>
          l.startsWith(`a=rtpmap:${pt} `) ||
          l.startsWith(`a=fmtp:${pt} `) ||
          l.startsWith(`a=rtcp-fb:${pt} `),
      ),
    );
    if (direction === 'sendonly') {
      out.push(
        'a=msid:rtcd loop',
        `a=ssrc:${o.sendSsrc} cname:rtcd`,
        `a=ssrc:${o.sendSsrc} msid:rtcd loop`,
      );
    }
    out.push(...candidates.map((c) => `a=${c}`), 'a=end-of-candidates');
  }
  return `${out.join('\r\n')}\r\n`;
}
