import t from 'tap';
import { decodeRtcp, encodeRtcp, type FullIntraRequest } from '../../lib/rtcp/index.js';
import { hex } from './hex.js';

t.test('RFC 5104 §4.3.1: a FIR names its target SSRC and command sequence number', (t) => {
  // Media SSRC is 0 (§4.3.1.2); FCI: SSRC, Seq nr. (8 bits), 24 reserved bits.
  const bytes = hex('84ce0006 | 00000001 | 00000000 | 0000abcd 05000000 | 0000abce ff000000');
  const fir: FullIntraRequest = {
    kind: 'fir',
    senderSsrc: 1,
    mediaSsrc: 0,
    entries: [
      { ssrc: 0xabcd, sequenceNumber: 5 },
      { ssrc: 0xabce, sequenceNumber: 255 },
    ],
  };
  t.same(decodeRtcp(bytes), { ok: true, packets: [fir], reducedSize: true });
  t.same(encodeRtcp([fir]), bytes);
  const wrapped = encodeRtcp([{ ...fir, entries: [{ ssrc: 1, sequenceNumber: 256 }] }]);
  t.equal(wrapped[16], 0, 'the sequence number is 8 bits and wraps');
  t.end();
});

t.test('RFC 5104 §4.3.1: a FIR with a partial FCI entry is malformed', (t) => {
  const r = decodeRtcp(hex('84ce0003 | 00000001 | 00000000 | 0000abcd'));
  t.equal(r.ok ? 'ok' : r.reason, 'malformed-fir');
  t.end();
});
