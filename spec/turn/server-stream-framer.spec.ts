import t from 'tap';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { MAX_STREAM_FRAME, StreamFramer } from '../../lib/turn/stream-framer.js';
import { channelData } from './core-fixture.js';

/** A framer that records each frame (copied) and the buffer it was a view of. */
function recording() {
  const frames: Buffer[] = [];
  const sources: Buffer[] = [];
  const framer = new StreamFramer((data, offset, length) => {
    frames.push(Buffer.from(data.subarray(offset, offset + length)));
    sources.push(data);
    return true;
  });
  return { framer, frames, sources };
}

const binding = new StunMessageBuilder(StunClass.request, StunMethod.binding, Buffer.alloc(12, 1))
  .addFingerprint()
  .toBuffer();

/** RFC 8656 §12.5: over TCP, ChannelData is padded to a multiple of 4. */
function padded(channel: number, payload: Buffer): Buffer {
  const frame = channelData(channel, payload);
  return Buffer.concat([frame, Buffer.alloc((4 - (frame.length & 3)) & 3)]);
}

/** The largest STUN message: 20 + 65532 bytes. */
function largestStun(): Buffer {
  const b = new StunMessageBuilder(StunClass.request, StunMethod.binding, Buffer.alloc(12, 2));
  b.add(AttributeType.SOFTWARE, Buffer.alloc(0xfffc - 4, 0x61));
  return b.toBuffer();
}

t.test('frames inside one chunk are handed on as views of it, not copies', async (t) => {
  const { framer, frames, sources } = recording();
  const chunk = Buffer.concat([binding, padded(0x4001, Buffer.from('abcde')), binding]);
  t.ok(framer.push(chunk));
  t.equal(frames.length, 3);
  t.ok(
    sources.every((s) => s === chunk),
    'every frame is an offset into the chunk',
  );
  t.same(frames[1], padded(0x4001, Buffer.from('abcde')), 'ChannelData with its padding');
  t.equal(framer.buffered, 0);
});

t.test('a header split across chunks, then the rest of the frame', async (t) => {
  const { framer, frames } = recording();
  const frame = padded(0x4002, Buffer.alloc(300, 9));
  for (const [from, to] of [
    [0, 1],
    [1, 3],
    [3, 100],
    [100, frame.length],
  ]) {
    t.ok(framer.push(frame.subarray(from, to)));
  }
  t.same(frames, [frame]);
  t.equal(framer.buffered, 0);
});

t.test('the largest frames sent a byte at a time cost linear time', async (t) => {
  // Joining everything received so far on every chunk copied ~2 GB per 64 KiB frame sent a
  // byte at a time (~730 ms for these two here); held chunks are joined once per frame (~45).
  const { framer, frames } = recording();
  const stream = Buffer.concat([padded(0x4003, Buffer.alloc(0xffff, 3)), largestStun(), binding]);
  t.equal(largestStun().length, MAX_STREAM_FRAME, 'a STUN message of MAX_STREAM_FRAME bytes');
  let most = 0;
  const started = performance.now();
  for (let i = 0; i < stream.length; i++) {
    framer.push(stream.subarray(i, i + 1));
    most = Math.max(most, framer.buffered);
  }
  const ms = performance.now() - started;
  t.equal(frames.length, 3, 'three frames');
  t.same(Buffer.concat(frames), stream, 'byte for byte');
  t.ok(most < MAX_STREAM_FRAME, `never more than one frame held (${most} bytes)`);
  t.ok(ms < 300, `${stream.length} one-byte chunks framed in ${ms.toFixed(0)} ms (< 300)`);
});

t.test('bytes that start no frame are garbage, after the frames before them', async (t) => {
  const { framer, frames } = recording();
  t.notOk(framer.push(Buffer.concat([binding, Buffer.from([0x80, 0, 0, 4])])), 'top bits 10');
  t.same(frames, [binding], 'the Binding before it was framed');
  t.equal(framer.buffered, 0, 'nothing held after garbage');
  const misaligned = Buffer.from(binding);
  misaligned.writeUInt16BE(6, 2);
  t.notOk(recording().framer.push(misaligned), 'a STUN length that is not a multiple of 4');
  const split = recording();
  t.ok(split.framer.push(Buffer.from([0xc0])), 'one byte cannot tell yet');
  t.notOk(split.framer.push(Buffer.from([0, 0, 0])), 'four can');
});

t.test('a handler returning false stops framing that chunk', async (t) => {
  let calls = 0;
  const framer = new StreamFramer(() => {
    calls++;
    return false;
  });
  t.ok(framer.push(Buffer.concat([binding, binding, binding.subarray(0, 7)])));
  t.equal(calls, 1, 'the closed connection gets no more frames');
  t.equal(framer.buffered, 0, 'and nothing is held for it');
});
