/**
 * `main()` embedded in another program runs `sfu --workers 2` as the bin does: its workers are
 * rtcd's worker entry (not the embedding script run again, nor `process.argv[1]`, which a
 * `node -e` program does not have), with the embedder's node flags (`--import tsx` here) plus
 * `--max-semi-space-size=1`, which the embedder did not pass; they serve WHIP through the
 * front, /healthz counts them, and SIGTERM drains them and exits 0.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { workerExecArgv } from '../../lib/cli/sfu-workers.js';
import { cliOffer, postSdp } from '../helpers/cli-sfu.js';
import { type Child, startNode, stop, waitForOutput } from '../signal/child.js';

const SFU_ARGS = ['--listen', '127.0.0.1:0', '--udp-port', '0', '--workers', '2'];

t.test('workerExecArgv: the primary’s node flags, minus what would run something else', (t) => {
  t.same(workerExecArgv(['--import', 'tsx'], undefined), [
    '--import',
    'tsx',
    '--max-semi-space-size=1',
  ]);
  t.same(workerExecArgv(['--max-semi-space-size=1'], undefined), ['--max-semi-space-size=1']);
  t.same(workerExecArgv([], '--max-semi-space-size=2'), [], 'NODE_OPTIONS sets it already');
  t.same(
    workerExecArgv(
      ['--input-type=module', '-e', 'code', '--inspect=9229', '--print=1', '--watch', '-i'],
      '--max-semi-space-size=4',
    ),
    [],
  );
  t.same(workerExecArgv(['--input-type', 'module', '--eval', 'x', '--enable-source-maps'], ''), [
    '--enable-source-maps',
    '--max-semi-space-size=1',
  ]);
  t.end();
});

function spawnNode(args: string[]): Child {
  return startNode(process.execPath, args, { RTCD_LOG_LEVEL: 'info' }, { semiSpace: false });
}

async function checkServes(t: Test, child: Child): Promise<void> {
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const ready = await waitForOutput(child, (out) => {
    const line = out.split('\n').find((l) => l.includes('rtcd sfu listening'));
    return line === undefined ? undefined : (JSON.parse(line) as { url: string; workers: number });
  });
  t.equal(ready.workers, 2);
  t.same(await (await fetch(`${ready.url}/healthz`)).json(), { status: 'ok', workers: 2 });
  const res = await postSdp(`${ready.url}/whip/embedded`, cliOffer('sendonly', 'embd'));
  t.equal(res.status, 201, 'WHIP through the front to a worker');
  t.match(await res.text(), /^v=0/);
  const pids = child
    .out()
    .split('\n')
    .filter((l) => l.includes('"worker listening"'))
    .map((l) => (JSON.parse(l) as { workerPid: number }).workerPid);
  t.equal(pids.length, 2, 'two workers listening');
  for (const pid of pids) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    t.ok(argv.includes('tsx'), 'the worker has the embedder’s --import tsx');
    t.ok(argv.includes('--max-semi-space-size=1'), 'and the small semi-space');
    t.match(
      argv.find((a) => a.includes('sfu-worker-entry')) ?? '',
      /lib\/cli\/sfu-worker-entry\.ts$/,
    );
  }
  t.notMatch(child.out(), /without --max-semi-space-size/, 'nothing to warn about');
  t.equal(await stop(child), 0, 'SIGTERM drains the workers and exits 0');
}

t.test('a script calling main() with its own argv', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-embed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runs = join(dir, 'runs');
  const child = spawnNode([
    '--import',
    'tsx',
    'spec/cli/sfu-workers-embed-child.ts',
    runs,
    ...SFU_ARGS,
  ]);
  await checkServes(t, child);
  t.equal(readFileSync(runs, 'utf8').trim().split('\n').length, 1, 'the script ran once');
});

t.test('node -e code calling main() (no process.argv[1])', async (t) => {
  const main = new URL('../../lib/cli/main.ts', import.meta.url).href;
  const code =
    `const { main } = await import(${JSON.stringify(main)});\n` +
    `await main(['node', 'inline', 'sfu', ${SFU_ARGS.map((a) => JSON.stringify(a)).join(', ')}]);`;
  const child = spawnNode(['--import', 'tsx', '--input-type=module', '-e', code]);
  await checkServes(t, child);
});
