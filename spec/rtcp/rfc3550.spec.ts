import t from 'tap';
import {
  compactNtp,
  decodeRtcp,
  encodeRtcp,
  type Goodbye,
  isRtcp,
  parseCompound,
  type ReceiverReport,
  type RtcpPacket,
  SdesItemType,
  type SenderReport,
  type SourceDescription,
  senderReportEncoder,
  toBuffer,
  writeRtcp,
} from '../../lib/rtcp/index.js';
import { hex } from './hex.js';

function decodeOne(buf: Buffer): RtcpPacket {
  const r = decodeRtcp(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  if (r.packets.length !== 1) throw new Error(`expected one packet, got ${r.packets.length}`);
  return r.packets[0]!;
}

// RFC 3550 §6.4.1 layout, one report block.
const SR_BYTES = hex(`
  81c8000c | 12345678 | e93c2f1a 80000000 | 0001e240 | 00000064 | 00003e80
  9abcdef0 | 40 fffffe | 00010005 | 00000010 | 2f1a8000 | 00010000`);

const SR: SenderReport = {
  kind: 'sr',
  ssrc: 0x12345678,
  ntpTime: 0xe93c2f1a80000000n,
  rtpTimestamp: 123456,
  packetCount: 100,
  octetCount: 16000,
  reports: [
    {
      ssrc: 0x9abcdef0,
      fractionLost: 64,
      cumulativeLost: -2,
      highestSequence: 0x00010005,
      jitter: 16,
      lastSenderReport: 0x2f1a8000,
      delaySinceLastSenderReport: 65536,
    },
  ],
};

t.test('RFC 3550 §6.4.1: a sender report with one report block decodes and re-encodes', (t) => {
  t.same(decodeOne(SR_BYTES), SR);
  t.same(encodeRtcp([SR]), SR_BYTES);
  t.same(toBuffer(senderReportEncoder, SR), SR_BYTES);
  t.equal(compactNtp(SR.ntpTime), 0x2f1a8000, 'LSR is the middle 32 bits of the NTP time');
  t.end();
});

t.test('RFC 3550 §6.4.1: cumulative lost is signed 24-bit, clamped when built', (t) => {
  const out = encodeRtcp([{ ...SR, reports: [{ ...SR.reports[0]!, cumulativeLost: -1e9 }] }]);
  t.equal(out.readIntBE(4 + 24 + 5, 3), -0x800000);
  const max = encodeRtcp([{ ...SR, reports: [{ ...SR.reports[0]!, cumulativeLost: 1e9 }] }]);
  const back = decodeOne(max) as SenderReport;
  t.equal(back.reports[0]!.cumulativeLost, 0x7fffff);
  t.end();
});

t.test('RFC 3550 §6.4.2: an empty receiver report (RR with no blocks) round-trips', (t) => {
  const bytes = hex('80c90001 | 00000001');
  const rr: ReceiverReport = { kind: 'rr', ssrc: 1, reports: [] };
  t.same(decodeOne(bytes), rr);
  t.same(encodeRtcp([rr]), bytes);
  t.end();
});

t.test('RFC 3550 §6.4.2: a receiver report keeps its profile-specific extension', (t) => {
  const bytes = hex(`
    81c90009 | 00000001 | 00000002 | 00 000003 | 0000ffff | 00000004 | 00000005 | 00000006
    cafebabe | 01020304`);
  const rr = decodeOne(bytes) as ReceiverReport;
  t.equal(rr.reports.length, 1);
  t.equal(rr.reports[0]!.cumulativeLost, 3);
  t.same(rr.extension, hex('cafebabe 01020304'));
  t.same(encodeRtcp([rr]), bytes);
  t.end();
});

// RFC 3550 §6.5: chunk = SSRC, items, a null octet, then zeros to the next 32-bit boundary.
// CNAME "user@host" is 9 bytes: 4 + 2 + 9 + 1 = 16, no further padding.
const SDES_BYTES = hex(`
  81ca0005 | 12345678 | 0109 75736572 40686f73 74 00 | 00000000`);

t.test('RFC 3550 §6.5: an SDES CNAME chunk is null-terminated and padded to 32 bits', (t) => {
  // The chunk above has one extra word of zeros: still valid, the parser skips to the end.
  const short = hex('81ca0004 | 12345678 | 0109 75736572 40686f73 74 00');
  const sdes: SourceDescription = {
    kind: 'sdes',
    chunks: [{ ssrc: 0x12345678, items: [{ type: SdesItemType.CNAME, text: 'user@host' }] }],
  };
  t.same(decodeOne(short), sdes);
  t.same(encodeRtcp([sdes]), short);
  t.same(decodeOne(SDES_BYTES), sdes, 'an extra word of zero padding is tolerated');
  t.end();
});

t.test('RFC 3550 §6.5: two chunks, the first padded with three zero octets', (t) => {
  const sdes: SourceDescription = {
    kind: 'sdes',
    chunks: [
      { ssrc: 1, items: [{ type: SdesItemType.CNAME, text: 'ab' }] }, // 4+2+2+1 → 12
      {
        ssrc: 2,
        items: [
          { type: SdesItemType.CNAME, text: 'héllo' },
          { type: SdesItemType.TOOL, text: 'rtcd' },
        ],
      },
    ],
  };
  const bytes = encodeRtcp([sdes]);
  t.same(bytes.subarray(0, 16), hex('82ca0008 | 00000001 | 01026162 00000000'));
  t.same(decodeOne(bytes), sdes);
  t.end();
});

t.test('RFC 3550 §6.5: a chunk without its null terminator is malformed', (t) => {
  const r = decodeRtcp(hex('81ca0002 | 00000001 | 01026162'));
  t.same(r, { ok: false, reason: 'malformed-sdes', type: 202, count: 1 });
  t.end();
});

t.test('RFC 3550 §6.6: BYE with and without a reason', (t) => {
  const plain = hex('82cb0002 | 00000001 | 00000002');
  t.same(decodeOne(plain), { kind: 'bye', ssrcs: [1, 2] });
  t.same(encodeRtcp([{ kind: 'bye', ssrcs: [1, 2] }]), plain);
  // "done" = 4 bytes: length octet + 4 + 3 zeros = 8.
  const withReason = hex('81cb0003 | 00000007 | 04646f6e 65000000');
  const bye: Goodbye = { kind: 'bye', ssrcs: [7], reason: 'done' };
  t.same(decodeOne(withReason), bye);
  t.same(encodeRtcp([bye]), withReason);
  t.same(decodeRtcp(hex('81cb0002 | 00000007 | 09646f6e')), {
    ok: false,
    reason: 'malformed-bye',
    type: 203,
    count: 1,
  });
  t.end();
});

t.test('RFC 3550 §6.7: APP with subtype, name and data', (t) => {
  const bytes = hex('85cc0003 | 0000abcd | 52544344 | 01020304');
  const app = decodeOne(bytes);
  t.same(app, {
    kind: 'app',
    subtype: 5,
    ssrc: 0xabcd,
    name: 'RTCD',
    data: hex('01020304'),
  });
  t.same(encodeRtcp([app]), bytes);
  t.throws(
    () => encodeRtcp([{ kind: 'app', subtype: 0, ssrc: 0, name: 'TOOLONG', data: hex('') }]),
    TypeError,
  );
  t.end();
});

t.test('RFC 3550 §6.1: unknown packet types pass through as raw and re-encode', (t) => {
  const bytes = hex('80c90001 | 00000001 | 83c00002 | 01020304 05060708');
  const r = decodeRtcp(bytes);
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.same(r.packets[1], { kind: 'unknown', type: 0xc0, count: 3, view: hex('01020304 05060708') });
  t.same(encodeRtcp(r.packets), bytes);
  t.end();
});

t.test('RFC 3550 §6.4.1: padding on the last packet is stripped before decoding', (t) => {
  // RR with 4 bytes of padding (P bit, count in the last octet).
  const r = parseCompound(hex('a0c90002 | 00000009 | 00000004'));
  t.ok(r.ok);
  if (r.ok) t.same(r.packets[0]!.view, hex('00000009'));
  t.end();
});

t.test(
  'RFC 3550 Appendix A.2: malformed datagrams are rejected with a reason, never thrown',
  (t) => {
    const cases: [string, string, string][] = [
      ['fewer than 4 bytes', '80c9', 'too-short'],
      ['version 1', '40c90001 | 00000001', 'bad-version'],
      [
        'a second packet with version 0',
        '80c90001 | 00000001 | 00c90001 | 00000001',
        'bad-version',
      ],
      ['length beyond the buffer', '80c90004 | 00000001', 'length-overflow'],
      ['trailing bytes shorter than a header', '80c90001 | 00000001 | 80', 'too-short'],
      ['padding bigger than the packet', 'a0c90001 | 00000009', 'bad-padding'],
      ['padding count of zero', 'a0c90001 | 00000000', 'bad-padding'],
      [
        'padding on a packet that is not last',
        'a0c90002 | 00000009 | 00000004 | 80c90001 | 00000001',
        'padding-not-last',
      ],
      [
        'SR too short for its report count',
        `81c80006 | 00000001 ${'00'.repeat(20)}`,
        'malformed-sr',
      ],
    ];
    for (const [name, bytes, reason] of cases) {
      const r = decodeRtcp(hex(bytes));
      t.equal(r.ok ? 'ok' : r.reason, reason, name);
    }
    t.end();
  },
);

t.test('RFC 3550 §6.1: a compound SR + SDES + REMB decodes in order', (t) => {
  const sdes: SourceDescription = {
    kind: 'sdes',
    chunks: [{ ssrc: SR.ssrc, items: [{ type: SdesItemType.CNAME, text: 'rtcd' }] }],
  };
  const packets: RtcpPacket[] = [
    SR,
    sdes,
    { kind: 'remb', senderSsrc: SR.ssrc, mediaSsrc: 0, bitrate: 1_500_000, ssrcs: [0xaaaa] },
  ];
  const bytes = encodeRtcp(packets);
  t.equal(bytes.length, 52 + 16 + 24);
  const r = decodeRtcp(bytes);
  t.same(r, { ok: true, packets, reducedSize: false });
  const out = Buffer.alloc(bytes.length + 10);
  t.equal(writeRtcp(packets, out, 10), bytes.length);
  t.same(out.subarray(10), bytes);
  t.same(decodeRtcp(out, 10), r, 'decodes by offset too');
  t.end();
});

t.test('RFC 3550 §6.1: without rtcp-rsize, a datagram must start with SR or RR', (t) => {
  const pli = hex('81ce0002 | 00000001 | 00000002');
  t.same(decodeRtcp(pli, 0, pli.length, { allowReducedSize: false }), {
    ok: false,
    reason: 'not-compound',
  });
  t.end();
});

t.test('RFC 5761 §4: isRtcp tells RTCP from RTP on a shared port', (t) => {
  t.ok(isRtcp(SR_BYTES));
  t.ok(isRtcp(hex('81ce0002')), 'PSFB (206)');
  t.notOk(isRtcp(hex('80600001 00000000 00000000')), 'RTP with payload type 96');
  t.notOk(isRtcp(hex('00010000')), 'STUN');
  t.notOk(isRtcp(hex('81c8')), 'too short');
  t.end();
});

t.test('writeRtcp refuses a buffer too small, before writing anything', (t) => {
  const out = Buffer.alloc(SR_BYTES.length - 4);
  t.throws(() => writeRtcp([SR], out, 0), RangeError);
  t.ok(out.every((b) => b === 0));
  t.throws(() => writeRtcp([SR], Buffer.alloc(100), 60), RangeError, 'offset counts');
  t.end();
});

t.test(
  'RFC 3550 §6.1: a compound packet from a capture decodes and re-encodes byte for byte',
  (t) => {
    // pion/rtcp packet_test.go realPacket() ("an RTCP packet from a packet dump"):
    // RR, SDES CNAME, BYE, PLI, RTPFB FMT 5 (rapid resync, unknown here), APP.
    const bytes = hex(`
    81c90007 902f9e2e bc5e9a40 00000000 000046e1 00000111 09f36432 00024a79
    81ca000c 902f9e2e 0126 7b396330 30656239 322d3161 66622d39 6434392d 61343764
      2d393166 36346565 65363966 357d 00000000
    81cb0001 902f9e2e
    81ce0002 902f9e2e 902f9e2e
    85cd0002 902f9e2e 902f9e2e
    80cc0003 4baae1ab 4e414d45 41424344`);
    const r = decodeRtcp(bytes);
    if (!r.ok) {
      t.fail(r.reason);
      return t.end();
    }
    t.equal(r.reducedSize, false);
    t.same(
      r.packets.map((p) => p.kind),
      ['rr', 'sdes', 'bye', 'pli', 'unknown', 'app'],
    );
    t.same(r.packets[0], {
      kind: 'rr',
      ssrc: 0x902f9e2e,
      reports: [
        {
          ssrc: 0xbc5e9a40,
          fractionLost: 0,
          cumulativeLost: 0,
          highestSequence: 0x46e1,
          jitter: 273,
          lastSenderReport: 0x09f36432,
          delaySinceLastSenderReport: 150137,
        },
      ],
    });
    t.same(r.packets[1], {
      kind: 'sdes',
      chunks: [
        {
          ssrc: 0x902f9e2e,
          items: [{ type: SdesItemType.CNAME, text: '{9c00eb92-1afb-9d49-a47d-91f64eee69f5}' }],
        },
      ],
    });
    t.same(encodeRtcp(r.packets), bytes);
    t.end();
  },
);
