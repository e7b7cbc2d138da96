import t from 'tap';
import {
  compactNtp,
  ntpTimeFromUnixMs,
  roundTripTime,
  unixMsFromNtpTime,
} from '../../lib/rtcp/index.js';

t.test('RFC 3550 §4: NTP timestamps from and to Unix time', (t) => {
  t.equal(ntpTimeFromUnixMs(0), 2_208_988_800n << 32n, 'the Unix epoch in NTP seconds');
  t.equal(ntpTimeFromUnixMs(1500), (2_208_988_801n << 32n) | 0x80000000n, 'half a second');
  const now = 1_764_345_600_123;
  t.ok(Math.abs(unixMsFromNtpTime(ntpTimeFromUnixMs(now)) - now) < 0.001);
  t.equal(compactNtp(0xe93c2f1a80000000n), 0x2f1a8000);
  t.end();
});

t.test('RFC 3550 §6.4.1: round-trip time is A − LSR − DLSR', (t) => {
  // The RFC's own example: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
  // DLSR = 0x0005:4000 (5.250 s) → RTT 6.125 s.
  t.equal(roundTripTime(0xb7108000, 0xb7052000, 0x00054000), 6.125);
  t.equal(roundTripTime(0x00001000, 0xffff0000, 0x00000000), (0x10000 + 0x1000) / 65536, 'wraps');
  t.equal(roundTripTime(0x1000, 0, 0), undefined, 'no SR received yet');
  t.equal(roundTripTime(0x1000, 0x2000, 0), 0, 'negative from clock skew clamps to 0');
  t.end();
});
