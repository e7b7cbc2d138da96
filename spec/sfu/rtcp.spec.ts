import t from 'tap';
import {
  encodeRtcp,
  type FullIntraRequest,
  type GenericNack,
  nackPairsFromSequences,
  type PictureLossIndication,
  sequencesFromNackPairs,
} from '../../lib/rtcp/index.js';
import { encapsulateRtx, RtpPacket, rtxOriginalSequenceNumber } from '../../lib/rtp/index.js';
import { ofKind, rtp, setup, VP8, vp8 } from './harness.js';

function pubSub(rtx: boolean) {
  const s = setup({ keyFrameRequestIntervalMs: 500, nackRetryIntervalMs: 100, nackMaxRetries: 3 });
  const alice = s.join('alice');
  const bob = s.join('bob');
  const video = alice.participant.publish({ ...VP8, encodings: [{ ssrc: 1111, rtxSsrc: 1112 }] });
  const consumer = bob.participant.subscribe(video, {
    ssrc: 5000,
    payloadType: 96,
    ...(rtx ? { rtx: { ssrc: 5001, payloadType: 97 } } : {}),
  });
  return { ...s, alice, bob, video, consumer };
}

const nack = (mediaSsrc: number, seqs: number[]): Buffer =>
  encodeRtcp([{ kind: 'nack', senderSsrc: 9, mediaSsrc, pairs: nackPairsFromSequences(seqs) }]);
const pli = (mediaSsrc: number): Buffer =>
  encodeRtcp([{ kind: 'pli', senderSsrc: 9, mediaSsrc } satisfies PictureLossIndication]);

function sendFrames(
  alice: { participant: { receiveRtp(b: Buffer): void } },
  from: number,
  n: number,
) {
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: from, ts: from * 100, payload: vp8(true) }));
  for (let s = from + 1; s < from + n; s++) {
    alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: s, ts: s * 100 }));
  }
}

t.test(
  'RFC 4585 NACK from a subscriber is answered as RTX (RFC 4588) when negotiated',
  async (t) => {
    const { alice, bob } = pubSub(true);
    sendFrames(alice, 200, 10);
    const sent = bob.rtp.slice();
    bob.rtp.length = 0;
    bob.participant.receiveRtcp(nack(5000, [sent[3]!.sequenceNumber, sent[5]!.sequenceNumber]));
    t.equal(bob.rtp.length, 2);
    for (const [i, k] of [3, 5].entries()) {
      const r = bob.rtp[i]!;
      t.equal(r.ssrc, 5001, 'RTX SSRC');
      t.equal(r.payloadType, 97, 'RTX payload type');
      t.equal(rtxOriginalSequenceNumber(r), sent[k]!.sequenceNumber, 'OSN is the rewritten seq');
      t.equal(r.timestamp, sent[k]!.timestamp);
      t.same(r.payload().subarray(2), sent[k]!.payload());
    }
    t.equal(
      bob.rtp[1]!.sequenceNumber,
      (bob.rtp[0]!.sequenceNumber + 1) & 0xffff,
      'RTX seq counts',
    );
  },
);

t.test('without RTX the packet is retransmitted as it was sent; misses are counted', async (t) => {
  const { alice, bob, consumer, clock } = pubSub(false);
  sendFrames(alice, 65530, 10);
  const sent = bob.rtp.slice();
  bob.rtp.length = 0;
  bob.participant.receiveRtcp(nack(5000, [sent[7]!.sequenceNumber]));
  t.equal(bob.rtp.length, 1);
  t.same(Buffer.from(bob.rtp[0]!.buffer), Buffer.from(sent[7]!.buffer), 'byte-identical');
  bob.participant.receiveRtcp(nack(5000, [(sent[9]!.sequenceNumber + 5) & 0xffff]));
  t.equal(consumer.nackMisses, 1, 'never sent: a miss');
  clock.t += 2500;
  bob.participant.receiveRtcp(nack(5000, [sent[2]!.sequenceNumber]));
  t.equal(consumer.nackMisses, 2, 'older than the cache age: a miss');
  t.equal(bob.rtp.length, 1);
  t.equal(consumer.retransmissionsSent, 1);
});

t.test('gaps the SFU sees are NACKed upstream, retried, then given up', async (t) => {
  const { alice, router, clock, video } = pubSub(false);
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 10, ts: 0, payload: vp8(true) }));
  alice.rtcp.length = 0;
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 14, ts: 0 }));
  const first = ofKind(alice.rtcp, 'nack');
  t.equal(first.length, 1, 'NACK at once on the gap');
  t.equal(first[0]!.mediaSsrc, 1111);
  t.equal(first[0]!.senderSsrc, alice.participant.rtcpSsrc);
  t.same(sequencesFromNackPairs(first[0]!.pairs), [11, 12, 13]);
  // 12 comes back as RTX from the publisher (RFC 4588): restored, forwarded, no longer NACKed.
  const orig = new RtpPacket();
  orig.parse(rtp({ ssrc: 1111, seq: 12, ts: 0 }));
  const rtxBuf = Buffer.alloc(1500);
  const n = encapsulateRtx(orig, rtxBuf, 0, { ssrc: 1112, payloadType: 97, sequenceNumber: 7 });
  alice.participant.receiveRtp(rtxBuf.subarray(0, n));
  t.ok(video.layers[0]!.cache.has(12), 'restored into the cache');
  alice.rtcp.length = 0;
  for (let i = 0; i < 6; i++) {
    clock.t += 100;
    router.tick();
  }
  const retries = ofKind(alice.rtcp, 'nack').map((p: GenericNack) =>
    sequencesFromNackPairs(p.pairs),
  );
  t.same(
    retries,
    [
      [11, 13],
      [11, 13],
    ],
    'two more tries (3 in all), then none',
  );
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 5000, ts: 0 }));
  t.equal(video.layers[0]!.missing.size, 0, 'a jump past nackMaxGap is not NACKed');
});

t.test('PLI and FIR from subscribers reach the publisher throttled: no storms', async (t) => {
  const { alice, bob, join, video, clock, consumer } = pubSub(false);
  const carol = join('carol');
  const pliCount = () => ofKind(alice.rtcp, 'pli').length;
  t.equal(pliCount(), 1, 'a new consumer asks for a key frame');
  t.equal(ofKind(alice.rtcp, 'pli')[0]!.mediaSsrc, 1111);
  carol.participant.subscribe(video, { ssrc: 6000, payloadType: 96 });
  t.equal(pliCount(), 1, 'a second consumer within the interval shares it');
  for (let i = 0; i < 50; i++) bob.participant.receiveRtcp(pli(5000));
  const fir: FullIntraRequest = {
    kind: 'fir',
    senderSsrc: 9,
    mediaSsrc: 0,
    entries: [{ ssrc: 6000, sequenceNumber: 1 }],
  };
  carol.participant.receiveRtcp(encodeRtcp([fir]));
  t.equal(pliCount(), 1, '50 PLIs and a FIR in 0 ms: still one request');
  clock.t += 500;
  bob.participant.receiveRtcp(pli(5000));
  carol.participant.receiveRtcp(encodeRtcp([fir]));
  t.equal(pliCount(), 2, 'one more after the interval');
  bob.participant.receiveRtcp(pli(4242));
  t.equal(pliCount(), 2, 'a PLI for an unknown SSRC is ignored');
  t.equal(consumer.currentLayer, -1);
});

t.test('SR per consumer stream in its SSRC/timestamp space, RR to the publisher', async (t) => {
  const { alice, bob, router, clock } = pubSub(false);
  alice.participant.receiveRtcp(
    encodeRtcp([
      {
        kind: 'sr',
        ssrc: 1111,
        ntpTime: 0x1234_5678_9abc_def0n,
        rtpTimestamp: 20000,
        packetCount: 1,
        octetCount: 1,
        reports: [],
      },
    ]),
  );
  sendFrames(alice, 200, 5);
  alice.participant.receiveRtp(rtp({ ssrc: 1111, seq: 207, ts: 20700 }));
  clock.t += 10;
  router.tick();
  const [sr] = ofKind(bob.rtcp, 'sr');
  t.ok(sr, 'an SR went to the subscriber');
  t.equal(sr!.ssrc, 5000);
  t.equal(sr!.packetCount, 6);
  const first = bob.rtp[0]!;
  // The publisher's mapping (20000 ↔ NTP) shifted by the consumer's offset, plus 10 ms.
  t.equal((sr!.rtpTimestamp - first.timestamp) >>> 0, 900);
  const [rr] = ofKind(alice.rtcp, 'rr');
  t.ok(rr, 'an RR went to the publisher');
  t.equal(rr!.ssrc, alice.participant.rtcpSsrc);
  const block = rr!.reports[0]!;
  t.equal(block.ssrc, 1111);
  t.equal(block.highestSequence, 207);
  t.equal(block.cumulativeLost, 2, '205 and 206 missing');
  t.ok(block.fractionLost > 0);
  t.equal(block.lastSenderReport, 0x5678_9abc, 'LSR: middle 32 bits of the SR NTP time');
  t.equal(block.delaySinceLastSenderReport, Math.floor(0.01 * 65536));
});
