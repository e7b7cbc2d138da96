import t from 'tap';
import { decodeRtcp, type ExtendedReport, encodeRtcp } from '../../lib/rtcp/index.js';
import { hex } from './hex.js';

t.test('RFC 3611 §4.4, §4.5: XR with RRTR, DLRR and an unknown block', (t) => {
  const bytes = hex(`
    80cf000a | 12345678
    04000002 | e93c2f1a 80000000
    05000003 | 9abcdef0 | 2f1a8000 | 00008000
    07aa0001 | 01020304`);
  const xr: ExtendedReport = {
    kind: 'xr',
    ssrc: 0x12345678,
    blocks: [
      { type: 4, ntpTime: 0xe93c2f1a80000000n },
      {
        type: 5,
        items: [
          {
            ssrc: 0x9abcdef0,
            lastReceiverReport: 0x2f1a8000,
            delaySinceLastReceiverReport: 0x8000,
          },
        ],
      },
      { type: 7, typeSpecific: 0xaa, body: hex('01020304') },
    ],
  };
  t.same(decodeRtcp(bytes), { ok: true, packets: [xr], reducedSize: true });
  t.same(encodeRtcp([xr]), bytes);
  t.end();
});

t.test('RFC 3611 §3: malformed XR blocks are rejected', (t) => {
  const cases: [string, string][] = [
    ['block length past the packet', '80cf0003 | 00000001 | 04000002 | 00000000'],
    ['RRTR of the wrong length', '80cf0003 | 00000001 | 04000001 | 00000000'],
    ['DLRR not whole sub-blocks', '80cf0004 | 00000001 | 05000002 | 00000000 00000000'],
    ['no SSRC', '80cf0000'],
  ];
  for (const [name, bytes] of cases) {
    const r = decodeRtcp(hex(bytes));
    t.equal(r.ok ? 'ok' : r.reason, 'malformed-xr', name);
  }
  t.end();
});
