import t from 'tap';
import {
  crossCheckParsers,
  rtcdRtcpStep,
  rtcpCases,
  weriftRtcpStep,
} from '../../bench/rtp/workloads.js';
import { formatParseRow, main, runParseRows } from '../../bench/rtp.js';

t.test('rtcd and werift-rtp read the same packets out of every parse case', (t) => {
  t.doesNotThrow(() => crossCheckParsers());
  const names = rtcpCases().map((c) => c.name);
  for (const kind of ['SR', 'RR', 'SDES', 'NACK', 'PLI', 'REMB', 'transport-cc']) {
    t.ok(
      names.some((n) => n.includes(kind)),
      `an RTCP case for ${kind}`,
    );
  }
  for (const c of rtcpCases()) {
    t.equal(rtcdRtcpStep(c.packet)(), weriftRtcpStep(c.packet)(), `${c.name}: same count`);
  }
  t.end();
});

t.test('the parse rows run tiny: rates, ratios and heap per packet for each case', (t) => {
  const lines: string[] = [];
  const rows = runParseRows(0.02, 300, (l) => lines.push(l));
  t.equal(
    rows.length,
    3 + rtcpCases().length,
    'two RTP rows, one per RTCP case and transport-cc through TransportCcReader',
  );
  const reader = rows.find((r) => r.name.includes('TransportCcReader'));
  t.ok(reader !== undefined && reader.rtcdHeap < 8, 'the reader allocates nothing per feedback');
  for (const r of rows) {
    t.ok(r.rtcd > 0 && r.werift > 0, `${r.name}: both rates`);
    t.ok(Number.isFinite(r.rtcdHeap) && Number.isFinite(r.weriftHeap), `${r.name}: heap`);
    t.ok(Number.isFinite(r.rtcdRetained), `${r.name}: retained heap measured`);
  }
  t.match(lines.join('\n'), /Mpkt per CPU-second/);
  const first = rows[0];
  if (first !== undefined) t.match(formatParseRow(first), /rtcd .* M .*werift .*×/);
  t.end();
});

t.test('bad parse options are refused with exit code 1', async (t) => {
  const saved = console.error;
  console.error = () => {};
  try {
    t.equal(await main(['--parse-seconds', '0']), 1);
    t.equal(await main(['--heap-packets', 'x']), 1);
  } finally {
    console.error = saved;
  }
});
