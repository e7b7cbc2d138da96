import t from 'tap';
import { parseRtp, RtpPacket, writeRtp } from '../../lib/rtp/rtp-packet.js';

// Built by hand from the RFC 3550 §5.1 header diagram:
// V=2 P=0 X=0 CC=2 | M=1 PT=96 | seq 0x1234 | ts 0xdeadbeef | SSRC 0x11223344 | 2 CSRCs | payload
const handBuilt = Buffer.from(
  '82' + 'e0' + '1234' + 'deadbeef' + '11223344' + 'aabbccdd' + '01020304' + 'cafe0001',
  'hex',
);

function parsed(buf: Uint8Array, offset?: number, length?: number): RtpPacket {
  const r = parseRtp(buf, offset, length);
  if (!r.ok) throw new Error(`expected RTP, got ${r.reason}`);
  return r.packet;
}

t.test('every fixed-header field reads as the §5.1 diagram lays it out', async (t) => {
  const p = parsed(handBuilt);
  t.equal(p.version, 2);
  t.equal(p.padding, false);
  t.equal(p.extension, false);
  t.equal(p.csrcCount, 2);
  t.equal(p.marker, true);
  t.equal(p.payloadType, 96);
  t.equal(p.sequenceNumber, 0x1234);
  t.equal(p.timestamp, 0xdeadbeef);
  t.equal(p.ssrc, 0x11223344);
  t.equal(p.csrc(0), 0xaabbccdd);
  t.equal(p.csrc(1), 0x01020304);
  t.equal(p.csrc(2), undefined);
  t.equal(p.headerLength, 20);
  t.equal(p.payloadOffset, 20);
  t.equal(p.payloadLength, 4);
  t.same(Buffer.from(p.payload()), Buffer.from('cafe0001', 'hex'));
  t.equal(p.extensionProfile, -1);
});

t.test('the writer produces the hand-built bytes exactly', async (t) => {
  const out = Buffer.alloc(64, 0xff);
  const n = writeRtp(
    out,
    3,
    {
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x11223344,
      marker: true,
      csrcs: [0xaabbccdd, 0x01020304],
    },
    Buffer.from('cafe0001', 'hex'),
  );
  t.equal(n, handBuilt.length);
  t.same(out.subarray(3, 3 + n), handBuilt);
  t.equal(out[2], 0xff, 'nothing before offset is touched');
  t.equal(out[3 + n], 0xff, 'nothing after the packet is touched');
});

t.test('a packet is parsed at an offset inside a larger buffer without copying', async (t) => {
  const big = Buffer.concat([Buffer.from('00000000', 'hex'), handBuilt, Buffer.alloc(8)]);
  const p = parsed(big, 4, handBuilt.length);
  t.equal(p.buffer, big, 'the view keeps the received buffer');
  t.equal(p.payloadOffset, 24);
  t.equal(p.payloadLength, 4);
  big[24] = 0x55;
  t.equal(p.payload()[0], 0x55, 'the payload is a view, not a copy');
});

t.test(
  'setters rewrite payload type, sequence number, timestamp, SSRC and marker in place',
  async (t) => {
    const buf = Buffer.from(handBuilt);
    const p = parsed(buf);
    p.payloadType = 111;
    p.sequenceNumber = 0xfffe;
    p.timestamp = 0xffffffff;
    p.ssrc = 0x80000001;
    p.marker = false;
    t.equal(buf.toString('hex', 0, 12), '826ffffeffffffff80000001');
    t.equal(p.payloadType, 111);
    t.equal(p.marker, false);
    p.marker = true;
    t.equal(buf[1], 0xef, 'marker set keeps the payload type');
    t.equal(buf.toString('hex', 12), handBuilt.toString('hex', 12), 'CSRCs and payload untouched');
    t.throws(() => {
      p.payloadType = 128;
    }, RangeError);
  },
);

t.test(
  'padding (§5.1 P bit): the last octet counts itself and is excluded from the payload',
  async (t) => {
    const out = Buffer.alloc(64);
    const n = writeRtp(
      out,
      0,
      { payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, padding: 4 },
      Buffer.from('abcdef', 'hex'),
    );
    t.equal(n, 12 + 3 + 4);
    t.equal(out.toString('hex', 0, n), 'a0000001000000020000000' + '3abcdef00000004');
    const p = parsed(out, 0, n);
    t.equal(p.padding, true);
    t.equal(p.paddingLength, 4);
    t.equal(p.payloadLength, 3);
    // A padding-only packet (as sent for bandwidth probing) has an empty payload.
    const only = Buffer.from('a0000001000000020000000300000000000000000000000000000010', 'hex');
    const q = parsed(only);
    t.equal(q.payloadLength, 0);
    t.equal(q.paddingLength, 16);
  },
);

t.test('a header extension block is located and skipped to reach the payload', async (t) => {
  // X=1, profile 0xBEDE, length 1 word, one element id 1 len 1 value 0x7f, 2 padding bytes.
  const buf = Buffer.from('900000010000000200000003bede0001107f0000' + '99', 'hex');
  const p = parsed(buf);
  t.equal(p.extension, true);
  t.equal(p.extensionProfile, 0xbede);
  t.equal(p.extensionOffset, 16);
  t.equal(p.extensionLength, 4);
  t.equal(p.payloadOffset, 20);
  t.equal(p.payloadLength, 1);
  t.same(p.getExtension(1), Buffer.from('7f', 'hex'));
  t.equal(p.getExtension(2), undefined);
});

const malformed: [name: string, hex: string, reason: string][] = [
  ['an empty buffer is too-short', '', 'too-short'],
  ['an 11-byte header is too-short', '8000000100000002000000', 'too-short'],
  ['version 1 is bad-version', '400000010000000200000003', 'bad-version'],
  ['version 0 is bad-version', '000000010000000200000003', 'bad-version'],
  ['CC=15 with no CSRCs is csrc-overflow', '8f0000010000000200000003', 'csrc-overflow'],
  ['CC=2 with one CSRC is csrc-overflow', '82000001000000020000000300000004', 'csrc-overflow'],
  [
    'X set with no extension header is extension-truncated',
    '900000010000000200000003bede',
    'extension-truncated',
  ],
  [
    'an extension length past the end is extension-overflow',
    '900000010000000200000003bede000211110000',
    'extension-overflow',
  ],
  ['a zero padding count is bad-padding', 'a0000001000000020000000300', 'bad-padding'],
  [
    'padding larger than the payload is padding-overflow',
    'a000000100000002000000030005',
    'padding-overflow',
  ],
  [
    'padding eating into the header is padding-overflow',
    'a0000001000000020000000d',
    'padding-overflow',
  ],
];

t.test('malformed packets are refused with a reason, never thrown', async (t) => {
  for (const [name, hex, reason] of malformed) {
    t.same(parseRtp(Buffer.from(hex, 'hex')), { ok: false, reason }, name);
  }
});

t.test('a length shorter than the buffer bounds the packet', async (t) => {
  const r = parseRtp(handBuilt, 0, 19);
  t.same(r, { ok: false, reason: 'csrc-overflow' });
  t.throws(() => parseRtp(handBuilt, 10, 100), RangeError, 'offset/length outside is misuse');
});

t.test('one view parses many packets (no allocation per packet)', async (t) => {
  const view = new RtpPacket();
  t.equal(view.parse(handBuilt), undefined);
  t.equal(view.sequenceNumber, 0x1234);
  t.equal(view.parse(Buffer.from('400000010000000200000003', 'hex')), 'bad-version');
  t.equal(view.parse(Buffer.from('80000007000000020000000301', 'hex')), undefined);
  t.equal(view.sequenceNumber, 7);
  t.equal(view.extensionProfile, -1, 'state from an earlier packet does not leak');
  t.equal(view.paddingLength, 0);
});

t.test('the writer refuses what it cannot write', async (t) => {
  const f = { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 };
  t.throws(() => writeRtp(Buffer.alloc(11), 0, f), RangeError);
  t.throws(() => writeRtp(Buffer.alloc(13), 0, f, Buffer.alloc(2)), RangeError);
  t.throws(() => writeRtp(Buffer.alloc(99), 0, { ...f, csrcs: new Array(16).fill(1) }), RangeError);
  t.throws(() => writeRtp(Buffer.alloc(99), 0, { ...f, padding: 256 }), RangeError);
  t.throws(() => writeRtp(Buffer.alloc(99), 0, { ...f, payloadType: 200 }), RangeError);
});
