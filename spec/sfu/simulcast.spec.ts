import t from 'tap';
import { encodeRtcp, transportCcFromArrivals } from '../../lib/rtcp/index.js';
import { ExtensionUri, seqAdd } from '../../lib/rtp/index.js';
import { BandwidthEstimator } from '../../lib/sfu/index.js';
import { ofKind, rtp, setup, VP8, vp8 } from './harness.js';

const SSRCS = [100, 200, 300];

function simulcast() {
  const s = setup({ keyFrameRequestIntervalMs: 500 });
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({
    ...VP8,
    encodings: [
      { ssrc: 100, maxBitrate: 150_000 },
      { ssrc: 200, maxBitrate: 500_000 },
      { ssrc: 300, maxBitrate: 1_200_000 },
    ],
  });
  const seq = [1000, 2000, 3000];
  const send = (layer: number, key = false) => {
    const n = seq[layer]!++;
    alice.participant.receiveRtp(
      rtp({ ssrc: SSRCS[layer]!, seq: n, ts: n * 10, payload: vp8(key) }),
    );
  };
  const consumer = bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96 });
  const changes: number[] = [];
  consumer.on('layerchange', (l) => changes.push(l));
  const pliTo = () => ofKind(alice.rtcp, 'pli').map((p) => p.mediaSsrc);
  return { ...s, alice, bob, video, consumer, send, changes, pliTo };
}

const remb = (bitrate: number) =>
  encodeRtcp([{ kind: 'remb', senderSsrc: 9, mediaSsrc: 0, bitrate, ssrcs: [5000] }]);

t.test(
  'a consumer forwards one layer and switches only on a key frame of the target',
  async (t) => {
    const { bob, consumer, send, changes, pliTo, clock } = simulcast();
    t.equal(consumer.targetLayer, 2, 'highest layer by default');
    t.same(pliTo(), [300], 'key frame asked of the target layer');
    send(0, true);
    send(1, true);
    send(2);
    t.equal(bob.rtp.length, 0, 'other layers and non-key packets are not forwarded');
    send(2, true);
    send(2);
    send(0);
    t.equal(bob.rtp.length, 2);
    t.same(changes, [2]);
    clock.t += 600;
    consumer.setPreferredLayer(0);
    t.same(pliTo(), [300, 100], 'preference change asks the new layer for a key frame');
    send(0);
    send(2);
    t.equal(bob.rtp.length, 3, 'still on layer 2 until layer 0 has a key frame');
    send(0, true);
    send(2);
    send(0);
    t.equal(bob.rtp.length, 5);
    t.same(changes, [2, 0]);
    const seqs = bob.rtp.map((p) => p.sequenceNumber);
    for (let i = 1; i < seqs.length; i++)
      t.equal(seqs[i], seqAdd(seqs[0]!, i), 'no gap at switches');
    t.ok(new Set(bob.rtp.map((p) => p.ssrc)).size === 1, 'one SSRC for the subscriber');
  },
);

t.test('REMB drives the layer down, pauses video, then resumes', async (t) => {
  const { bob, consumer, send, changes, clock } = simulcast();
  const pauses: boolean[] = [];
  consumer.on('bandwidthpause', (p) => pauses.push(p));
  send(0);
  send(1);
  send(2, true);
  t.equal(consumer.currentLayer, 2);
  bob.participant.receiveRtcp(remb(600_000));
  t.equal(consumer.targetLayer, 1, '500 kbit/s layer fits in 600');
  send(2);
  send(1, true);
  t.equal(consumer.currentLayer, 1);
  bob.participant.receiveRtcp(remb(100_000));
  t.same(pauses, [true], 'not even the lowest layer fits: paused');
  t.equal(consumer.currentLayer, -1);
  const before = bob.rtp.length;
  send(0, true);
  send(1, true);
  t.equal(bob.rtp.length, before, 'nothing forwarded while paused');
  clock.t += 600;
  bob.participant.receiveRtcp(remb(3_000_000));
  t.same(pauses, [true, false]);
  t.equal(consumer.targetLayer, 2);
  send(2, true);
  t.equal(bob.rtp.length, before + 1);
  t.same(changes, [2, 1, -1, 2]);
});

t.test(
  'transport-wide-cc feedback with heavy loss lowers the estimate and the layer',
  async (t) => {
    const s = simulcast();
    const { bob, consumer } = s;
    const est = bob.participant.bandwidth;
    t.equal(est.estimate, 1_500_000, 'initialBandwidth default');
    const fb = transportCcFromArrivals({
      senderSsrc: 9,
      mediaSsrc: 0,
      baseSequence: 0,
      feedbackPacketCount: 0,
      arrivalsUs: [0, undefined, 10_000, undefined, 20_000, undefined, 30_000, undefined],
    });
    bob.participant.receiveRtcp(encodeRtcp([fb]));
    t.equal(est.lastLoss, 0.5);
    t.ok(est.estimate <= 1_500_000 * 0.75, `estimate ${est.estimate}`);
    t.equal(consumer.targetLayer, 1);
  },
);

t.test('the estimator grows slowly without loss, bounded by the delivered rate', async (t) => {
  /** Ten packets of `bytes` sent, then transport-cc feedback: all arrived, `gapUs` apart. */
  const deliver = (e: BandwidthEstimator, bytes: number, gapUs: number) => {
    for (let i = 0; i < 10; i++) e.onSent(i, bytes);
    e.onTransportCc(
      transportCcFromArrivals({
        senderSsrc: 0,
        mediaSsrc: 0,
        baseSequence: 0,
        feedbackPacketCount: 0,
        arrivalsUs: Array.from({ length: 10 }, (_, i) => i * gapUs),
      }),
    );
  };
  const e = new BandwidthEstimator(100_000);
  deliver(e, 1000, 10_000);
  t.equal(e.estimate, 108_000, '+8%: 10 kB in 90 ms is far more than the estimate');
  const e2 = new BandwidthEstimator(1_000_000);
  deliver(e2, 100, 100_000);
  t.equal(e2.estimate, 1_000_000, 'application-limited (~8.9 kbit/s delivered): no growth');
  e2.onRemb(300_000);
  t.equal(e2.estimate, 300_000);
});

t.test('rid-based simulcast learns SSRCs from rid / repaired-rid extensions', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({
    ...VP8,
    encodings: [{ rid: 'q' }, { rid: 'h' }, { rid: 'f' }],
    headerExtensions: { [ExtensionUri.rtpStreamId]: 10, [ExtensionUri.repairedRtpStreamId]: 11 },
  });
  const c = bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96, preferredLayer: 1 });
  t.same(ofKind(alice.rtcp, 'pli'), [], 'no SSRC yet: the key-frame request waits');
  const rid = (id: number, v: string) => [{ id, value: Buffer.from(v) }];
  alice.participant.receiveRtp(
    rtp({ ssrc: 0xabc, seq: 1, ts: 0, payload: vp8(false), extensions: rid(10, 'h') }),
  );
  t.equal(video.layers[1]!.ssrc, 0xabc);
  alice.participant.receiveRtp(
    rtp({
      ssrc: 0xabd,
      seq: 9,
      ts: 0,
      pt: 97,
      payload: Buffer.from([0, 2, 0x90]),
      extensions: rid(11, 'h'),
    }),
  );
  t.equal(video.layers[1]!.rtxSsrc, 0xabd, 'RTX stream bound by repaired-rid');
  s.router.tick();
  t.same(
    ofKind(alice.rtcp, 'pli').map((p) => p.mediaSsrc),
    [0xabc],
    'pending request sent once the SSRC is known',
  );
  alice.participant.receiveRtp(rtp({ ssrc: 0xabc, seq: 3, ts: 0, payload: vp8(true) }));
  t.equal(bob.rtp.length, 1);
  t.equal(c.currentLayer, 1);
  alice.participant.receiveRtp(rtp({ ssrc: 0xeee, seq: 1, ts: 0, extensions: rid(10, 'x') }));
  t.equal(alice.participant.stats.dropped['unknown-ssrc'], 1, 'unknown rid: dropped');
});
