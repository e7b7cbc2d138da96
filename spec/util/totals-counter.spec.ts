/** `totalsCounter`: a Prometheus counter fed by running totals read at scrape time. */
import { Registry } from 'prom-client';
import t from 'tap';
import { totalsCounter } from '../../lib/util/totals-counter.js';

t.test('each scrape adds what each total grew; a series appears at 0; never shrinks', async (t) => {
  const registry = new Registry();
  const totals = new Map<string, number>([['a', 0]]);
  totalsCounter(registry, 'x_total', 'x', ['code'], () =>
    [...totals].map(([code, n]) => [{ code }, n]),
  );
  const value = async (code: string) =>
    (await registry.getSingleMetric('x_total')?.get())?.values.find((v) => v.labels.code === code)
      ?.value;
  await registry.metrics();
  t.equal(await value('a'), 0, 'read once: exported at 0');
  totals.set('a', 5);
  totals.set('b', 2);
  await registry.metrics();
  t.equal(await value('a'), 5);
  t.equal(await value('b'), 2);
  totals.set('a', 3); // a total that went back (a restart of its source) takes nothing away
  await registry.metrics();
  t.equal(await value('a'), 5);
  totals.set('a', 7);
  await registry.metrics();
  t.equal(await value('a'), 7, 'growth counts from the highest total seen');
});
