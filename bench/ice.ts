/**
 * `npm run bench -- ice [--quick] [--rounds N] [--only connect|mux] [--json]`:
 * - start → connected of two full agents on loopback (host, srflx, relay), ours beside
 *   werift's agent and a bare UDP round trip in the same run (bench/ice/connect.ts);
 * - checks answered per second and memory per session of the ICE-lite mux with 10,000
 *   sessions on one port, beside a bare dgram echo (bench/ice/mux.ts).
 * `--quick` is the smoke-test size (a few hundred ms per part). See bench/RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { benchConnect, type ConnectRow, formatConnectRows } from './ice/connect.js';
import { benchMux, formatMuxRows, type MuxBenchRow } from './ice/mux.js';

export interface IceBenchResult {
  connect?: ConnectRow[];
  mux?: MuxBenchRow[];
}

export async function runIceBench(args: string[]): Promise<IceBenchResult> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const only = values.only;
  if (only !== undefined && only !== 'connect' && only !== 'mux') {
    throw new TypeError(`--only takes connect or mux, got ${only}`);
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) {
    throw new TypeError(`--rounds must be a positive integer, got ${values.rounds}`);
  }
  const result: IceBenchResult = {};
  if (only !== 'mux') {
    result.connect = await benchConnect({ rounds: rounds ?? (values.quick ? 1 : 10) });
    if (!values.json) console.log(formatConnectRows(result.connect));
  }
  if (only !== 'connect') {
    result.mux = await benchMux(
      values.quick ? { sessions: 1000, durationMs: 300, rounds: 1 } : { rounds: rounds ?? 2 },
    );
    if (!values.json) console.log(`\n${formatMuxRows(result.mux)}`);
  }
  if (values.json) console.log(JSON.stringify(result));
  return result;
}

export async function main(args: string[]): Promise<number> {
  try {
    await runIceBench(args);
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    return 1;
  }
}
