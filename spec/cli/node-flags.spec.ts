/**
 * The V8 flag `rtcd sfu` runs with (lib/cli/node-flags.ts): the bin's shebang passes
 * `--max-semi-space-size=1` (as `env -S` splits it), and a process started without it gets
 * one warning naming the flag.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  applyHeapGrowing,
  HEAP_GROWING_FLAG,
  hasHeapGrowingFlag,
  hasSemiSpaceFlag,
  SMALL_SEMI_SPACE_FLAG,
  semiSpaceAdvice,
} from '../../lib/cli/node-flags.js';

t.test('the rtcd bin starts node with the small semi-space', async (t) => {
  const first = readFileSync(new URL('../../bin/rtcd.ts', import.meta.url), 'utf8').split('\n')[0];
  t.equal(first, `#!/usr/bin/env -S node ${SMALL_SEMI_SPACE_FLAG}`);
});

t.test('the flag is found in execArgv or NODE_OPTIONS, any value', async (t) => {
  t.ok(hasSemiSpaceFlag(['--max-semi-space-size=1'], undefined));
  t.ok(hasSemiSpaceFlag(['--import', 'tsx', '--max-semi-space-size=2'], ''));
  t.ok(hasSemiSpaceFlag([], '--enable-source-maps --max-semi-space-size=4'));
  t.notOk(hasSemiSpaceFlag(['--import', 'tsx'], '--max-old-space-size=4096'));
  t.notOk(hasSemiSpaceFlag([], undefined));
});

t.test('advice only when the flag is missing', async (t) => {
  t.equal(semiSpaceAdvice([SMALL_SEMI_SPACE_FLAG], undefined), undefined);
  t.match(semiSpaceAdvice([], undefined), /--max-semi-space-size=1/);
});

t.test('heap headroom: set unless node was started with a heap growing percent', async (t) => {
  t.ok(hasHeapGrowingFlag(['--heap-growing-percent=50'], undefined));
  t.ok(hasHeapGrowingFlag([], '--max-semi-space-size=1 --heap-growing-percent=50'));
  t.notOk(hasHeapGrowingFlag(['--max-semi-space-size=1'], undefined));
  t.notOk(applyHeapGrowing(['--heap-growing-percent=50'], undefined), "the user's value stays");
  t.ok(applyHeapGrowing([], undefined));
  t.equal(HEAP_GROWING_FLAG, '--heap-growing-percent=200');
});
