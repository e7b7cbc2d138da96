import { hasSemiSpaceFlag, SMALL_SEMI_SPACE_FLAG } from './node-flags.js';

/** Node flags (`--flag` or `--flag=value`) a worker must not run with. */
const NOT_FOR_WORKERS =
  /^--(eval|print|input-type|inspect(-brk|-wait)?|watch(-path|-preserve-output)?|test)(=|$)/;

/**
 * The node flags a worker process (`rtcd sfu --workers`, `rtcd turn --workers`) runs with: the
 * primary's (`process.execArgv`: a loader such as `--import tsx`, V8 flags) without those that
 * would make it run something else or clash (`-e`/`-p` code and its `--input-type`,
 * `--inspect*` ports, `--watch`, `--test`), plus `--max-semi-space-size=1` unless the primary
 * or NODE_OPTIONS sets a semi-space size (node-flags.ts: workers relay the packets, and the
 * `rtcd` bin runs every process with it).
 */
export function workerExecArgv(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (['-e', '--eval', '-p', '--print', '--input-type'].includes(a)) {
      i++; // and its value
      continue;
    }
    if (NOT_FOR_WORKERS.test(a) || a === '-i' || a === '--interactive') continue;
    out.push(a);
  }
  if (!hasSemiSpaceFlag(out, nodeOptions)) out.push(SMALL_SEMI_SPACE_FLAG);
  return out;
}
