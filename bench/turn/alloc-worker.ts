/**
 * Allocation-rate worker (forked child): `count` times, a fresh TurnClient connects, allocates
 * (401 challenge, then the authenticated request: RFC 8656 §7.2) and closes (Refresh with
 * lifetime 0), with `concurrency` of them in flight at once.
 */
import { TurnClient } from '../../lib/turn/client.js';
import { type AllocJob, errorText, type FromAllocWorker, isTyped } from './protocol.js';

function reply(m: FromAllocWorker): void {
  process.send?.(m);
}

async function one(job: AllocJob, i: number): Promise<void> {
  const user = job.users[i % job.users.length]!;
  const client = await TurnClient.connect({
    server: job.server,
    localAddress: '127.0.0.1',
    username: user.username,
    password: user.password,
    rtoMs: 200,
  });
  try {
    await client.allocate();
  } finally {
    await client.close();
  }
}

async function run(job: AllocJob): Promise<FromAllocWorker> {
  const errors: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + job.timeoutMs;
  const lane = async (): Promise<void> => {
    while (next < job.count && performance.now() < deadline) {
      const i = next++;
      try {
        await one(job, i);
        ok++;
      } catch (err) {
        failed++;
        const key = errorText(err).split(':')[0] ?? 'error';
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  return { type: 'alloc-done', ok, failed, errors, elapsedMs: performance.now() - t0 };
}

process.on('message', (m: unknown) => {
  if (!isTyped(m) || m.type !== 'alloc') return;
  run(m as AllocJob).then(reply, (err: unknown) =>
    reply({ type: 'error', message: errorText(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
