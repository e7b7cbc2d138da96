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

/**
 * A distinct loopback source address per cycle (127.0.0.0/8 is all local on Linux). With one
 * address, the kernel's random ephemeral ports repeat by the birthday bound (~70 times in 2000
 * binds), and a server that still remembers the closed 5-tuple answers 437 (coturn does).
 */
function sourceAddress(i: number): string {
  return `127.${1 + (Math.floor(i / 62_500) % 250)}.${1 + (Math.floor(i / 250) % 250)}.${1 + (i % 250)}`;
}

async function one(job: AllocJob, i: number): Promise<void> {
  const user = job.users[i % job.users.length]!;
  const client = await TurnClient.connect({
    server: job.server,
    localAddress: sourceAddress(job.sourceOffset + i),
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
        const stunCode = err instanceof Error ? Reflect.get(err, 'stunCode') : undefined;
        const key = `${errorText(err).split(':')[0]}${stunCode ? ` ${stunCode}` : ''}`;
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
