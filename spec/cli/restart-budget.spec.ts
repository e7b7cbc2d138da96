/** RestartBudget: the workers' "more than five deaths a minute stop the server" rule. */
import t from 'tap';
import { MAX_RESTARTS_PER_MINUTE, RestartBudget } from '../../lib/cli/restart-budget.js';

t.test('five deaths in a minute are replaced, the sixth is not', async (t) => {
  const b = new RestartBudget();
  for (let i = 0; i < MAX_RESTARTS_PER_MINUTE; i++) t.ok(b.allow(1000 * i), `death ${i + 1}`);
  t.notOk(b.allow(10_000), 'the sixth within the minute');
});

t.test('deaths older than a minute no longer count', async (t) => {
  const b = new RestartBudget(2);
  t.ok(b.allow(0));
  t.ok(b.allow(30_000));
  t.ok(b.allow(61_000), 'the first has left the window');
  t.notOk(b.allow(62_000), 'three within the last minute');
});
