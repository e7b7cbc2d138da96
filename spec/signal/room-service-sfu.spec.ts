/**
 * The whole path of an sfu room: a real SignalServer and a real SfuServer (its
 * `SfuRoomService`) joined by the SFU link over a WebSocket, and @roamhq/wrtc clients
 * (libwebrtc in Node) speaking the signaling protocol: each publishes (publish →
 * publish-answer, its connection connects), gets the other's track in a subscribe-offer,
 * answers it, and decodes the other's video.
 */
import wrtcModule from '@roamhq/wrtc';
import t from 'tap';
import { SfuRoomService } from '../../lib/sfu/room-service.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { connectRoomService } from '../../lib/signal/room-service-link.js';
import { exitAfterTests, waitFor } from '../helpers/wrtc-client.js';
import { type Frame, startSignal, TestClient } from './fixture.js';

exitAfterTests(t);

// The parts of the W3C API used here.
interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}
interface Track {
  readonly kind: string;
  stop(): void;
}
interface PeerConnection {
  connectionState: string;
  localDescription: Description | null;
  ontrack: ((e: { track: Track }) => void) | null;
  addTransceiver(t: Track, init: { direction: 'sendonly' }): unknown;
  createOffer(): Promise<Description>;
  createAnswer(): Promise<Description>;
  setLocalDescription(d: Description): Promise<void>;
  setRemoteDescription(d: Description): Promise<void>;
  close(): void;
}
interface Wrtc {
  RTCPeerConnection: new (config?: { bundlePolicy?: string }) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new () => {
      createTrack(): Track;
      onFrame(f: { width: number; height: number; data: Uint8Array }): void;
    };
    RTCVideoSink: new (t: Track) => { stop(): void; onframe: (() => void) | null };
  };
}
const wrtc: Wrtc = wrtcModule;

/** A participant: a signaling socket, a publish connection with one video source, a subscriber. */
class Participant {
  readonly pub = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  readonly sub = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  framesReceived = 0;
  offers: Frame[] = [];
  private readonly track: Track;
  private readonly timer: NodeJS.Timeout;
  private sinks: { stop(): void }[] = [];

  constructor(readonly ws: TestClient) {
    const source = new wrtc.nonstandard.RTCVideoSource();
    const data = new Uint8Array(160 * 120 * 1.5);
    let n = 0;
    this.timer = setInterval(() => {
      data.fill(n++ & 0xff, 0, 160 * 120);
      source.onFrame({ width: 160, height: 120, data });
    }, 33);
    this.track = source.createTrack();
    this.pub.addTransceiver(this.track, { direction: 'sendonly' });
    this.sub.ontrack = (e) => {
      if (e.track.kind !== 'video') return;
      const sink = new wrtc.nonstandard.RTCVideoSink(e.track);
      sink.onframe = () => {
        this.framesReceived++;
      };
      this.sinks.push(sink);
    };
  }

  async publish(): Promise<void> {
    const offer = await this.pub.createOffer();
    await this.pub.setLocalDescription(offer);
    this.ws.send({ type: 'publish', sdp: this.pub.localDescription?.sdp ?? offer.sdp });
    const answer = await this.ws.next('publish-answer', 10_000);
    await this.pub.setRemoteDescription({ type: 'answer', sdp: String(answer.sdp) });
  }

  /** Answers the next subscribe-offer. */
  async subscribe(): Promise<Frame> {
    const offer = await this.ws.next('subscribe-offer', 10_000);
    await this.sub.setRemoteDescription({ type: 'offer', sdp: String(offer.sdp) });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    this.ws.send({ type: 'subscribe-answer', sdp: this.sub.localDescription?.sdp ?? answer.sdp });
    return offer;
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.sinks) s.stop();
    this.track.stop();
    this.pub.close();
    this.sub.close();
    this.ws.close();
  }
}

t.test('two wrtc clients publish through rtcd signal and the linked SFU', async (t) => {
  const secret = 'e2e-link-secret';
  const { server: signal, url } = await startSignal({ sfuSecret: secret });
  const sfu = new SfuServer({ udpAddress: '127.0.0.1', udpPort: 0, port: 0 });
  await sfu.listen();
  const rooms = new SfuRoomService(sfu);
  let linked!: () => void;
  const up = new Promise<void>((resolve) => {
    linked = resolve;
  });
  const link = connectRoomService(url.replace(/\/ws$/, '/sfu'), secret, rooms, {
    onState: (s) => s === 'up' && linked(),
  });
  const people: Participant[] = [];
  t.teardown(async () => {
    for (const p of people) p.close();
    await signal.close();
    await link.close();
    rooms.close();
    await sfu.close();
  });
  await up;

  for (let i = 0; i < 2; i++) {
    const ws = await TestClient.open(url);
    const joined = await ws.join('e2e', { sessionType: 'sfu' });
    t.equal(joined.room, 'e2e');
    people.push(new Participant(ws));
  }
  const [a, b] = people as [Participant, Participant];
  await a.publish();
  await b.publish();
  await waitFor(
    () => a.pub.connectionState === 'connected' && b.pub.connectionState === 'connected',
    15_000,
    'both publish connections connected to the SFU',
  );
  t.pass('publish-answer applied, publish connections connected');

  const [offerA, offerB] = await Promise.all([a.subscribe(), b.subscribe()]);
  const peerIds = signal.hub.peers.keys();
  const idA = peerIds.next().value;
  const idB = peerIds.next().value;
  t.match(offerA.tracks, [{ peerId: idB, kind: 'video' }], "a is offered b's video");
  t.match(offerB.tracks, [{ peerId: idA, kind: 'video' }], "b is offered a's video");
  await waitFor(
    () => a.framesReceived > 5 && b.framesReceived > 5,
    20_000,
    'each decoding the other’s video',
  );
  t.pass(`frames decoded: a ${a.framesReceived}, b ${b.framesReceived}`);
  t.same(
    [...a.ws.frames, ...b.ws.frames].filter((f) => f.type === 'error'),
    [],
    'no error on either socket',
  );
});
