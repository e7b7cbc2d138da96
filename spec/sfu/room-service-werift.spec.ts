/**
 * werift 0.24 (a WebRTC stack nobody here wrote) as a room peer beside a @roamhq/wrtc one:
 * werift publishes an audio track (Opus-typed RTP written by hand) and answers the SFU's
 * subscribe offer, receiving the wrtc peer's VP8 video through the router; the wrtc peer's
 * subscription to werift's track forwards the packets werift sent.
 */
import t from 'tap';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import type { SfuServerMessage } from '../../lib/signal/room-service.js';
import { exitAfterTests, RoomHarness, waitFor } from '../helpers/wrtc-client.js';

exitAfterTests(t);

t.test('a werift peer and a wrtc peer exchange tracks through the room', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const opts = {
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle' as const,
  };
  const pub = new RTCPeerConnection(opts);
  const sub = new RTCPeerConnection(opts);
  t.teardown(async () => {
    await pub.close();
    await sub.close();
  });
  const inbox: SfuServerMessage[] = [];
  let subscribeChain = Promise.resolve();
  const videoPackets = new Map<string, number>();
  sub.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      videoPackets.set(track.kind, (videoPackets.get(track.kind) ?? 0) + 1);
    });
  });
  const werift = {
    receive(m: SfuServerMessage) {
      inbox.push(m);
      if (m.type !== 'subscribe-offer') return;
      subscribeChain = subscribeChain.then(async () => {
        await sub.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await sub.setLocalDescription(await sub.createAnswer());
        h.service.message('r', 'p_werift', {
          type: 'subscribe-answer',
          sdp: sub.localDescription?.sdp ?? '',
        });
      });
    },
  };
  h.others.set('p_werift', (m) => werift.receive(m));

  const w = h.join('r', 'p_wrtc');
  w.addTrack('video');
  await w.publish();

  h.service.join('r', 'p_werift');
  const track = new MediaStreamTrack({ kind: 'audio' });
  pub.addTransceiver(track, { direction: 'sendonly' });
  await pub.setLocalDescription(await pub.createOffer());
  h.service.message('r', 'p_werift', { type: 'publish', sdp: pub.localDescription?.sdp ?? '' });
  await waitFor(() => inbox.some((m) => m.type === 'publish-answer'), 5_000, 'publish-answer');
  const answer = inbox.find((m) => m.type === 'publish-answer');
  await pub.setRemoteDescription({
    type: 'answer',
    sdp: answer?.type === 'publish-answer' ? answer.sdp : '',
  });
  const pt = Number(
    /a=rtpmap:(\d+) opus\/48000/i.exec(answer?.type === 'publish-answer' ? answer.sdp : '')?.[1],
  );
  t.ok(pt > 0, 'opus negotiated');

  // werift receives the wrtc peer's video through the SFU.
  await waitFor(() => (videoPackets.get('video') ?? 0) > 20, 20_000, 'werift receiving video');
  t.same(
    inbox.filter((m) => m.type === 'error'),
    [],
  );

  // werift's audio reaches the wrtc peer's subscription (counted by the router).
  let seq = 1;
  const timer = setInterval(() => {
    for (let i = 0; i < 2; i++) {
      const header = new RtpHeader({
        payloadType: pt,
        sequenceNumber: seq,
        timestamp: seq * 960,
        ssrc: 0,
      });
      seq++;
      track.writeRtp(new RtpPacket(header, Buffer.from([0xf8, 0xff, 0xfe])));
    }
  }, 20);
  t.teardown(() => clearInterval(timer));
  const room = h.server.router.getRoom('r');
  const forwarded = () => {
    const c = [...(room?.participants.get('p_wrtc~sub')?.consumers.values() ?? [])];
    return c
      .filter((x) => x.producer.participant.id === 'p_werift')
      .reduce((n, x) => n + x.packetsSent, 0);
  };
  await waitFor(() => forwarded() > 20, 20_000, 'werift audio forwarded to the wrtc peer');
  t.ok(w.current.some((x) => x.peerId === 'p_werift' && x.kind === 'audio'));
  t.same(w.errors, []);
});
