/**
 * werift 0.24's RTCPeerConnection (a WebRTC stack nobody here wrote) as a Node client of a
 * WebRtcEndpoint: it offers a sendonly and a recvonly video m-line over BUNDLE, connects
 * through our ICE-lite mux and DTLS (we answer passive), sends VP8-typed RTP that we decrypt
 * byte for byte, and receives and decrypts the RTP we send back on the recvonly m-line.
 */
import { once } from 'node:events';
import t from 'tap';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import { delay, within } from '../helpers/raw-stun.js';
import { answerSdp, offerSections, payloadType, remoteParameters } from '../helpers/webrtc-page.js';

const certificate = await generateCertificate();
const OUR_SSRC = 0x0dd5eed5;

for (const role of ['server', 'client'] as const) {
  t.test(`werift RTCPeerConnection ↔ WebRtcEndpoint as DTLS ${role}`, async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
    t.teardown(() => mux.close());
    // max-bundle: one ICE transport; with werift's default, the transport of the second
    // m-line outlives pc.close() and keeps the process alive.
    const pc = new RTCPeerConnection({
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceUseIpv6: false,
      bundlePolicy: 'max-bundle',
    });
    t.teardown(() => pc.close());
    const track = new MediaStreamTrack({ kind: 'video' });
    pc.addTransceiver(track, { direction: 'sendonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    const fromUs: Buffer[] = [];
    pc.onTrack.subscribe((remote) => {
      remote.onReceiveRtp.subscribe((rtp) => fromUs.push(Buffer.from(rtp.payload)));
    });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription!.sdp;

    const ep = new WebRtcEndpoint({
      mux,
      certificate,
      remote: remoteParameters(offer),
      preferredDtlsRole: role,
    });
    t.teardown(() => ep.close());
    const fromWerift: Buffer[] = [];
    ep.on('rtp', (p) => fromWerift.push(Buffer.from(p)));
    const connected = once(ep, 'connected');
    const answer = answerSdp(offer, ep, mux.candidates, { sendSsrc: OUR_SSRC });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await within(connected, 15_000, 'endpoint connected');
    t.equal(ep.state, 'connected');
    t.equal(ep.dtlsRole, role);

    const sending = offerSections(offer).find((s) => s.direction === 'sendonly')!;
    const pt = payloadType(sending, 'VP8/90000')!;
    const payloads = [0, 1, 2, 3, 4].map((i) => Buffer.alloc(200 + i, 0x10 + i));
    for (let i = 0; i < 10 && fromWerift.length < payloads.length; i++) {
      for (const [k, payload] of payloads.entries()) {
        const header = new RtpHeader({
          payloadType: pt,
          sequenceNumber: 100 + k + i * 10,
          timestamp: 9000 * (k + i * 10),
          ssrc: 0x1234,
          marker: true,
        });
        track.writeRtp(new RtpPacket(header, payload));
      }
      await delay(100);
    }
    t.ok(fromWerift.length >= payloads.length, `${fromWerift.length} packets from werift`);
    const first = fromWerift[0]!;
    t.equal(first[1]! & 0x7f, pt, 'with the VP8 payload type');
    t.same(first.subarray(first.length - payloads[0]!.length), payloads[0], 'payload intact');

    for (let i = 0; i < 20 && fromUs.length === 0; i++) {
      const p = Buffer.alloc(12 + 64, 0x42);
      p[0] = 0x80;
      p[1] = pt | 0x80;
      p.writeUInt16BE(500 + i, 2);
      p.writeUInt32BE(3000 * i, 4);
      p.writeUInt32BE(OUR_SSRC, 8);
      ep.sendRtp(p);
      await delay(100);
    }
    t.ok(fromUs.length > 0, `werift decrypts ${fromUs.length} of our packets`);
    t.same(fromUs[0], Buffer.alloc(64, 0x42), 'payload intact');
    t.equal(ep.stats().drops['srtp-auth-failed'] ?? 0, 0);
  });
}
