import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type GenericNack,
  nackPairsFromSequences,
  type PictureLossIndication,
  sequencesFromNackPairs,
} from '../../lib/rtcp/index.js';
import { hex } from './hex.js';

// RFC 4585 §6.2.1: PID 100, BLP 0b101 → 100, 101 and 103 are lost.
const NACK_BYTES = hex('81cd0003 | 00000001 | 00000002 | 0064 0005');
const NACK: GenericNack = {
  kind: 'nack',
  senderSsrc: 1,
  mediaSsrc: 2,
  pairs: [{ pid: 100, blp: 5 }],
};

t.test('RFC 4585 §6.2.1: a generic NACK decodes, re-encodes and names its packets', (t) => {
  t.same(decodeRtcp(NACK_BYTES), { ok: true, packets: [NACK], reducedSize: true });
  t.same(encodeRtcp([NACK]), NACK_BYTES);
  t.same(sequencesFromNackPairs(NACK.pairs), [100, 101, 103]);
  t.same(nackPairsFromSequences([103, 100, 101]), NACK.pairs);
  t.end();
});

t.test('RFC 4585 §6.2.1: NACK pairs pack across the 65535 → 0 wrap', (t) => {
  const seqs = [65534, 65535, 0, 2];
  const pairs = nackPairsFromSequences(seqs);
  t.same(pairs, [{ pid: 65534, blp: 0b1011 }]);
  t.same(sequencesFromNackPairs(pairs), seqs);
  t.end();
});

t.test('RFC 4585 §6.2.1: a gap of more than 16 starts a new pair; duplicates are ignored', (t) => {
  const pairs = nackPairsFromSequences([1, 17, 18, 18, 40]);
  t.same(pairs, [
    { pid: 1, blp: 0x8000 },
    { pid: 18, blp: 0 },
    { pid: 40, blp: 0 },
  ]);
  t.same(sequencesFromNackPairs(pairs), [1, 17, 18, 40]);
  t.same(nackPairsFromSequences([]), []);
  t.end();
});

t.test('RFC 4585 §6.2.1: an FCI that is not whole entries is malformed', (t) => {
  const r = decodeRtcp(hex('81cd0003 | 00000001 | 00000002 | 0064 0005').subarray(0, 14));
  t.equal(r.ok ? 'ok' : r.reason, 'length-overflow');
  const odd = decodeRtcp(hex('a1cd0003 | 00000001 | 00000002 | 0064 0002'));
  t.equal(odd.ok ? 'ok' : odd.reason, 'malformed-nack');
  t.end();
});

t.test('RFC 4585 §6.3.1 + RFC 5506: a PLI alone is a valid reduced-size datagram', (t) => {
  const bytes = hex('81ce0002 | 00000001 | 00000002');
  const pli: PictureLossIndication = { kind: 'pli', senderSsrc: 1, mediaSsrc: 2 };
  t.same(decodeRtcp(bytes), { ok: true, packets: [pli], reducedSize: true });
  t.same(encodeRtcp([pli]), bytes);
  t.equal(decodeRtcp(hex('81ce0001 | 00000001')).ok, false, 'PLI without media SSRC');
  t.end();
});

t.test('RFC 4585 §6.1: feedback with an unknown FMT passes through raw', (t) => {
  const bytes = hex('83cd0002 | 00000001 | 00000002');
  const r = decodeRtcp(bytes);
  t.same(r, {
    ok: true,
    reducedSize: true,
    packets: [{ kind: 'unknown', type: 205, count: 3, view: hex('00000001 00000002') }],
  });
  t.end();
});
