import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type PacketStatus,
  parseTransportCc,
  type RtcpPacket,
  type TransportCcFeedback,
  transportCcArrivals,
  transportCcFromArrivals,
} from '../../lib/rtcp/index.js';
import { Random } from '../helpers/prng.js';
import { hex } from './hex.js';

function decodeTwcc(bytes: Buffer): TransportCcFeedback {
  const r = decodeRtcp(bytes);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  const p: RtcpPacket = r.packets[0]!;
  if (p.kind !== 'transport-cc') throw new Error(`not transport-cc: ${p.kind}`);
  return p;
}

function statuses(base: number, deltasUs: (number | null)[]): PacketStatus[] {
  return deltasUs.map((d, i) => ({
    seq: (base + i) & 0xffff,
    received: d !== null,
    arrivalDeltaUs: d ?? 0,
  }));
}

/**
 * libwebrtc pads TWCC with the RTCP P bit; this builder zero-pads without it (so a message
 * can sit anywhere in a compound packet). The same bytes with the P bit and count cleared.
 */
function withoutRtcpPadding(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if (out[0]! & 0x20) {
    out[0]! &= ~0x20;
    out.fill(0, out.length - out[out.length - 1]!);
  }
  return out;
}

t.test('transport-cc: a feedback captured from Chrome (run-length chunk, small deltas)', (t) => {
  // olivermichel/webrtc-analysis test/include/data.h, twcc_pkt1 (Wireshark-annotated capture).
  const bytes = hex(`
    afcd0007 | 00000001 | dd586eb6 | 0001 0009 | 5e9110 00 | 2009 1c0c | 2c380004 | 00081801`);
  const fb = decodeTwcc(bytes);
  t.same(fb, {
    kind: 'transport-cc',
    senderSsrc: 1,
    mediaSsrc: 0xdd586eb6,
    baseSequence: 1,
    referenceTime: 6197520,
    feedbackPacketCount: 0,
    packets: statuses(1, [7000, 3000, 11000, 14000, 0, 1000, 0, 2000, 6000]),
  });
  t.same(encodeRtcp([fb]), withoutRtcpPadding(bytes), 'rebuilt with the same run-length chunk');
  t.end();
});

// The next vectors come from pion/rtcp transport_layer_cc_test.go (TestTransportLayerCC_Unmarshal).
t.test('transport-cc: pion example1, one packet with a small delta', (t) => {
  const bytes = hex('afcd0005 | fa17fa17 | 43032fa0 | 0099 0001 | 3de802 17 | 2001 94 01');
  const fb = decodeTwcc(bytes);
  t.equal(fb.baseSequence, 153);
  t.equal(fb.referenceTime, 4057090);
  t.equal(fb.feedbackPacketCount, 23);
  t.same(fb.packets, statuses(153, [37000]));
  t.same(encodeRtcp([fb]), withoutRtcpPadding(bytes));
  t.end();
});

t.test('transport-cc: pion example4, a run of seven small deltas', (t) => {
  const bytes = hex(`
    afcd0007 | fa17fa17 | 193dd8bb | 0004 0007 | 10636e 01 | 2007 4c24 | 24100c0c | 10000003`);
  const fb = decodeTwcc(bytes);
  t.equal(fb.referenceTime, 1074030);
  t.same(fb.packets, statuses(4, [19000, 9000, 9000, 4000, 3000, 3000, 4000]));
  t.same(encodeRtcp([fb]), withoutRtcpPadding(bytes));
  t.end();
});

t.test('transport-cc: pion example6, a 2-bit status vector, a loss and a large delta', (t) => {
  const bytes = hex(`
    afcd0007 | 9b74f61f | 9371dcbc | 853c 0009 | 63f916 b3 | d552 0030 | 9baa6aaa | 7b010901`);
  const fb = decodeTwcc(bytes);
  t.equal(fb.baseSequence, 34108);
  t.equal(fb.feedbackPacketCount, 179);
  t.same(fb.packets, statuses(34108, [38750, 42500, 26500, 42500, 30750, null, 66250, null, null]));
  // The capture's last chunk says "48 not received" where 2 are needed; ours says 2.
  const rebuilt = encodeRtcp([fb]);
  t.same(rebuilt.subarray(20, 24), hex('d552 0002'));
  t.same(decodeTwcc(rebuilt), fb);
  t.end();
});

t.test(
  'transport-cc: pion examples 3 and 5 (their P bit contradicts their length, cleared)',
  (t) => {
    const ex3 = parseTransportCc({
      type: 205,
      count: 15,
      view: hex('fa17fa17 | 193dd8bb | 0174 0006 | 45b15a 40 | 4002 2004 | 1ffe1f9a | d000d000'),
    });
    t.same(ex3?.packets, statuses(372, [2047500, 2022500, 52000, 0, 52000, 0]));
    const ex5 = parseTransportCc({
      type: 205,
      count: 15,
      view: hex('fa17fa17 | 193dd8bb | 0001 000e | 10636d 00 | ba00 100c | 0c100003'),
    });
    t.same(
      ex5?.packets,
      statuses(1, [
        4000,
        3000,
        3000,
        null,
        4000,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ]),
    );
    t.end();
  },
);

t.test('transport-cc: malformed feedback is rejected, never thrown', (t) => {
  const cases: [string, string][] = [
    // pion example8: three small deltas announced, one present (the last byte is padding).
    ['deltas truncated (pion example8)', 'afcd0005 fa17fa17 43032fa0 00990003 3de80217 2003 9401'],
    // pion example9: two large deltas announced, one byte present.
    [
      'large deltas truncated (pion example9)',
      'afcd0005 fa17fa17 43032fa0 00990002 3de80217 40029401',
    ],
    // pion example2 uses symbol 11, reserved by the draft (§3.1.1).
    [
      'reserved symbol in a 2-bit vector (pion example2)',
      'afcd0006 fa17fa17 193dd8bb 0174000e 45b15a40 d800f0ff d0000003',
    ],
    [
      'status count exceeding the chunks',
      '8fcd0005 00000001 00000002 00010020 00000001 2001 0a 00',
    ],
    ['no room for the fixed fields', '8fcd0003 00000001 00000002 00010000'],
  ];
  for (const [name, bytes] of cases) {
    const r = decodeRtcp(hex(bytes));
    t.equal(r.ok ? 'ok' : r.reason, 'malformed-transport-cc', name);
  }
  t.end();
});

t.test('transport-cc: the builder picks run-length, 1-bit and 2-bit chunks', (t) => {
  const base = { kind: 'transport-cc', senderSsrc: 1, mediaSsrc: 2 } as const;
  const chunksOf = (packets: PacketStatus[]): string => {
    const fb: TransportCcFeedback = {
      ...base,
      baseSequence: packets[0]?.seq ?? 0,
      referenceTime: -1,
      feedbackPacketCount: 255,
      packets,
    };
    const bytes = encodeRtcp([fb]);
    t.same(decodeTwcc(bytes), fb, 'round-trips');
    t.same(bytes.subarray(16, 20), hex('ffffffff'), 'reference time -1 is 24-bit two’s complement');
    return bytes.subarray(20, 20 + chunkCount(bytes, packets.length) * 2).toString('hex');
  };
  // 20 received with small deltas: one run-length chunk.
  t.equal(chunksOf(statuses(65530, Array(20).fill(250))), '2014', 'run of 20, across the wrap');
  // Alternating received/lost: 1-bit vectors of 14.
  const alternating = Array.from({ length: 16 }, (_, i) => (i % 2 ? null : 500));
  t.equal(chunksOf(statuses(10, alternating)), 'aaaaa000');
  // A large delta among small ones: a 2-bit vector of 7.
  t.equal(chunksOf(statuses(0, [250, -250, 250, null, 250, 250, 250])), 'd915');
  // Nothing at all.
  t.equal(chunksOf([]), '');
  t.end();
});

/** Counts the chunks at offset 20 needed to cover `count` statuses. */
function chunkCount(bytes: Buffer, count: number): number {
  let covered = 0;
  let n = 0;
  while (covered < count) {
    const chunk = bytes.readUInt16BE(20 + n * 2);
    covered += chunk & 0x8000 ? (chunk & 0x4000 ? 7 : 14) : chunk & 0x1fff;
    n++;
  }
  return n;
}

t.test('transport-cc: deltas round to 250 µs; out-of-range deltas and bad seqs are misuse', (t) => {
  const fb: TransportCcFeedback = {
    kind: 'transport-cc',
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSequence: 7,
    referenceTime: 0,
    feedbackPacketCount: 0,
    packets: statuses(7, [1100]),
  };
  t.same(decodeTwcc(encodeRtcp([fb])).packets, statuses(7, [1000]));
  t.throws(() => encodeRtcp([{ ...fb, packets: statuses(7, [8_192_250]) }]), TypeError);
  t.throws(() => encodeRtcp([{ ...fb, packets: statuses(8, [250]) }]), TypeError);
  t.end();
});

t.test('transport-cc: random feedback round-trips through build and parse', (t) => {
  const rnd = new Random(0x7cc);
  for (let iter = 0; iter < 2000; iter++) {
    const n = rnd.int(rnd.chance(0.1) ? 20000 : 60);
    const lossRate = rnd.next();
    const largeRate = rnd.next() * 0.3;
    const base = rnd.int(65536);
    const packets: PacketStatus[] = [];
    for (let i = 0; i < n; i++) {
      const received = rnd.next() >= lossRate;
      const units = rnd.chance(largeRate) ? rnd.int(65536) - 32768 : rnd.int(256);
      packets.push({
        seq: (base + i) & 0xffff,
        received,
        arrivalDeltaUs: received ? units * 250 : 0,
      });
    }
    const fb: TransportCcFeedback = {
      kind: 'transport-cc',
      senderSsrc: rnd.int(2 ** 32),
      mediaSsrc: rnd.int(2 ** 32),
      baseSequence: base,
      referenceTime: rnd.int(1 << 24) - (1 << 23),
      feedbackPacketCount: rnd.int(256),
      packets,
    };
    const back = decodeRtcp(encodeRtcp([fb]));
    if (!back.ok || JSON.stringify(back.packets[0]) !== JSON.stringify(fb)) {
      t.fail(`seed 0x7cc iteration ${iter} did not round-trip`);
      return t.end();
    }
  }
  t.pass('2000 random feedback messages round-tripped');
  t.end();
});

t.test('transport-cc: feedback from arrival times, and arrival times from feedback', (t) => {
  const arrivalsUs = [1_000_000_100, undefined, 1_000_001_300, 1_000_001_300, 999_990_000];
  const fb = transportCcFromArrivals({
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSequence: 65535,
    feedbackPacketCount: 9,
    arrivalsUs,
  });
  t.equal(fb.referenceTime, Math.floor(1_000_000_100 / 64_000));
  t.same(
    fb.packets.map((p) => p.seq),
    [65535, 0, 1, 2, 3],
  );
  const back = transportCcArrivals(decodeTwcc(encodeRtcp([fb])));
  t.equal(back[1], undefined, 'a lost packet has no arrival time');
  for (const i of [0, 2, 3, 4]) {
    t.ok(Math.abs(back[i]! - arrivalsUs[i]!) <= 125, `packet ${i} within half a delta unit`);
  }
  t.ok(fb.packets[4]!.arrivalDeltaUs < 0, 'a reordered packet gets a negative (large) delta');
  t.throws(() => transportCcFromArrivals({ ...fb, arrivalsUs: [undefined] }), TypeError);
  t.end();
});

t.test('transport-cc: rounding does not drift over a long message', (t) => {
  // 1,000 packets 333 µs apart: each delta rounds, the running sum must not wander off.
  const arrivalsUs = Array.from({ length: 1000 }, (_, i) => 64_000 * 10 + i * 333);
  const fb = transportCcFromArrivals({
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSequence: 0,
    feedbackPacketCount: 0,
    arrivalsUs,
  });
  const back = transportCcArrivals(decodeTwcc(encodeRtcp([fb])));
  t.ok(Math.abs(back[999]! - arrivalsUs[999]!) <= 125);
  t.end();
});
