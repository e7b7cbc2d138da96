import t from 'tap';
import {
  readAbsSendTime,
  readDependencyDescriptor,
  readSdesString,
  readTransportSequenceNumber,
  writeTransportSequenceNumber,
} from '../../lib/rtp/extension-values.js';
import {
  ExtensionElement,
  extensionsSize,
  findExtension,
  forEachExtension,
  type HeaderExtension,
  isTwoByteProfile,
  nextExtension,
  rewriteExtensionIds,
  writeExtensions,
} from '../../lib/rtp/header-extensions.js';
import { parseRtp, type RtpPacket, writeRtp } from '../../lib/rtp/rtp-packet.js';

function parsed(buf: Uint8Array): RtpPacket {
  const r = parseRtp(buf);
  if (!r.ok) throw new Error(`expected RTP, got ${r.reason}`);
  return r.packet;
}

function elements(p: RtpPacket): [number, string][] {
  const out: [number, string][] = [];
  forEachExtension(p, (id, offset, length) => {
    out.push([id, Buffer.from(p.buffer.subarray(offset, offset + length)).toString('hex')]);
  });
  return out;
}

// Headers of RTP packets sent by Chrome, captured and decoded with Wireshark in
// olivermichel/webrtc-analysis test/include/data.h (rtp_pkt1, rtp_pkt2, rtp_pkt3).
const chromeOneByte = Buffer.from(
  '902d1a5fd4090549f7b16e83bede0003' + '22f34350' + '41009b' + 'd2810045' + '00',
  'hex',
);
const chromeOneByteMany = Buffer.from(
  '90ad19d4d405e797f7b16e83bede0008' +
    '22ea432b' +
    '410004' +
    '9030' +
    '3000' +
    '6002' +
    '7c0100030009000a002300000000' +
    'd2400001' +
    '00',
  'hex',
);
const chromeTwoByte = Buffer.from(
  '902d61c5950a0fee8d3814e510000011' +
    '020303f7ae' +
    '04020002' +
    '090130' +
    '030100' +
    '060102' +
    '070d01000100070007000a00000000' +
    '0d21c000018003187aaaf130a0a014d1413823046008642222265009f0077013f00ef0',
  'hex',
);

t.test(
  'a captured Chrome packet with one-byte extensions (§4.2) reads as Wireshark decoded it',
  async (t) => {
    const p = parsed(chromeOneByte);
    t.equal(p.payloadType, 45);
    t.equal(p.sequenceNumber, 6751);
    t.equal(p.timestamp, 3557360969);
    t.equal(p.ssrc, 0xf7b16e83);
    t.equal(p.extensionProfile, 0xbede);
    t.equal(p.extensionLength, 12);
    t.equal(p.payloadLength, 0);
    t.same(elements(p), [
      [2, 'f34350'],
      [4, '009b'],
      [13, '810045'],
    ]);
    const el = new ExtensionElement();
    t.ok(findExtension(p, 2, el));
    t.equal(readAbsSendTime(p.buffer, el.offset, el.length), 0xf34350, 'abs-send-time (id 2)');
    t.ok(findExtension(p, 4, el));
    t.equal(
      readTransportSequenceNumber(p.buffer, el.offset, el.length),
      155,
      'transport-cc (id 4)',
    );
    t.notOk(findExtension(p, 5, el));
  },
);

t.test('a captured Chrome key frame header with seven one-byte elements', async (t) => {
  const p = parsed(chromeOneByteMany);
  t.equal(p.marker, true);
  t.equal(p.sequenceNumber, 6612);
  t.same(elements(p), [
    [2, 'ea432b'],
    [4, '0004'],
    [9, '30'],
    [3, '00'],
    [6, '02'],
    [7, '0100030009000a002300000000'],
    [13, '400001'],
  ]);
  const el = new ExtensionElement();
  t.ok(findExtension(p, 9, el));
  t.equal(readSdesString(p.buffer, el.offset, el.length), '0', 'sdes:mid (id 9) is "0"');
});

t.test(
  'a captured Chrome packet with two-byte extensions (§4.3) carries a 33-byte AV1 DD',
  async (t) => {
    const p = parsed(chromeTwoByte);
    t.equal(p.extensionProfile, 0x1000);
    t.ok(isTwoByteProfile(p.extensionProfile));
    t.equal(p.extensionLength, 68);
    t.equal(p.sequenceNumber, 25029);
    t.equal(p.ssrc, 0x8d3814e5);
    const got = elements(p);
    t.same(
      got.map(([id]) => id),
      [2, 4, 9, 3, 6, 7, 13],
    );
    const el = new ExtensionElement();
    t.ok(findExtension(p, 13, el));
    t.equal(el.length, 33);
    const dd = readDependencyDescriptor(p.buffer, el.offset, el.length);
    t.equal(Buffer.from(dd).toString('hex').slice(0, 8), 'c0000180');
    t.equal(dd.buffer, p.buffer.buffer, 'the descriptor is a view, not a copy');
  },
);

t.test(
  'writing the captured elements reproduces Chrome’s extension blocks byte for byte',
  async (t) => {
    const fromCapture = (p: RtpPacket): HeaderExtension[] => {
      const list: HeaderExtension[] = [];
      forEachExtension(p, (id, o, l) => {
        list.push({ id, value: p.buffer.subarray(o, o + l) });
      });
      return list;
    };
    for (const [name, cap] of [
      ['one-byte', chromeOneByte],
      ['one-byte, seven elements', chromeOneByteMany],
      ['two-byte', chromeTwoByte],
    ] as const) {
      const p = parsed(cap);
      const list = fromCapture(p);
      const out = Buffer.alloc(cap.length);
      const n = writeRtp(
        out,
        0,
        {
          payloadType: p.payloadType,
          sequenceNumber: p.sequenceNumber,
          timestamp: p.timestamp,
          ssrc: p.ssrc,
          marker: p.marker,
          extensions: list,
        },
        p.payload(),
      );
      t.equal(n, cap.length, `${name}: length`);
      t.same(out, cap, `${name}: bytes`);
    }
  },
);

t.test(
  'one-byte elements: ID 0 is padding, ID 15 stops processing, truncation ends iteration',
  async (t) => {
    const block = (hex: string) => {
      const buffer = Buffer.from(hex, 'hex');
      return {
        buffer,
        extensionProfile: 0xbede,
        extensionOffset: 0,
        extensionLength: buffer.length,
      };
    };
    const list = (hex: string) => {
      const b = block(hex);
      const ids: number[] = [];
      forEachExtension(b, (id, _o, l) => ids.push(id * 100 + l));
      return ids;
    };
    t.same(list('00001000002100ff'), [101, 202], 'padding between elements is skipped');
    t.same(
      list('0510000f2100ff'),
      [101, 202],
      'an ID 0 byte is one padding byte, its length ignored',
    );
    t.same(list('1000f0002000'), [101], 'elements after ID 15 are ignored');
    t.same(list('10003f'), [101], 'an element running past the block ends iteration');
    t.same(list(''), []);
    const unknown = { ...block('1000'), extensionProfile: 0x1234 };
    t.equal(nextExtension(unknown, 0, new ExtensionElement()), -1, 'an unknown profile has none');
  },
);

t.test('two-byte elements: zero-length values and padding bytes', async (t) => {
  const buffer = Buffer.from('0100' + '00' + '0202abcd' + '0000', 'hex');
  const b = { buffer, extensionProfile: 0x1003, extensionOffset: 0, extensionLength: 8 };
  const seen: [number, number][] = [];
  forEachExtension(b, (id, _o, l) => seen.push([id, l]));
  t.same(seen, [
    [1, 0],
    [2, 2],
  ]);
});

t.test(
  'rewriting IDs in place maps publisher IDs to subscriber IDs and blanks the rest',
  async (t) => {
    const buf = Buffer.from(chromeOneByte);
    const p = parsed(buf);
    const map: number[] = [];
    map[2] = 3; // abs-send-time
    map[4] = 5; // transport-cc; 13 (dependency descriptor) not negotiated
    rewriteExtensionIds(p, map);
    t.same(elements(p), [
      [3, 'f34350'],
      [5, '009b'],
    ]);
    t.equal(buf.length, chromeOneByte.length, 'no byte moved');
    t.equal(buf.toString('hex', 23), '0000000000', 'the blanked element became padding');

    const two = Buffer.from(chromeTwoByte);
    const q = parsed(two);
    const m2 = new Uint8Array(256);
    m2[13] = 200;
    m2[9] = 1;
    rewriteExtensionIds(q, m2);
    t.same(
      elements(q).map(([id]) => id),
      [1, 200],
    );
    t.throws(() => rewriteExtensionIds(parsed(Buffer.from(chromeOneByte)), [0, 0, 15]), RangeError);
  },
);

t.test('the writer picks the form and pads the block to a word', async (t) => {
  const small: HeaderExtension[] = [{ id: 1, value: Buffer.from([0xaa]) }];
  t.equal(extensionsSize(small), 8);
  const out = Buffer.alloc(8, 0xff);
  t.equal(writeExtensions(out, 0, small), 8);
  t.equal(out.toString('hex'), 'bede000110aa0000');
  const big: HeaderExtension[] = [{ id: 20, value: Buffer.alloc(0) }];
  t.equal(writeExtensions(out, 0, big), 8);
  t.equal(out.toString('hex'), '1000000114000000', 'ID 20 needs the two-byte form');
  t.equal(writeExtensions(out, 0, []), 0);
  t.throws(() => writeExtensions(out, 0, big, 'one-byte'), RangeError);
  t.throws(() => writeExtensions(Buffer.alloc(4), 0, small), RangeError);
  t.throws(
    () => writeExtensions(Buffer.alloc(300), 0, [{ id: 1, value: Buffer.alloc(256) }]),
    RangeError,
  );
});

t.test(
  'an SFU rewrites the transport-wide-cc sequence number in place for its own leg',
  async (t) => {
    const buf = Buffer.from(chromeOneByte);
    const p = parsed(buf);
    const el = new ExtensionElement();
    t.ok(findExtension(p, 4, el));
    writeTransportSequenceNumber(buf, el.offset, 0xfffe);
    t.equal(readTransportSequenceNumber(buf, el.offset, el.length), 0xfffe);
    t.equal(buf.toString('hex', 20, 23), '41fffe');
    t.equal(buf.length, chromeOneByte.length);
    t.same(elements(parsed(buf))[0], [2, 'f34350'], 'the other elements are untouched');
  },
);
