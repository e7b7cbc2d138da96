/**
 * The limits of `rtcd sfu --workers 2` as a real process: `--max-sessions` counts all workers
 * together, `--requests-per-second/--request-burst` count each client address at the front
 * (the workers, which only see the front's loopback address, do not limit), bad input gets the
 * same status and JSON body as from one process, and a worker that cannot start (its UDP port,
 * `--udp-port` + its slot, is taken) stops everything with exit 1.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import { cliOffer as offer, postSdp as post, startSfuChild } from '../helpers/cli-sfu.js';
import { runRtcd, stop } from '../signal/child.js';

const candidatePort = (sdp: string) =>
  Number(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(sdp)?.[1]);

t.test('--max-sessions is the total; rate limits per address at the front; same 4xx', async (t) => {
  const { child, ready } = await startSfuChild<{ url: string }>(t, [
    'sfu',
    '--listen',
    '127.0.0.1:0',
    '--udp-port',
    '0',
    '--workers',
    '2',
    '--max-sessions',
    '2',
    '--requests-per-second',
    '0.01',
    '--request-burst',
    '6',
  ]);
  const url = ready.url;
  // 1, 2: one session on each worker.
  const a = await post(`${url}/whip/a`, offer('sendonly', 'lima'));
  const b = await post(`${url}/whip/b`, offer('sendonly', 'limb'));
  t.equal(a.status, 201);
  t.equal(b.status, 201);
  t.not(candidatePort(await a.text()), candidatePort(await b.text()), 'on two workers');
  // 3: each worker holds one session of its 2, but the server holds 2 of 2.
  const c = await post(`${url}/whip/c`, offer('sendonly', 'limc'));
  t.equal(c.status, 503, '--max-sessions counts both workers');
  t.equal(c.headers.get('retry-after'), '5');
  t.same(await c.json(), { error: 'server-full', message: '2 sessions held' });
  // 4-6: bad input, answered as one process answers it.
  const wrongType = await fetch(`${url}/whip/a`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'x',
  });
  t.equal(wrongType.status, 415);
  t.same(await wrongType.json(), {
    error: 'unsupported-media-type',
    message: 'Content-Type must be application/sdp',
  });
  const badLayer = await post(`${url}/whep/a?layer=7`, offer('recvonly', 'limd'));
  t.equal(badLayer.status, 400);
  t.same(await badLayer.json(), { error: 'bad-layer', message: 'layer must be an integer 0-3' });
  const badRoute = await fetch(`${url}/resource/nope`, { method: 'DELETE' });
  t.equal(badRoute.status, 404);
  t.same(await badRoute.json(), { error: 'not-found', message: 'no such route' });
  // 7: the address has used its burst of 6.
  const limited = await post(`${url}/whep/a`, offer('recvonly', 'lime'));
  t.equal(limited.status, 429, 'the seventh request from 127.0.0.1');
  t.ok(Number(limited.headers.get('retry-after')) >= 1, 'with Retry-After');
  t.same(await limited.json(), {
    error: 'rate-limited',
    message: 'too many requests from this address',
  });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(metrics, /^rtcd_sfu_http_errors_total\{code="rate-limited"\} 1$/m);
  t.match(metrics, /^rtcd_sfu_http_errors_total\{code="server-full"\} 1$/m);
  t.match(metrics, /^rtcd_sfu_http_errors_total\{code="bad-layer"\} 1$/m, 'a worker’s, summed');
  t.equal(await stop(child), 0);
});

t.test('a worker that cannot bind its UDP port stops the start with exit 1', async (t) => {
  // Two free ports in a row: the first for worker 0, the second taken for worker 1.
  let taken: ReturnType<typeof createSocket> | undefined;
  let base = 0;
  for (let i = 0; i < 20 && base === 0; i++) {
    const probe = createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const p = probe.address().port;
    probe.close();
    if (p >= 65535) continue;
    const next = createSocket('udp4');
    try {
      next.bind(p + 1, '127.0.0.1');
      await once(next, 'listening');
      taken = next;
      base = p;
    } catch {
      next.close();
    }
  }
  t.teardown(() => taken?.close());
  t.ok(base > 0, 'found a port whose next one we hold');
  const r = await runRtcd([
    'sfu',
    '--listen',
    '127.0.0.1:0',
    '--udp-port',
    String(base),
    '--workers',
    '2',
  ]);
  t.equal(r.code, 1);
  t.match(r.stderr, /EADDRINUSE/, 'the worker says why');
  t.match(r.stderr, /^rtcd: cannot start: SFU worker 1 exited \(1\) before listening$/m);
});
