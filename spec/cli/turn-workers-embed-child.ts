/**
 * A user's program embedding the CLI (spec/cli/turn-workers-embed.spec.ts): it calls `main()`
 * with an argv of its own making, not its `process.argv`, and records each time it runs (one
 * line per run in the file named by its first argument): a worker forked from this script
 * instead of rtcd's worker entry would run it again.
 */
import { appendFileSync } from 'node:fs';
import { main } from '../../lib/cli/main.js';

const [runs, ...args] = process.argv.slice(2);
appendFileSync(runs!, `${process.pid}\n`);
await main(['node', 'my-app', 'turn', ...args]);
