/**
 * A subscriber's transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
 * §3.1) through `Participant.receiveRtcp`, which reads it with the shared TransportCcReader:
 * alone in a reduced-size datagram (RFC 5506, read in place), padded, behind an RR, two in one
 * compound. The estimate must move exactly as a BandwidthEstimator fed decodeRtcp's objects;
 * a malformed feedback refuses its whole datagram, as decodeRtcp did, and is counted.
 */
import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type TransportCcFeedback,
  transportCcFromArrivals,
} from '../../lib/rtcp/index.js';
import { BandwidthEstimator } from '../../lib/sfu/bandwidth.js';
import { hex } from '../rtcp/hex.js';
import { setup, VP8 } from './harness.js';

/** A publisher of VP8 and a subscriber whose leg receives the feedback (spec/sfu/harness). */
function twccLeg() {
  const { router, join } = setup();
  const producer = join('pub').participant.publish({ ...VP8, encodings: [{ ssrc: 0x1000 }] });
  const sub = join('sub').participant;
  sub.subscribe(producer, { ssrc: 0x2000, payloadType: 96 });
  return { router, sub };
}

let base = 100;
/** Feedback for `n` packets 5 ms apart, every `lostEvery`th lost (0: none). */
function feedback(n: number, lostEvery: number): TransportCcFeedback {
  const fb = transportCcFromArrivals({
    senderSsrc: 0x2000,
    mediaSsrc: 0x1000,
    baseSequence: base,
    feedbackPacketCount: 0,
    arrivalsUs: Array.from({ length: n }, (_, i) =>
      lostEvery > 0 && i % lostEvery === 1 ? undefined : 9_000_000 + i * 5_000,
    ),
  });
  base += n;
  return fb;
}

/** The same datagram with 4 bytes of RTCP padding (the P bit), as libwebrtc pads. */
function padded(datagram: Buffer): Buffer {
  const out = Buffer.concat([datagram, hex('00000004')]);
  out[0]! |= 0x20;
  out.writeUInt16BE(out.readUInt16BE(2) + 1, 2);
  return out;
}

const RR = encodeRtcp([{ kind: 'rr', ssrc: 0x2000, reports: [] }]);

t.test('feedback in every datagram shape moves the estimate as the decoded objects do', (t) => {
  const { router, sub } = twccLeg();
  const reference = new BandwidthEstimator(sub.bandwidth.estimate);
  for (let seq = 0; seq < 400; seq++) {
    sub.bandwidth.onSent(seq, 1000);
    reference.onSent(seq, 1000);
  }
  const datagrams: [string, Buffer][] = [
    ['alone, reduced-size', encodeRtcp([feedback(40, 0)])],
    ['alone, lossy', encodeRtcp([feedback(30, 3)])],
    ['alone with RTCP padding', padded(encodeRtcp([feedback(20, 0)]))],
    ['behind an RR', Buffer.concat([RR, encodeRtcp([feedback(25, 4)])])],
    ['two in one compound', encodeRtcp([feedback(10, 2), feedback(12, 0)])],
    ['two behind an RR', Buffer.concat([RR, encodeRtcp([feedback(8, 0), feedback(9, 3)])])],
  ];
  for (const [name, d] of datagrams) {
    const decoded = decodeRtcp(d);
    if (!decoded.ok) throw new Error(`${name}: ${decoded.reason}`);
    for (const p of decoded.packets) if (p.kind === 'transport-cc') reference.onTransportCc(p);
    sub.receiveRtcp(d);
    t.equal(sub.bandwidth.lastLoss, reference.lastLoss, `${name}: loss`);
    t.equal(sub.bandwidth.estimate, reference.estimate, `${name}: estimate`);
  }
  t.ok(sub.bandwidth.lastLoss > 0.1, 'the last feedback was lossy (the estimates did move)');
  t.same(sub.stats.dropped, {}, 'nothing refused');
  router.close();
  t.end();
});

t.test('a malformed transport-cc feedback refuses its datagram and is counted', (t) => {
  const { router, sub } = twccLeg();
  const estimate = sub.bandwidth.estimate;
  const good = encodeRtcp([feedback(20, 2)]);
  // Status count 32 and no chunks at all.
  const short = hex('8fcd0004 00002000 00001000 00010020 00000001');
  // A 2-bit vector with the reserved symbol 11.
  const reserved = hex('8fcd0005 00002000 00001000 00010002 00000001 f0000000');
  const cases: [string, Buffer][] = [
    ['alone: chunks cut short', short],
    ['alone: reserved symbol', reserved],
    ['after a good feedback in one compound', Buffer.concat([good, short])],
    ['before a good feedback in one compound', Buffer.concat([reserved, good])],
    ['behind an RR', Buffer.concat([RR, short])],
  ];
  for (const [i, [name, d]] of cases.entries()) {
    sub.receiveRtcp(d);
    t.equal(sub.stats.dropped['malformed-transport-cc'], i + 1, `${name}: counted`);
    t.equal(sub.bandwidth.estimate, estimate, `${name}: the estimate did not move`);
    t.equal(sub.bandwidth.lastLoss, 0, `${name}: no feedback was handled`);
  }
  sub.receiveRtcp(good);
  t.equal(sub.bandwidth.lastLoss, 0.5, 'a good one alone is read');
  sub.receiveRtcp(padded(good).subarray(0, good.length + 3));
  t.equal(sub.stats.dropped['length-overflow'], 1, 'a datagram cut short: the split says why');
  router.close();
  t.end();
});
