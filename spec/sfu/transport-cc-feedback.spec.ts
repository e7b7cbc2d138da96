/**
 * Transport-wide congestion control feedback to publishers (draft-holmer-rmcat-transport-wide-
 * cc-extensions-01 §3): the generator alone, then a publisher's participant answering the
 * transport-wide sequence numbers of everything it receives.
 */
import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type TransportCcFeedback,
  transportCcArrivals,
} from '../../lib/rtcp/index.js';
import { ExtensionUri } from '../../lib/rtp/index.js';
import { TransportCcFeedbackGenerator } from '../../lib/sfu/transport-cc-feedback.js';
import { ofKind, rtp, setup, VP8, vp8 } from './harness.js';

const received = (fb: TransportCcFeedback) => fb.packets.map((p) => (p.received ? 1 : 0));

t.test('statuses from the first packet on, a gap reported as not received', async (t) => {
  const g = new TransportCcFeedbackGenerator(50);
  t.same(g.poll(0, 1), [], 'nothing before the first packet');
  for (const [seq, at] of [
    [10, 1000],
    [11, 1002],
    [13, 1010],
    [14, 1011.5],
  ] as const) {
    g.record(seq, 0xabc, at);
  }
  const [fb, ...more] = g.poll(1020, 0x1234);
  t.same(more, []);
  t.equal(fb?.baseSequence, 10);
  t.equal(fb?.senderSsrc, 0x1234);
  t.equal(fb?.mediaSsrc, 0xabc, 'media SSRC: the last packet’s');
  t.equal(fb?.feedbackPacketCount, 0);
  t.same(received(fb!), [1, 1, 0, 1, 1], 'packet 12 missing');
  const arrivals = transportCcArrivals(fb!).map((us) => (us === undefined ? us : us / 1000));
  t.same(arrivals, [1000, 1002, undefined, 1010, 1011.5], 'arrival times survive (250 µs)');

  t.same(g.poll(1030, 1), [], 'not again before the interval');
  t.same(g.poll(1100, 1), [], 'nothing new: no feedback');
  g.record(12, 0xabc, 1101);
  t.same(g.poll(1200, 1), [], 'a packet already reported lost is not reported again');
  g.record(16, 0xabc, 1201);
  g.record(15, 0xabc, 1202);
  const [next] = g.poll(1300, 1);
  t.equal(next?.baseSequence, 15, 'the next message starts after the last reported packet');
  t.same(received(next!), [1, 1], 'reordered packets inside the window count');
  t.equal(next?.feedbackPacketCount, 1, 'feedback packet count increments');
});

t.test('sequence numbers wrap; long runs split into messages of 400', async (t) => {
  const g = new TransportCcFeedbackGenerator(0);
  for (const seq of [65534, 65535, 0, 1]) g.record(seq, 1, 5);
  const [fb] = g.poll(10, 1);
  t.equal(fb?.baseSequence, 65534);
  t.same(
    fb?.packets.map((p) => p.seq),
    [65534, 65535, 0, 1],
  );
  for (let i = 2; i < 1002; i++) g.record(i, 1, 20 + i / 100);
  const split = g.poll(40, 1);
  t.same(
    split.map((f) => [f.baseSequence, f.packets.length]),
    [
      [2, 400],
      [402, 400],
      [802, 200],
    ],
  );
  t.same(
    split.map((f) => f.feedbackPacketCount),
    [1, 2, 3],
  );
});

t.test('arrival gaps beyond what a delta can carry are clamped, not thrown', async (t) => {
  const g = new TransportCcFeedbackGenerator(0);
  g.record(1, 1, 0);
  g.record(2, 1, 20_000);
  const fbs = g.poll(20_000, 1);
  t.equal(fbs.length, 1);
  const bytes = encodeRtcp(fbs);
  const back = decodeRtcp(bytes);
  t.ok(back.ok, 'the message encodes and decodes');
  if (back.ok) t.same(received(back.packets[0] as TransportCcFeedback), [1, 1]);
});

t.test('a publisher gets transport-cc feedback for media, RTX and unknown SSRCs', async (t) => {
  const s = setup();
  const alice = s.join('alice');
  alice.participant.publish({
    ...VP8,
    encodings: [{ ssrc: 100, rtxSsrc: 101 }],
    headerExtensions: { [ExtensionUri.transportWideCc]: 3 },
  });
  const twcc = (seq: number) => [{ id: 3, value: Buffer.from([seq >> 8, seq & 0xff]) }];
  alice.participant.receiveRtp(rtp({ ssrc: 100, seq: 1, ts: 0, extensions: twcc(500) }));
  s.clock.t += 1;
  // An RTX padding packet (a bandwidth probe): dropped by the router, yet acknowledged.
  alice.participant.receiveRtp(
    rtp({ ssrc: 101, seq: 7, ts: 0, pt: 97, payload: Buffer.alloc(0), extensions: twcc(501) }),
  );
  alice.participant.receiveRtp(rtp({ ssrc: 999, seq: 1, ts: 0, extensions: twcc(503) }));
  alice.participant.receiveRtp(rtp({ ssrc: 100, seq: 2, ts: 0, payload: vp8(false) }));
  alice.participant.tick(s.clock.t);
  const fbs = ofKind(alice.rtcp, 'transport-cc');
  t.equal(fbs.length, 1, 'one feedback message');
  t.equal(fbs[0]?.baseSequence, 500);
  t.same(received(fbs[0]!), [1, 1, 0, 1], '502 missing; a packet without the extension is not');
  t.equal(fbs[0]?.senderSsrc, alice.participant.rtcpSsrc);

  const bob = s.join('bob');
  bob.participant.publish({ ...VP8, encodings: [{ ssrc: 200 }] });
  bob.participant.receiveRtp(rtp({ ssrc: 200, seq: 1, ts: 0, extensions: twcc(1) }));
  bob.participant.tick(s.clock.t);
  t.same(ofKind(bob.rtcp, 'transport-cc'), [], 'no feedback where transport-cc was not agreed');
});
