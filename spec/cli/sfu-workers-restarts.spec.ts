/**
 * `rtcd sfu --workers 2` when workers keep dying: each death is replaced on its slot, but a
 * sixth within a minute stops the whole server with exit 1 (as `rtcd turn --workers` does), and
 * the other worker goes with it.
 */
import t from 'tap';
import { startRtcd, waitForOutput } from '../signal/child.js';

interface WorkerLine {
  worker: number;
  workerPid: number;
}

t.test('more than five worker deaths a minute stop the server with exit 1', async (t) => {
  const child = startRtcd(['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--workers', '2']);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const workerLines = (from: number): WorkerLine[] =>
    child
      .out()
      .slice(from)
      .split('\n')
      .filter((l) => l.includes('"worker listening"'))
      .map((l) => JSON.parse(l) as WorkerLine);
  await waitForOutput(child, (out) => (out.includes('rtcd sfu listening') ? true : undefined));
  const other = workerLines(0).find((w) => w.worker === 1)!.workerPid;
  let victim = workerLines(0).find((w) => w.worker === 0)!.workerPid;
  for (let death = 1; death <= 5; death++) {
    const from = child.out().length;
    process.kill(victim, 'SIGKILL');
    const next = await waitForOutput(child, () => workerLines(from)[0]);
    t.equal(next.worker, 0, `death ${death}: slot 0 is started again`);
    victim = next.workerPid;
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  process.kill(victim, 'SIGKILL');
  t.equal(await exited, 1, 'the sixth death in a minute stops the server');
  t.match(child.out(), /"msg":"workers keep dying; stopping"/);
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(other, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, 'the other worker is gone too');
});
