/**
 * TransportCcWriter (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) writes the same
 * bytes as `encodeRtcp([transportCcFromArrivals(...)])`, and the SFU's feedback to publishers
 * (`TransportCcFeedbackGenerator.pollRtcp`) the same datagram as `encodeRtcp(poll(...))`,
 * with no garbage per packet status.
 */
import t from 'tap';
import { sampleAllocations } from '../../bench/sfu/heap-sampler.js';
import {
  encodeRtcp,
  TransportCcReader,
  TransportCcWriter,
  transportCcFromArrivals,
} from '../../lib/rtcp/index.js';
import { TransportCcFeedbackGenerator } from '../../lib/sfu/transport-cc-feedback.js';
import { Random } from '../helpers/prng.js';

function written(w: TransportCcWriter, ssrcs: [number, number], base: number, n: number) {
  const out = Buffer.alloc(w.size() + 8, 0xee);
  const size = w.write(out, 4, ssrcs[0], ssrcs[1], base, n);
  return { out, size };
}

t.test('transport-cc writer: the encoder’s bytes for random arrivals', (t) => {
  const rnd = new Random(0x3717e5);
  const w = new TransportCcWriter(4);
  let same = 0;
  for (let iter = 0; iter < 1500; iter++) {
    const n = 1 + rnd.int(rnd.chance(0.05) ? 2000 : 60);
    const loss = rnd.chance(0.3) ? rnd.next() : 0;
    const jumps = rnd.next() * 0.3;
    const runs = rnd.chance(0.5);
    let clock = rnd.int(2 ** 42) - 2 ** 41;
    const arrivalsUs: (number | undefined)[] = [];
    w.reset();
    for (let i = 0; i < n; i++) {
      if (runs && rnd.chance(0.1)) {
        // A paced run: identical small deltas, or a run of losses.
        const lost = rnd.chance(0.3);
        for (let k = 0, len = rnd.int(40); k < len && i < n - 1; k++, i++) {
          clock += 1000;
          arrivalsUs.push(lost && i > 0 ? undefined : clock);
        }
      }
      clock += rnd.chance(jumps) ? rnd.int(8_000_000) - 4_000_000 : rnd.int(40_000) + rnd.next();
      // Deltas must fit 16 bits of 250 µs (±8.19 s) from the last received packet.
      const last = arrivalsUs.findLast((x) => x !== undefined) ?? clock;
      clock = Math.min(Math.max(clock, last - 8_000_000), last + 8_000_000);
      arrivalsUs.push(i > 0 && rnd.chance(loss) ? undefined : clock);
    }
    for (const a of arrivalsUs) w.push(a ?? Number.NaN);
    const ssrcs: [number, number] = [rnd.int(2 ** 32), rnd.int(2 ** 32)];
    const base = rnd.int(65536);
    const count = rnd.int(256);
    const expected = encodeRtcp([
      transportCcFromArrivals({
        senderSsrc: ssrcs[0],
        mediaSsrc: ssrcs[1],
        baseSequence: base,
        feedbackPacketCount: count,
        arrivalsUs,
      }),
    ]);
    const { out, size } = written(w, ssrcs, base, count);
    const untouched =
      out.readUInt32BE(0) === 0xeeeeeeee && out.readUInt32BE(4 + size) === 0xeeeeeeee;
    if (size !== expected.length || !out.subarray(4, 4 + size).equals(expected) || !untouched) {
      t.fail(
        `iteration ${iter}: ${out.subarray(4, 4 + size).toString('hex')} != ${expected.toString('hex')}`,
      );
      return t.end();
    }
    same++;
  }
  t.equal(same, 1500, 'byte for byte, nothing written outside the message');
  t.end();
});

t.test('transport-cc writer: misuse throws', (t) => {
  const w = new TransportCcWriter();
  w.push(Number.NaN);
  t.throws(() => w.size(), TypeError, 'no received packet');
  w.reset();
  w.push(0);
  w.push(9_000_000);
  t.throws(() => w.size(), TypeError, 'a delta over 16 bits of 250 µs');
  w.reset();
  w.push(64_000);
  t.throws(() => w.write(Buffer.alloc(8), 0, 1, 2, 3, 4), RangeError, 'a buffer too small');
  t.throws(() => new TransportCcWriter(0), TypeError);
  t.end();
});

/** Two generators fed the same packets: one polled with poll + encodeRtcp, one with pollRtcp. */
t.test('feedback to publishers: pollRtcp is encodeRtcp(poll) byte for byte', (t) => {
  const rnd = new Random(0xfeed);
  const a = new TransportCcFeedbackGenerator(50);
  const b = new TransportCcFeedbackGenerator(50);
  let seq = 65000;
  let now = 1000.25;
  let datagrams = 0;
  let messages = 0;
  for (let step = 0; step < 3000; step++) {
    const burst = rnd.chance(0.02) ? 900 : rnd.int(30);
    for (let k = 0; k < burst; k++) {
      now += rnd.chance(0.01) ? 9000 : rnd.next() * 3;
      const s = rnd.chance(0.05) ? seq - rnd.int(20) : seq++;
      if (rnd.chance(0.05)) continue; // lost
      a.record(s & 0xffff, 0x1234, now);
      b.record(s & 0xffff, 0x1234, now);
    }
    now += rnd.next() * 30;
    const expected = a.poll(now, 0x5678);
    const got = b.pollRtcp(now, 0x5678);
    if (expected.length === 0) {
      if (got !== undefined) {
        t.fail(`step ${step}: pollRtcp wrote feedback that poll did not give`);
        return t.end();
      }
      continue;
    }
    if (got === undefined || !got.equals(encodeRtcp(expected))) {
      t.fail(`step ${step}: the datagrams differ`);
      return t.end();
    }
    datagrams++;
    messages += expected.length;
  }
  t.ok(datagrams > 500, `${datagrams} datagrams of ${messages} messages, the same bytes`);
  t.ok(messages > datagrams, 'some split in messages of 400 statuses');
  t.end();
});

t.test('feedback to publishers: no garbage per packet status', (t) => {
  const g = new TransportCcFeedbackGenerator(50);
  const reader = new TransportCcReader();
  // seq, now (ms), statuses acknowledged, bytes sent: in a typed array, so the loop's own
  // arithmetic boxes no numbers.
  const st = new Float64Array(4);
  const round = () => {
    for (let i = 0; i < 40; i++) {
      st[1] += 1.25;
      if (i % 17 !== 5) g.record(st[0]! & 0xffff, 1234, st[1]!);
      st[0]++;
    }
    const d = g.pollRtcp(st[1]!, 99);
    if (d !== undefined) {
      st[3] += d.length;
      if (reader.readAlone(d) === undefined) st[2] += reader.count;
    }
  };
  for (let i = 0; i < 3000; i++) round();
  const before = st[2]!;
  const profile = sampleAllocations(() => {
    for (let i = 0; i < 3000; i++) round();
  }, 256);
  const statuses = st[2]! - before;
  const per = profile.bytes / statuses;
  // Before pollRtcp (poll + encodeRtcp): ~260 B per status. Now the datagram it sends.
  t.ok(
    per < 8,
    `${per.toFixed(1)} B per status acknowledged (${st[3]} B sent): ${JSON.stringify(profile.sites.slice(0, 4))}`,
  );
  t.end();
});
