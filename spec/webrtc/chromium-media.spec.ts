/**
 * A live Chromium publishes its fake camera and microphone to a `WebRtcEndpoint` (ICE-lite on
 * an IceLiteMux, DTLS, SRTP keyed by RFC 5764) in both DTLS roles: we decrypt Opus and VP8
 * packets with consecutive sequence numbers and SRTCP sender reports, then loop the VP8
 * packets back (our SSRC) on the page's `recvonly` video transceiver, which we answer
 * `sendonly`, and the page decodes frames: a browser decodes media that rtcd encrypted.
 * The answers come from lib/sdp (`remoteParametersOf` + `createAnswer`, with header
 * extensions and RTX), and once from the minimal template of spec/helpers/webrtc-page.ts.
 */
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { decodeRtcp, encodeRtcp, type SenderReport } from '../../lib/rtcp/index.js';
import { seqIsNewer } from '../../lib/rtp/sequence.js';
import { createAnswer } from '../../lib/sdp/answer.js';
import { directionOf } from '../../lib/sdp/media.js';
import { parse } from '../../lib/sdp/parse.js';
import { serialize } from '../../lib/sdp/serialize.js';
import { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import { answerTransportOf, remoteParametersOf } from '../../lib/webrtc/remote-description.js';
import { loopbackChromium } from '../helpers/chromium-pages.js';
import { within } from '../helpers/raw-stun.js';
import {
  answerSdp,
  offerSections,
  PUBLISH_OFFER,
  payloadType,
  remoteParameters,
  WAIT_CONNECTED,
  waitFramesDecoded,
} from '../helpers/webrtc-page.js';

const chromium = loopbackChromium(t);
const certificate = await generateCertificate();
const LOOP_SSRC = 0x5eed1234;

interface Received {
  /** Payload type and sequence numbers per SSRC, in arrival order. */
  streams: Map<number, { pt: number; seqs: number[] }>;
  senderReports: SenderReport[];
}

async function openPage(t: Test) {
  const page = await chromium.openPage(t);
  const offer = await page.evaluate<string>(PUBLISH_OFFER);
  return { page, offer };
}

/** Receives everything, loops VP8 back as LOOP_SSRC, forwards the page's PLIs upstream. */
function wire(ep: WebRtcEndpoint, videoSsrc: number): Received {
  const got: Received = { streams: new Map(), senderReports: [] };
  ep.on('rtp', (p) => {
    const ssrc = p.readUInt32BE(8);
    let s = got.streams.get(ssrc);
    if (s === undefined) {
      s = { pt: p[1]! & 0x7f, seqs: [] };
      got.streams.set(ssrc, s);
    }
    s.seqs.push(p.readUInt16BE(2));
    if (ssrc === videoSsrc) {
      const loop = Buffer.from(p);
      loop.writeUInt32BE(LOOP_SSRC, 8);
      ep.sendRtp(loop);
    }
  });
  ep.on('rtcp', (p) => {
    const d = decodeRtcp(p);
    if (!d.ok) return;
    for (const packet of d.packets) {
      if (packet.kind === 'sr') got.senderReports.push(packet);
      // The receiving side asks for a keyframe of our looped stream: ask the sender.
      if (packet.kind === 'pli' && packet.mediaSsrc === LOOP_SSRC) requestKeyframe(ep, videoSsrc);
    }
  });
  return got;
}

function requestKeyframe(ep: WebRtcEndpoint, mediaSsrc: number): void {
  ep.sendRtcp(
    encodeRtcp([
      { kind: 'rr', ssrc: LOOP_SSRC, reports: [] },
      { kind: 'pli', senderSsrc: LOOP_SSRC, mediaSsrc },
    ]),
  );
}

function checkSequence(t: Test, name: string, seqs: readonly number[]): void {
  t.ok(seqs.length >= 10, `${name}: ${seqs.length} packets`);
  let newer = 0;
  for (let i = 1; i < seqs.length; i++) if (seqIsNewer(seqs[i]!, seqs[i - 1]!)) newer++;
  // Loopback does not reorder; a retransmission would be the only exception.
  t.ok(
    newer >= seqs.length - 2,
    `${name}: sequence numbers increase (${newer}/${seqs.length - 1})`,
  );
}

/**
 * The answer lib/sdp builds (default codecs and header extensions; the recvonly video
 * section answered sendonly with our SSRC), for an endpoint built from lib/sdp's reading of
 * the offer.
 */
function sdpAnswer(t: Test, offer: string, mux: IceLiteMux, role: 'client' | 'server') {
  const parsed = parse(offer);
  if (!parsed.ok) throw new Error(`offer: ${parsed.error.code}`);
  const remote = remoteParametersOf(parsed.value);
  if (!remote.ok) throw new Error(`offer: ${remote.error}`);
  const ep = new WebRtcEndpoint({
    mux,
    certificate,
    remote: remote.value,
    preferredDtlsRole: role,
  });
  const answer = createAnswer(parsed.value, {
    ...answerTransportOf(ep, mux.candidates),
    media: (m) =>
      m.kind === 'video' && directionOf(m, parsed.value.session) === 'recvonly'
        ? {
            direction: 'sendonly',
            msid: { streamId: 'rtcd', trackId: 'loop' },
            ssrcs: [{ ssrc: LOOP_SSRC, attribute: 'cname', value: 'rtcd' }],
          }
        : {},
  });
  if (!answer.ok) throw new Error(`answer: ${answer.error.code}`);
  t.ok(answer.value.media.length === 3, 'lib/sdp answers the three sections');
  return { ep, answer: serialize(answer.value) };
}

async function publishAndLoop(t: Test, role: 'client' | 'server', sdp: 'lib/sdp' | 'template') {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const { page, offer } = await openPage(t);
  const sections = offerSections(offer);
  const audio = sections.find((s) => s.kind === 'audio')!;
  const video = sections.find((s) => s.kind === 'video' && s.direction !== 'recvonly')!;
  const videoSsrc = video.ssrcs[0]!;
  t.ok(videoSsrc, 'the offer names its video SSRC');
  let ep: WebRtcEndpoint;
  let answer: string;
  if (sdp === 'lib/sdp') ({ ep, answer } = sdpAnswer(t, offer, mux, role));
  else {
    ep = new WebRtcEndpoint({
      mux,
      certificate,
      remote: remoteParameters(offer),
      preferredDtlsRole: role,
    });
    answer = answerSdp(offer, ep, mux.candidates, { sendSsrc: LOOP_SSRC });
  }
  t.teardown(() => ep.close());
  t.equal(ep.dtlsRole, role);
  t.equal(ep.localSetup, role === 'server' ? 'passive' : 'active');
  t.match(answer, `a=setup:${ep.localSetup}`, 'the answer carries our setup');
  const got = wire(ep, videoSsrc);
  const connected = once(ep, 'connected');
  await page.evaluate(
    `window.pc.setRemoteDescription(${JSON.stringify({ type: 'answer', sdp: answer })})`,
  );
  t.equal(await page.evaluate<string>(WAIT_CONNECTED), 'connected', 'the page connects');
  await within(connected, 10_000, 'endpoint connected');
  t.equal(ep.state, 'connected');
  t.ok(ep.srtpProfile, `SRTP profile ${ep.srtpProfile}`);
  requestKeyframe(ep, videoSsrc);
  const frames = await waitFramesDecoded(page, 15_000);
  t.ok(frames.framesDecoded > 0, `the page decodes our looped video (${frames.framesDecoded})`);
  t.ok(frames.frameWidth > 0, `at ${frames.frameWidth} px wide`);
  const until = Date.now() + 8000;
  while (got.senderReports.length < 2 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 200));

  const opus = got.streams.get(audio.ssrcs[0]!);
  const vp8 = got.streams.get(videoSsrc);
  t.equal(opus?.pt, payloadType(audio, 'opus/48000'), 'audio arrives with the Opus payload type');
  t.equal(vp8?.pt, payloadType(video, 'VP8/90000'), 'video arrives with the VP8 payload type');
  checkSequence(t, 'opus', opus?.seqs ?? []);
  checkSequence(t, 'vp8', vp8?.seqs ?? []);
  const srSsrcs = new Set(got.senderReports.map((sr) => sr.ssrc));
  t.ok(srSsrcs.has(videoSsrc) || srSsrcs.has(audio.ssrcs[0]!), 'SRTCP sender reports decrypt');
  for (const sr of got.senderReports) {
    t.ok(sr.ntpTime > 0n && sr.packetCount > 0, `SR of ${sr.ssrc}: ${sr.packetCount} packets`);
  }
  const stats = ep.stats();
  t.ok(stats.rtpPacketsSent > 0, `${stats.rtpPacketsSent} looped packets sent`);
  t.ok(stats.rtpBytesReceived > stats.rtpPacketsReceived * 12);
  t.equal(stats.drops['srtp-auth-failed'] ?? 0, 0, 'no SRTP authentication failure');
  t.equal(stats.drops['srtcp-auth-failed'] ?? 0, 0, 'no SRTCP authentication failure');
  const closed = once(ep, 'closed');
  ep.close();
  t.same((await closed)[0], { reason: 'closed' });
  t.equal(mux.sessionCount, 0, 'closing the endpoint closes its ICE session');
}

t.test('Chromium as DTLS client (we answer passive, lib/sdp): media both ways', (t) =>
  publishAndLoop(t, 'server', 'lib/sdp'),
);

t.test('Chromium as DTLS server (we answer active, lib/sdp): media both ways', (t) =>
  publishAndLoop(t, 'client', 'lib/sdp'),
);

t.test('a minimal answer (one codec, no header extensions) works too', (t) =>
  publishAndLoop(t, 'server', 'template'),
);

t.test('a certificate that does not match the offered fingerprint fails DTLS', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const { page, offer } = await openPage(t);
  const remote = remoteParameters(offer);
  const wrong = remote.fingerprints[0]!.value.replace(/^../, (b) => (b === '00' ? '11' : '00'));
  const ep = new WebRtcEndpoint({
    mux,
    certificate,
    remote: { ...remote, fingerprints: [{ algorithm: 'sha-256', value: wrong }] },
  });
  const closed = once(ep, 'closed');
  const answer = answerSdp(offer, ep, mux.candidates, { sendSsrc: LOOP_SSRC });
  await page.evaluate(
    `window.pc.setRemoteDescription(${JSON.stringify({ type: 'answer', sdp: answer })})`,
  );
  const [reason] = await within(closed, 15_000, 'endpoint closed');
  t.equal(ep.state, 'failed');
  t.equal(reason.reason, 'dtls-failed');
  t.equal(reason.dtls?.error, DtlsErrorCode.fingerprintMismatch);
  t.equal(ep.sendRtp(Buffer.alloc(20, 0x80)), false, 'nothing is sent once failed');
});
