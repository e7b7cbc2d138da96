import t from 'tap';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import {
  CHANNEL_DATA_HEADER_LENGTH,
  channelDataLength,
  isChannelData,
  isChannelDataFrame,
  isStreamFrameStart,
  MAX_CHANNEL,
  MIN_CHANNEL,
  streamFrameLength,
  writeChannelDataHeader,
} from '../../lib/turn/channel-data.js';

function channelData(channel: number, payload: Buffer, pad = false): Buffer {
  const padded = pad ? (payload.length + 3) & ~3 : payload.length;
  const out = Buffer.alloc(CHANNEL_DATA_HEADER_LENGTH + padded);
  writeChannelDataHeader(out, 0, channel, payload.length);
  payload.copy(out, 4);
  return out;
}

t.test('RFC 8656 §12: channel numbers 0x4000..0x4FFF', async (t) => {
  t.equal(MIN_CHANNEL, 0x4000);
  t.equal(MAX_CHANNEL, 0x4fff);
});

t.test('writeChannelDataHeader writes channel and unpadded length', async (t) => {
  const out = Buffer.alloc(10, 0xee);
  writeChannelDataHeader(out, 2, 0x4001, 0x1234);
  t.same(out, Buffer.from('eeee40011234eeeeeeee', 'hex'));
  for (const [channel, length] of [
    [0x3fff, 0],
    [0x5000, 0],
    [0x4000, -1],
    [0x4000, 0x10000],
    [16384.5, 1],
  ]) {
    t.throws(() => writeChannelDataHeader(out, 0, channel!, length!), TypeError);
  }
  t.throws(() => writeChannelDataHeader(Buffer.alloc(3), 0, 0x4000, 0), TypeError);
  t.throws(() => writeChannelDataHeader(Buffer.alloc(8), 5, 0x4000, 0), TypeError);
});

t.test('isChannelData demultiplexes on the first byte (RFC 7983)', async (t) => {
  const cd = channelData(0x4abc, Buffer.from('data'));
  t.ok(isChannelData(cd));
  t.ok(isChannelData(Buffer.concat([Buffer.alloc(3), cd]), 3));
  t.notOk(isChannelData(cd.subarray(0, 3)), 'needs a whole header');
  const stun = new StunMessageBuilder(0, 1, Buffer.alloc(12)).toBuffer();
  t.notOk(isChannelData(stun), 'STUN is not ChannelData');
  for (const first of [0x00, 0x3f, 0x50, 0x80, 0xff]) {
    t.notOk(isChannelData(Buffer.from([first, 0, 0, 0])), `0x${first.toString(16)}`);
  }
  for (const first of [0x40, 0x4f]) t.ok(isChannelData(Buffer.from([first, 0, 0, 0])));
});

t.test('channelDataLength reads the Length field', async (t) => {
  t.equal(channelDataLength(channelData(0x4000, Buffer.alloc(5))), 5);
  t.equal(channelDataLength(Buffer.from([0, 0, 0x40, 0, 0x01, 0x02]), 2), 0x0102);
  t.equal(channelDataLength(Buffer.from([0x40, 0, 0])), undefined);
  t.equal(channelDataLength(Buffer.alloc(8), -1), undefined);
});

t.test('streamFrameLength frames STUN and ChannelData on a stream', async (t) => {
  const stun = new StunMessageBuilder(0, 3, Buffer.alloc(12)).addString(0x0006, 'user').toBuffer();
  t.equal(streamFrameLength(stun, 0), stun.length, 'STUN: 20 + length');
  t.equal(streamFrameLength(stun.subarray(0, 4), 0), stun.length, '4 bytes are enough');
  t.equal(streamFrameLength(stun.subarray(0, 3), 0), undefined, 'need more bytes');
  for (const n of [0, 1, 2, 3, 4, 5]) {
    const cd = channelData(0x4000, Buffer.alloc(n), true);
    t.equal(streamFrameLength(cd, 0), 4 + ((n + 3) & ~3), `ChannelData with ${n} bytes, padded`);
  }
  // Two frames back to back in one read.
  const cd = channelData(0x4001, Buffer.from('abc'), true);
  const stream = Buffer.concat([cd, stun]);
  const first = streamFrameLength(stream, 0)!;
  t.equal(first, 8);
  t.equal(streamFrameLength(stream, first), stun.length);
  t.equal(streamFrameLength(stream, stream.length), undefined);
  t.equal(streamFrameLength(stream, -1), undefined);
});

t.test('isChannelDataFrame takes the RFC 5766 range 0x40..0x7F as ChannelData', async (t) => {
  for (const first of [0x40, 0x4f, 0x50, 0x7f]) {
    t.ok(isChannelDataFrame(Buffer.from([first, 0, 0, 0])), `0x${first.toString(16)}`);
  }
  for (const first of [0x00, 0x3f, 0x80]) {
    t.notOk(isChannelDataFrame(Buffer.from([first, 0, 0, 0])), `0x${first.toString(16)}`);
  }
  t.notOk(isChannelDataFrame(Buffer.from([0x40, 0, 0])), 'needs a whole header');
  t.equal(streamFrameLength(Buffer.from([0x6e, 0x94, 0, 5]), 0), 12, 'legacy frame padded');
});

t.test('bytes that start no frame are reported by isStreamFrameStart', async (t) => {
  for (const first of [0x80, 0xc0, 0xff]) {
    const buf = Buffer.from([first, 0, 0, 4, 0, 0, 0, 0]);
    t.equal(streamFrameLength(buf, 0), undefined);
    t.notOk(isStreamFrameStart(buf, 0), `0x${first.toString(16)} starts no frame`);
  }
  // 0x50..0x7F: RFC 5766 channel numbers (0x5000-0x7FFF), framed so a legacy client's
  // stream stays in sync; whether the channel is accepted is ChannelBind's decision.
  for (const first of [0x00, 0x01, 0x3f, 0x40, 0x4f, 0x50, 0x7f]) {
    t.ok(isStreamFrameStart(Buffer.from([first]), 0));
  }
  t.notOk(isStreamFrameStart(Buffer.alloc(0), 0));
  t.equal(streamFrameLength(Buffer.from([0, 1, 0, 5]), 0), undefined, 'STUN length % 4 != 0');
});
