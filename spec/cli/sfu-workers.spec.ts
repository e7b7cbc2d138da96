/**
 * `rtcd sfu --workers N` as a user runs it: the flag from flags, environment and config file
 * (`auto` = one per CPU), its usage errors; then the real CLI with two workers: a WHIP
 * publisher and a WHEP viewer on @roamhq/wrtc get video end to end through a worker, rooms land
 * on both workers (each answer's candidate is on its worker's UDP port, as the listening line
 * lists them), /metrics sums both, a killed worker is replaced and new rooms work, and SIGTERM
 * drains everything and exits 0.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { resolveSfuConfig } from '../../lib/cli/config.js';
import { startSfuChild, usageError } from '../helpers/cli-sfu.js';
import { exitAfterTests, waitFor } from '../helpers/wrtc-client.js';
import { type WhipSession, whepView, whipPublish } from '../helpers/wrtc-whip.js';
import { runRtcd, stop, waitForOutput } from '../signal/child.js';

exitAfterTests(t);

t.test('--workers: flag, environment, config file, auto, and its usage errors', async (t) => {
  t.equal(resolveSfuConfig({ flags: {}, env: {} }).workers, undefined, 'absent: one process');
  t.equal(resolveSfuConfig({ flags: { workers: '4' }, env: {} }).workers, 4);
  t.equal(resolveSfuConfig({ flags: {}, env: { RTCD_WORKERS: 'auto' } }).workers, 0, 'auto');
  t.equal(
    resolveSfuConfig({ flags: {}, env: {}, file: { path: 'c.json', data: { workers: 3 } } })
      .workers,
    3,
  );
  t.equal(
    usageError(() => resolveSfuConfig({ flags: { workers: 'many' }, env: {} })),
    'invalid --workers "many": must be an integer 0-256 or auto (0 and auto: one per CPU)',
  );
  t.equal(
    usageError(() => resolveSfuConfig({ flags: { workers: '4', udpPort: '65534' }, env: {} })),
    'invalid --workers "4": --udp-port 65534 + 4 workers passes 65535',
  );
  t.equal(
    resolveSfuConfig({ flags: { workers: '4', udpPort: '0' }, env: {} }).workers,
    4,
    'ephemeral UDP ports: no range to check',
  );
  const help = await runRtcd(['sfu', '--help']);
  t.match(help.stdout, /--workers <n\|auto>/);
});

interface Listening {
  url: string;
  workers: number;
  udp: { ports: number[] };
}

const candidatePort = (sdp: string) =>
  Number(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(sdp)?.[1]);

t.test(
  'two workers: media end to end, rooms on both, summed metrics, restart, SIGTERM',
  async (t) => {
    const { child, ready } = await startSfuChild<Listening>(
      t,
      ['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--workers', '2'],
      { RTCD_LOG_LEVEL: 'info' },
    );
    t.equal(ready.workers, 2);
    t.equal(ready.udp.ports.length, 2, 'the listening line lists each worker’s UDP port');
    t.equal(new Set(ready.udp.ports).size, 2, 'two distinct ports');
    const sessions: WhipSession[] = [];
    t.teardown(() => {
      for (const s of sessions) s.close();
    });

    const pub = await whipPublish(`${ready.url}/whip/media`);
    sessions.push(pub);
    t.equal(pub.status, 201, 'WHIP through the front');
    const view = await whepView(`${ready.url}/whep/media`);
    sessions.push(view);
    t.equal(view.status, 201, 'WHEP through the front');
    const mediaPort = candidatePort(pub.answer);
    t.ok(ready.udp.ports.includes(mediaPort), 'the publisher is on a worker’s port');
    t.equal(candidatePort(view.answer), mediaPort, 'the viewer is on the same worker');
    await waitFor(() => view.frames() > 10, 20_000, 'frames at the viewer');
    t.ok(view.frames() > 10, `the viewer decodes forwarded video (${view.frames()} frames)`);

    const other = await whipPublish(`${ready.url}/whip/other`);
    sessions.push(other);
    t.equal(other.status, 201);
    const otherPort = candidatePort(other.answer);
    t.not(otherPort, mediaPort, 'a new room goes to the other worker');
    t.ok(ready.udp.ports.includes(otherPort));

    const metrics = await (await fetch(`${ready.url}/metrics`)).text();
    t.match(metrics, /^rtcd_sfu_workers 2$/m);
    t.match(metrics, /^rtcd_sfu_sessions 3$/m, 'sessions of both workers, summed');
    t.match(metrics, /^rtcd_sfu_rooms 2$/m, 'one room on each');
    t.same(await (await fetch(`${ready.url}/healthz`)).json(), { status: 'ok', workers: 2 });

    // Kill the worker holding "other": it is replaced on its slot and port range.
    const slot = ready.udp.ports.indexOf(otherPort);
    const pidLine = child
      .out()
      .split('\n')
      .find((l) => l.includes('"worker listening"') && l.includes(`"worker":${slot},`));
    const pid = (JSON.parse(pidLine ?? '{}') as { workerPid?: number }).workerPid;
    t.ok(pid, 'the worker’s pid is logged');
    // Workers run with the primary's node flags (here --import tsx) plus the small semi-space
    // the primary lacks (they forward the media), so nobody warns that it is missing.
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    t.same(
      argv.slice(1, 4),
      ['--import', 'tsx', '--max-semi-space-size=1'],
      'the worker inherits execArgv and gets the semi-space flag',
    );
    t.notMatch(child.out(), /without --max-semi-space-size/, 'no warning');
    const before = child.out().length;
    process.kill(pid!, 'SIGKILL');
    await waitForOutput(child, (out) =>
      out.slice(before).includes('worker died; starting a new one') ? true : undefined,
    );
    const revived = await waitForOutput(child, (out) => {
      const line = out
        .slice(before)
        .split('\n')
        .find((l) => l.includes('"worker listening"'));
      return line === undefined ? undefined : (JSON.parse(line) as { worker: number });
    });
    t.equal(revived.worker, slot, 'the same slot comes back');
    const again = await whipPublish(`${ready.url}/whip/other`);
    sessions.push(again);
    t.equal(again.status, 201, 'the room of the dead worker starts again');
    const late = await whepView(`${ready.url}/whep/media`);
    sessions.push(late);
    t.equal(late.status, 201, 'the surviving worker still holds its room');
    t.equal(candidatePort(late.answer), mediaPort, 'on the same worker as before');
    await waitFor(() => late.frames() > 5, 20_000, 'frames at the late viewer');
    const after = await (await fetch(`${ready.url}/metrics`)).text();
    t.match(after, /^rtcd_sfu_workers 2$/m, 'two workers up again');
    t.match(after, /^rtcd_sfu_worker_restarts_total 1$/m, 'one restart counted');

    t.equal(await stop(child), 0, 'SIGTERM drains the workers and exits 0');
    t.match(child.out(), /"msg":"draining workers"/);
  },
);
