import t from 'tap';
import { classifyPacket, isRtcp, type PacketClass } from '../../lib/ice/demux.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';

t.test('RFC 7983 §7: every first-byte value falls in its range', async (t) => {
  const expected = (b: number): PacketClass =>
    b <= 3
      ? 'stun'
      : b >= 20 && b <= 63
        ? 'dtls'
        : b >= 64 && b <= 79
          ? 'turn-channel'
          : b >= 128 && b <= 191
            ? 'rtp'
            : 'unknown';
  const wrong: number[] = [];
  for (let b = 0; b < 256; b++)
    if (classifyPacket(Uint8Array.of(b, 0)) !== expected(b)) wrong.push(b);
  t.same(wrong, []);
  // the boundaries, spelled out
  const table: [number, PacketClass][] = [
    [0, 'stun'],
    [3, 'stun'],
    [4, 'unknown'],
    [16, 'unknown'],
    [19, 'unknown'],
    [20, 'dtls'],
    [63, 'dtls'],
    [64, 'turn-channel'],
    [79, 'turn-channel'],
    [80, 'unknown'],
    [127, 'unknown'],
    [128, 'rtp'],
    [191, 'rtp'],
    [192, 'unknown'],
    [255, 'unknown'],
  ];
  for (const [b, c] of table) t.equal(classifyPacket(Uint8Array.of(b)), c, `first byte ${b}`);
});

t.test('real packets land in their classes', async (t) => {
  const check = buildCheckRequest({
    localUfrag: 'a',
    remoteUfrag: 'b',
    remotePwd: 'p',
    priority: 1,
    role: 'controlling',
    tieBreaker: 1n,
  });
  t.equal(classifyPacket(check), 'stun');
  // DTLS 1.2 ClientHello record header: content type 22, version fefd
  t.equal(classifyPacket(Buffer.from('16fefd000000000000000000', 'hex')), 'dtls');
  t.equal(classifyPacket(Buffer.from('17fefd', 'hex')), 'dtls', 'application data');
  t.equal(classifyPacket(Buffer.from('40000004deadbeef', 'hex')), 'turn-channel');
  const rtp = Buffer.from('80600001000000000000beef', 'hex'); // V=2, PT 96
  const rr = Buffer.from('81c90001deadbeef', 'hex'); // V=2, RC=1, PT 201 (RR)
  t.equal(classifyPacket(rtp), 'rtp');
  t.equal(classifyPacket(rr), 'rtp');
  t.notOk(isRtcp(rtp));
  t.ok(isRtcp(rr));
  t.ok(isRtcp(Buffer.from('80c8', 'hex')), 'SR (200)');
  t.ok(isRtcp(Buffer.from('80df', 'hex')), '223 is the top of the RTCP range');
  t.notOk(isRtcp(Buffer.from('80e0', 'hex')), 'PT 96 with the marker bit is RTP');
  t.notOk(isRtcp(Buffer.from('80', 'hex')), 'too short');
});

t.test('an empty packet is unknown, not a throw', async (t) => {
  t.equal(classifyPacket(new Uint8Array(0)), 'unknown');
  t.notOk(isRtcp(new Uint8Array(0)));
});
