import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type ReceiverEstimatedMaximumBitrate,
  rembExponentMantissa,
} from '../../lib/rtcp/index.js';
import { hex } from './hex.js';

// Sent by Chrome while receiving a 6 Mb/s stream; bytes from pion/rtcp
// receiver_estimated_maximum_bitrate_test.go. exp 6, mantissa 139487 → 8,927,168 b/s.
const CHROME_REMB = hex('8fce0005 | 00000001 | 00000000 | 52454d42 | 011a20df | 4874ed16');

t.test('draft-alvestrand-rmcat-remb §2.2: a REMB captured from Chrome', (t) => {
  const remb: ReceiverEstimatedMaximumBitrate = {
    kind: 'remb',
    senderSsrc: 1,
    mediaSsrc: 0,
    bitrate: 8_927_168,
    ssrcs: [1215622422],
  };
  t.same(decodeRtcp(CHROME_REMB), { ok: true, packets: [remb], reducedSize: true });
  t.same(encodeRtcp([remb]), CHROME_REMB);
  t.end();
});

t.test(
  'draft-alvestrand-rmcat-remb §2.2: bitrates split into 6-bit exp and 18-bit mantissa',
  (t) => {
    t.same(rembExponentMantissa(0), { exp: 0, mantissa: 0 });
    t.same(rembExponentMantissa(0x3ffff), { exp: 0, mantissa: 0x3ffff });
    t.same(rembExponentMantissa(0x40000), { exp: 1, mantissa: 0x20000 });
    t.same(rembExponentMantissa(8_927_167), { exp: 6, mantissa: 139486 }, 'rounds down');
    t.same(rembExponentMantissa(0x3ffff * 2 ** 63), { exp: 63, mantissa: 0x3ffff });
    t.throws(() => rembExponentMantissa(2 ** 90), TypeError);
    t.throws(() => rembExponentMantissa(-1), TypeError);
    t.end();
  },
);

t.test('draft-alvestrand-rmcat-remb: malformed REMB and other AFB messages', (t) => {
  const short = decodeRtcp(hex('8fce0004 | 00000001 | 00000000 | 52454d42 | 021a20df'));
  t.equal(short.ok ? 'ok' : short.reason, 'malformed-remb', 'two SSRCs announced, none present');
  const other = decodeRtcp(hex('8fce0003 | 00000001 | 00000000 | 41424344'));
  t.ok(other.ok && other.packets[0]!.kind === 'unknown', 'an AFB that is not REMB passes raw');
  t.end();
});
