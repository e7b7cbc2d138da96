import t from 'tap';
import { parseRtp, type RtpPacket, writeRtp } from '../../lib/rtp/rtp-packet.js';
import { decapsulateRtx, encapsulateRtx, rtxOriginalSequenceNumber } from '../../lib/rtp/rtx.js';

function parsed(buf: Uint8Array, offset?: number, length?: number): RtpPacket {
  const r = parseRtp(buf, offset, length);
  if (!r.ok) throw new Error(`expected RTP, got ${r.reason}`);
  return r.packet;
}

function original(padding = 0): Buffer {
  const out = Buffer.alloc(100);
  const n = writeRtp(
    out,
    0,
    {
      payloadType: 96,
      sequenceNumber: 0xfffe,
      timestamp: 0x01020304,
      ssrc: 0x11111111,
      marker: true,
      csrcs: [0xcccccccc],
      extensions: [{ id: 4, value: Buffer.from('0102', 'hex') }],
      padding,
    },
    Buffer.from('deadbeef', 'hex'),
  );
  return out.subarray(0, n);
}

t.test(
  '§4: RTX carries the OSN first, the RTX SSRC/PT/seq, and the original header otherwise',
  async (t) => {
    const orig = original();
    const out = Buffer.alloc(100, 0xee);
    const n = encapsulateRtx(parsed(orig), out, 2, {
      ssrc: 0x22222222,
      payloadType: 97,
      sequenceNumber: 7,
    });
    t.equal(n, orig.length + 2);
    const rtx = parsed(out, 2, n);
    t.equal(rtx.ssrc, 0x22222222);
    t.equal(rtx.payloadType, 97);
    t.equal(rtx.sequenceNumber, 7);
    t.equal(rtx.timestamp, 0x01020304, 'timestamp kept');
    t.equal(rtx.marker, true, 'marker kept');
    t.equal(rtx.csrc(0), 0xcccccccc, 'CSRCs kept');
    t.same(rtx.getExtension(4), Buffer.from('0102', 'hex'), 'extensions kept');
    t.equal(Buffer.from(rtx.payload()).toString('hex'), 'fffe' + 'deadbeef');
    t.equal(rtxOriginalSequenceNumber(rtx), 0xfffe);
    t.equal(out[1], 0xee, 'nothing before offset touched');
  },
);

t.test('§4: decapsulation restores the original packet byte for byte', async (t) => {
  const orig = original();
  const rtxBuf = Buffer.alloc(100);
  const n = encapsulateRtx(parsed(orig), rtxBuf, 0, {
    ssrc: 0x22222222,
    payloadType: 97,
    sequenceNumber: 7,
  });
  const back = Buffer.alloc(100);
  const m = decapsulateRtx(parsed(rtxBuf, 0, n), back, 0, { ssrc: 0x11111111, payloadType: 96 });
  t.equal(m, orig.length);
  t.same(back.subarray(0, m), orig);
  // In place, in the RTX packet's own buffer.
  const again = decapsulateRtx(parsed(rtxBuf, 0, n), rtxBuf, 0, {
    ssrc: 0x11111111,
    payloadType: 96,
  });
  t.same(rtxBuf.subarray(0, again), orig, 'in place');
});

t.test('padding of the original is dropped; a padding-only RTX probe has no OSN', async (t) => {
  const orig = original(8);
  const out = Buffer.alloc(100);
  const n = encapsulateRtx(parsed(orig), out, 0, { ssrc: 1, payloadType: 97, sequenceNumber: 1 });
  const rtx = parsed(out, 0, n);
  t.equal(rtx.padding, false);
  t.equal(rtx.payloadLength, 6);
  const back = Buffer.alloc(100);
  const m = decapsulateRtx(rtx, back, 0, { ssrc: 0x11111111, payloadType: 96 });
  t.same(back.subarray(0, m), original(), 'the restored packet is the unpadded original');

  const probeBuf = Buffer.alloc(64);
  const p = writeRtp(probeBuf, 0, {
    payloadType: 97,
    sequenceNumber: 9,
    timestamp: 0,
    ssrc: 1,
    padding: 32,
  });
  const probe = parsed(probeBuf, 0, p);
  t.equal(rtxOriginalSequenceNumber(probe), -1);
  t.equal(decapsulateRtx(probe, back, 0, { ssrc: 2, payloadType: 96 }), 0);
});

t.test('a too-small output is a caller error', async (t) => {
  const orig = parsed(original());
  t.throws(
    () => encapsulateRtx(orig, Buffer.alloc(10), 0, { ssrc: 1, payloadType: 1, sequenceNumber: 1 }),
    RangeError,
  );
  t.throws(
    () =>
      encapsulateRtx(orig, Buffer.alloc(100), 0, { ssrc: 1, payloadType: 128, sequenceNumber: 1 }),
    RangeError,
  );
});
