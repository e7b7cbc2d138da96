import t from 'tap';
import { formatConnectRows } from '../../bench/ice/connect.js';
import { main, runIceBench } from '../../bench/ice.js';

t.test('the ICE bench connects every case with both agents and runs the mux, tiny', async (t) => {
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => printed.push(a.join(' '));
  let r: Awaited<ReturnType<typeof runIceBench>>;
  try {
    r = await runIceBench(['--quick']);
  } finally {
    console.log = log;
  }
  t.same(
    r.connect?.map((row) => row.case),
    ['host', 'srflx', 'relay'],
  );
  for (const row of r.connect ?? []) {
    for (const k of ['rtcd', 'werift', 'bare'] as const) {
      t.ok(row[k] > 0 && Number.isFinite(row[k]), `${row.case}: ${k} time measured`);
    }
    t.equal(row.ratio, row.rtcd / row.werift);
  }
  t.equal(r.mux?.length, 2, 'bare echo and mux rows');
  t.match(printed.join('\n'), /rtcd\/werift/);
  t.match(formatConnectRows(r.connect ?? []), /^host/m);
});

t.test('bad arguments are reported with exit code 1', async (t) => {
  const err = console.error;
  console.error = () => {};
  try {
    t.equal(await main(['--only', 'nothing']), 1);
    t.equal(await main(['--rounds', '0']), 1);
    t.equal(await main(['--bogus']), 1);
  } finally {
    console.error = err;
  }
});
