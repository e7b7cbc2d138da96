/**
 * A subscriber leg cut down by loss climbs back up (issue 7: choose layers by the bandwidth
 * the subscriber's transport-cc feedback shows). A sans-IO simulation of one leg: the
 * BandwidthEstimator fed with what the leg sends (`onSent`) and transport-cc feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01) from a simulated link (capacity, a
 * 100 ms drop-tail queue, 20 ms propagation), an allocator choosing the highest of three
 * simulcast layers that fits the estimate and switching at the next key frame (200 ms later).
 */
import t from 'tap';
import { encodeRtcp, transportCcFromArrivals } from '../../lib/rtcp/index.js';
import { BandwidthEstimator } from '../../lib/sfu/index.js';
import { rtp, setup, VP8, vp8 } from './harness.js';

const LAYERS = [150_000, 500_000, 1_500_000];
const STEP_MS = 10;
const PACKET = 1200;

interface Sent {
  seq: number;
  arrival: number | undefined;
}

/** Runs the leg over `capacity(t)` for `ms`, calling `sample` every step. */
function simulate(
  capacity: (now: number) => number,
  ms: number,
  sample: (now: number, layer: number, cap: number) => void,
  e = new BandwidthEstimator(1_500_000),
): BandwidthEstimator {
  let layer = 2;
  let target = 2;
  let keyAt = Number.POSITIVE_INFINITY;
  let seq = 0;
  let credit = 0;
  let linkFreeAt = 0;
  let pending: Sent[] = [];
  for (let now = 0; now < ms; now += STEP_MS) {
    const cap = capacity(now);
    if (now % 100 === 0) {
      // The allocator: the highest layer that fits, the next one up is what the leg wants.
      let chosen = 0;
      for (let i = LAYERS.length - 1; i >= 0; i--) {
        if (LAYERS[i]! <= e.estimate) {
          chosen = i;
          break;
        }
      }
      e.want(chosen + 1 < LAYERS.length ? LAYERS[chosen + 1]! : 0);
      if (chosen !== target) {
        target = chosen;
        keyAt = now + 200;
      }
      // Feedback for what has arrived (or was dropped) by now, in sequence order.
      let n = 0;
      while (n < pending.length && (pending[n]!.arrival ?? 0) <= now) n++;
      const batch = pending.slice(0, n);
      if (batch.some((p) => p.arrival !== undefined)) {
        pending = pending.slice(n);
        const fb = transportCcFromArrivals({
          senderSsrc: 1,
          mediaSsrc: 2,
          baseSequence: batch[0]!.seq,
          feedbackPacketCount: 0,
          arrivalsUs: batch.map((p) => (p.arrival === undefined ? undefined : p.arrival * 1000)),
        });
        e.onTransportCc(fb, now);
      }
    }
    if (now >= keyAt) {
      layer = target;
      keyAt = Number.POSITIVE_INFINITY;
    }
    credit += (LAYERS[layer]! * STEP_MS) / 8000;
    while (credit >= PACKET) {
      credit -= PACKET;
      const s = seq;
      seq = (seq + 1) & 0xffff;
      e.onSent(s, PACKET);
      const start = Math.max(now, linkFreeAt);
      if (start - now > 100) {
        pending.push({ seq: s, arrival: undefined });
        continue;
      }
      linkFreeAt = start + (PACKET * 8 * 1000) / cap;
      pending.push({ seq: s, arrival: linkFreeAt + 20 });
    }
    sample(now, layer, cap);
  }
  return e;
}

t.test('a leg cut to layer 0 by a 3 s drop to 200 kbit/s is back on layer 2 in 10 s', async (t) => {
  const DROP = 5000;
  const BACK = DROP + 3000;
  let lowest = 2;
  let backOnTopAt: number | undefined;
  const e = simulate(
    (now) => (now >= DROP && now < BACK ? 200_000 : 3_000_000),
    BACK + 15_000,
    (now, layer) => {
      if (now >= DROP && now < BACK) lowest = Math.min(lowest, layer);
      if (now >= BACK && layer === 2) backOnTopAt ??= now;
    },
  );
  t.equal(lowest, 0, 'the leg fell to layer 0 during the drop');
  t.ok(
    backOnTopAt !== undefined && backOnTopAt - BACK <= 10_000,
    `back on layer 2 ${backOnTopAt === undefined ? 'never' : `${backOnTopAt - BACK} ms`} after` +
      ` the link recovered (${e.probes} probes, ${e.failedProbes} failed)`,
  );
});

t.test('on a link steady at 700 kbit/s the leg settles on layer 1, probing rarely', async (t) => {
  const MS = 60_000;
  let settled = 0;
  let over = 0;
  let samples = 0;
  const e = simulate(
    () => 700_000,
    MS,
    (now, layer, cap) => {
      if (now < 10_000) return;
      samples++;
      if (layer === 1) settled++;
      if (LAYERS[layer]! > cap) over++;
    },
  );
  t.ok(settled / samples >= 0.85, `on layer 1 ${Math.round((100 * settled) / samples)}% of time`);
  t.ok(over / samples <= 0.1, `above capacity ${Math.round((100 * over) / samples)}% of time`);
  t.ok(e.probes >= 2, `it kept probing upward (${e.probes} probes)`);
  t.ok(e.failedProbes >= 2, `and the probes failed (${e.failedProbes})`);
  t.ok(e.probes <= 10, 'with back-off between them');
});

t.test('without a clock the estimator does not probe (the old behaviour)', async (t) => {
  const e = new BandwidthEstimator(200_000);
  e.want(500_000);
  for (let i = 0; i < 10; i++) e.onSent(i, 100);
  const fb = transportCcFromArrivals({
    senderSsrc: 0,
    mediaSsrc: 0,
    baseSequence: 0,
    feedbackPacketCount: 0,
    arrivalsUs: Array.from({ length: 10 }, (_, i) => i * 10_000),
  });
  e.onTransportCc(fb);
  t.equal(e.estimate, 200_000);
  t.equal(e.probes, 0);
});

t.test(
  'through a Participant: the allocator asks for the next layer, the probe raises it',
  async (t) => {
    const { clock, join } = setup({ keyFrameRequestIntervalMs: 500 });
    const alice = join('alice');
    const bob = join('bob');
    const video = alice.participant.publish({
      ...VP8,
      encodings: [
        { ssrc: 100, maxBitrate: 150_000 },
        { ssrc: 200, maxBitrate: 500_000 },
        { ssrc: 300, maxBitrate: 1_200_000 },
      ],
    });
    for (const [i, ssrc] of [100, 200, 300].entries()) {
      alice.participant.receiveRtp(rtp({ ssrc, seq: i * 1000, ts: 0, payload: vp8(true) }));
    }
    const consumer = bob.participant.subscribe(video, { ssrc: 5000, payloadType: 96 });
    const est = bob.participant.bandwidth;
    let base = 0;
    /** Transport-cc feedback for ten packets, `lost` of them lost, 10 ms apart. */
    const feedback = (lost: number) => {
      const fb = transportCcFromArrivals({
        senderSsrc: 9,
        mediaSsrc: 0,
        baseSequence: base,
        feedbackPacketCount: 0,
        arrivalsUs: Array.from({ length: 10 }, (_, i) => (i < lost ? undefined : i * 10_000)),
      });
      base += 10;
      bob.participant.receiveRtcp(encodeRtcp([fb]));
    };
    for (let i = 0; i < 6 && est.estimate >= 500_000; i++) feedback(8);
    t.ok(est.estimate < 500_000, `cut by loss (${Math.round(est.estimate)})`);
    t.equal(consumer.targetLayer, 0, 'down to layer 0');
    for (let i = 0; i < 15; i++) {
      clock.t += 100;
      feedback(0);
    }
    t.equal(est.probes, 1, 'one probe after a second of clean feedback');
    t.equal(Math.round(est.estimate), 500_000, `to the next layer (${est.estimate})`);
    t.equal(consumer.targetLayer, 1, 'the consumer goes for layer 1 (at its next key frame)');
  },
);
