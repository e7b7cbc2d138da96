/**
 * Keystream runs detach each ECB result once it is copied into the run
 * (lib/srtp/keystream-runs.ts `release`), where Node has ArrayBuffer.prototype.transfer
 * (Node 22; Node 20 under `--harmony-rab-gsab-transfer`, which these children are given):
 * node:crypto's ~20 kB backing store of a run is then freed at once, not at the next
 * scavenge. Checked in children under the SFU's `--max-semi-space-size=1`: every packet still
 * round-trips, the ArrayBuffer memory stays near what the runs hold (200 sessions each way:
 * ~8 MB; ~11-13 MB seen) where without detaching it reaches ~35 MB between scavenges, and the
 * runs still free young (the promotion child of keystream-promotion.spec.ts: at most 2
 * mark-sweeps). And on a Node without the flag, enableEcbResultRelease() turns the same
 * release on from the program.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import t from 'tap';

const run = promisify(execFile);
const detachChild = fileURLToPath(new URL('./keystream-detach-child.ts', import.meta.url));
const promotionChild = fileURLToPath(new URL('./keystream-promotion-child.ts', import.meta.url));
const FLAGS = ['--max-semi-space-size=1', '--harmony-rab-gsab-transfer', '--import', 'tsx'];

async function detached(t: Test, flags: string[], args: string[]): Promise<void> {
  const { stdout } = await run(process.execPath, [...flags, detachChild, ...args], {
    timeout: 60_000,
  });
  const r = JSON.parse(stdout) as {
    transfer: boolean;
    packets: number;
    ok: number;
    maxArrayBuffers: number;
    major: number;
  };
  t.equal(r.transfer, true, 'the child releases ECB results');
  t.equal(r.ok, r.packets, `all ${r.packets} packets protected and opened`);
  t.ok(
    r.maxArrayBuffers < 18 * 1024 * 1024,
    `ArrayBuffer memory at most ${(r.maxArrayBuffers / 1048576).toFixed(1)} MB (< 18)`,
  );
  t.ok(r.major <= 2, `${r.major} mark-sweeps`);
}

t.test('detached ECB results: packets round-trip, ArrayBuffer memory stays small', (t) =>
  detached(t, FLAGS, ['400']),
);

t.test('enableEcbResultRelease() turns release on without the V8 flag', (t) =>
  detached(t, ['--max-semi-space-size=1', '--import', 'tsx'], ['400', 'enable']),
);

t.test('with detaching, keystream runs still free young (no run of mark-sweeps)', async (t) => {
  const { stdout } = await run(process.execPath, [...FLAGS, promotionChild, '1000'], {
    timeout: 60_000,
  });
  const r = JSON.parse(stdout) as { packets: number; major: number; minor: number };
  t.equal(r.packets, 284_700);
  t.ok(r.minor > 20, `the garbage forced scavenges (${r.minor})`);
  t.ok(r.major <= 2, `at most 2 mark-sweeps while protecting ${r.packets} packets: ${stdout}`);
});
