import t from 'tap';
import { crossCheckRecords } from '../../bench/dtls/records.js';
import { checkTargets, main, parseConfig, runDtlsBench } from '../../bench/dtls.js';

t.test('the DTLS bench runs every record suite both ways, tiny, with werift', async (t) => {
  const lines: string[] = [];
  const r = await runDtlsBench(
    {
      records: { seconds: 0.03, size: 1200, suites: [0xc02b, 0xc02c, 0xcca9], werift: true },
      handshakes: undefined,
    },
    (l) => lines.push(l),
  );
  t.equal(r.records.length, 6, 'one row per suite and direction');
  for (const row of r.records) {
    t.ok(row.rtcd > 0 && Number.isFinite(row.rtcd), `${row.suite} ${row.direction}: rtcd`);
    t.ok(row.bare > 0 && Number.isFinite(row.bare), 'bare');
    if (row.suite.includes('CHACHA')) t.equal(row.werift, undefined, 'werift has no ChaCha');
    else t.ok(row.werift !== undefined && row.werift > 0, 'werift');
  }
  t.equal(r.handshakesSkipped, 'not asked (--no-handshakes)');
  t.ok(lines.some((l) => l.startsWith('target records within 1.2× of bare')));
  t.ok(lines.some((l) => l.startsWith('| TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | seal |')));
});

t.test('werift and rtcd records are byte-identical before timing', (t) => {
  for (const id of [0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca9, 0xcca8]) {
    t.doesNotThrow(() => crossCheckRecords(id, 100), id.toString(16));
  }
  t.throws(() => crossCheckRecords(0x1234, 100), TypeError);
  t.end();
});

t.test('targets report the worst ratio and where it is', (t) => {
  const rec = (suite: string, rtcd: number, bare: number) => ({
    suite,
    direction: 'seal' as const,
    rtcd,
    bare,
    werift: undefined,
  });
  const [records, handshakes] = checkTargets(
    [rec('A', 90, 100), rec('B', 80, 100)],
    [
      { name: 'x', rtcd: 300, werift: 100 },
      { name: 'y', rtcd: 150, werift: 100 },
      { name: 'z', rtcd: 1, werift: undefined },
    ],
  );
  t.same(records, { name: 'records within 1.2× of bare', met: false, worst: 0.8, where: 'B seal' });
  t.same(handshakes, { name: 'handshakes ≥ 2× werift', met: false, worst: 1.5, where: 'y' });
  const [ok] = checkTargets([rec('A', 90, 100)], []);
  t.equal(ok?.met, true, '0.9 of bare is within 1.2×');
  t.end();
});

t.test('arguments', async (t) => {
  const p = parseConfig(['--seconds', '0.5', '--size', '100', '--suites', 'c02b', '--no-werift']);
  t.same(p, {
    config: {
      records: { seconds: 0.5, size: 100, suites: [0xc02b], werift: false },
      handshakes: { seconds: 0.5, werift: false },
    },
    json: true,
  });
  t.match(parseConfig(['--seconds', 'x']), /bad --seconds/);
  t.match(parseConfig(['--size', '20000']), /bad --size/);
  t.match(parseConfig(['--suites', 'zz']), /bad --suites/);
  t.type(parseConfig(['--bogus']), 'string');
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    t.equal(await main(['--bogus']), 1);
  } finally {
    console.error = orig;
  }
  t.equal(errors.length, 1);
});
