import t from 'tap';
import {
  absSendTimeFromSeconds,
  absSendTimeToSeconds,
  readAbsSendTime,
  readAudioLevel,
  readAudioLevelDbov,
  readDependencyDescriptor,
  readExtensionU32,
  readPlayoutDelay,
  readSdesString,
  readTransportSequenceNumber,
  readVideoOrientation,
  sdesStringEquals,
  writeAbsSendTime,
  writeAudioLevel,
  writePlayoutDelay,
  writeSdesString,
  writeTransportSequenceNumber,
  writeVideoOrientation,
} from '../../lib/rtp/extension-values.js';

t.test('abs-send-time is 6.18 fixed-point seconds in 24 bits, wrapping every 64 s', async (t) => {
  const out = Buffer.alloc(4, 0xff);
  t.equal(absSendTimeFromSeconds(1.5), 0x060000);
  t.equal(absSendTimeFromSeconds(64 + 1.5), 0x060000, 'the integer part keeps 6 bits');
  t.equal(absSendTimeToSeconds(0x060000), 1.5);
  t.equal(writeAbsSendTime(out, 1, 0xabcdef), 3);
  t.equal(out.toString('hex'), 'ffabcdef');
  t.equal(readAbsSendTime(out, 1), 0xabcdef);
  t.equal(readAbsSendTime(out, 1, 2), -1, 'too short');
  const s = 12.345678;
  t.ok(Math.abs(absSendTimeToSeconds(absSendTimeFromSeconds(s)) - s) < 1 / 262144);
});

t.test('transport-wide-cc carries a 16-bit sequence number', async (t) => {
  const out = Buffer.alloc(2);
  for (const v of [0, 1, 0x1234, 0xffff]) {
    t.equal(writeTransportSequenceNumber(out, 0, v), 2);
    t.equal(readTransportSequenceNumber(out, 0), v);
  }
  t.equal(out.toString('hex'), 'ffff');
  t.equal(readTransportSequenceNumber(out, 0, 1), -1);
});

t.test('RFC 6464 §3: ssrc-audio-level is the V bit then the level in -dBov', async (t) => {
  const out = Buffer.alloc(1);
  writeAudioLevel(out, 0, { voiceActivity: true, level: 42 });
  t.equal(out[0], 0x80 | 42);
  t.same(readAudioLevel(out, 0), { voiceActivity: true, level: 42 });
  writeAudioLevel(out, 0, { voiceActivity: false, level: 127 });
  t.equal(out[0], 0x7f, '-127 dBov is digital silence');
  t.same(readAudioLevel(out, 0), { voiceActivity: false, level: 127 });
  t.equal(readAudioLevelDbov(Buffer.from([0x85]), 0), 5);
  t.equal(readAudioLevelDbov(out, 0, 0), -1);
  t.equal(readAudioLevel(out, 0, 0), undefined);
  t.throws(() => writeAudioLevel(out, 0, { voiceActivity: false, level: 128 }), RangeError);
});

t.test('sdes:mid, rtp-stream-id and repaired-rtp-stream-id are text values', async (t) => {
  const out = Buffer.alloc(16);
  for (const v of ['0', 'audio', 'hi-res', 'é']) {
    const n = writeSdesString(out, 2, v);
    t.equal(n, Buffer.byteLength(v));
    t.equal(readSdesString(out, 2, n), v);
    t.ok(sdesStringEquals(out, 2, n, v), `${v} equals itself`);
  }
  writeSdesString(out, 0, 'q');
  t.notOk(sdesStringEquals(out, 0, 1, 'h'));
  t.notOk(sdesStringEquals(out, 0, 1, 'qq'));
  t.throws(() => writeSdesString(out, 0, ''), RangeError);
  t.throws(() => writeSdesString(out, 10, 'x'.repeat(10)), RangeError);
});

t.test('video-orientation (CVO) packs camera, flip and rotation into one byte', async (t) => {
  const out = Buffer.alloc(1);
  for (const rotation of [0, 90, 180, 270]) {
    for (const flip of [false, true]) {
      for (const backCamera of [false, true]) {
        writeVideoOrientation(out, 0, { rotation, flip, backCamera });
        t.same(readVideoOrientation(out, 0), { rotation, flip, backCamera });
      }
    }
  }
  writeVideoOrientation(out, 0, { rotation: 270, flip: false, backCamera: true });
  t.equal(out[0], 0b1011);
  t.equal(readVideoOrientation(out, 0, 0), undefined);
  t.throws(() => writeVideoOrientation(out, 0, { rotation: 45, flip: false, backCamera: false }));
});

t.test('playout-delay is two 12-bit values in 10 ms units', async (t) => {
  const out = Buffer.alloc(3);
  t.equal(writePlayoutDelay(out, 0, { min: 0x123, max: 0xabc }), 3);
  t.equal(out.toString('hex'), '123abc');
  t.same(readPlayoutDelay(out, 0), { min: 0x123, max: 0xabc });
  writePlayoutDelay(out, 0, { min: 0, max: 4095 });
  t.same(readPlayoutDelay(out, 0), { min: 0, max: 4095 });
  t.equal(readPlayoutDelay(out, 0, 2), undefined);
  t.throws(() => writePlayoutDelay(out, 0, { min: 4096, max: 0 }), RangeError);
});

t.test('the AV1 dependency descriptor is handed out as an opaque view', async (t) => {
  const buf = Buffer.from('00c0000180ff', 'hex');
  const dd = readDependencyDescriptor(buf, 1, 4);
  t.equal(Buffer.from(dd).toString('hex'), 'c0000180');
  buf[1] = 0;
  t.equal(dd[0], 0, 'a view of the packet');
  t.equal(readExtensionU32(buf, 1, 4), 0x00000180);
  t.equal(readExtensionU32(buf, 1, 3), -1);
});
