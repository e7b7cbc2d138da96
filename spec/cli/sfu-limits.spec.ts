/**
 * `rtcd sfu`'s limit flags as a user runs them: each maps onto the SfuServerOptions field of
 * the same name (flag, RTCD_* variable or config key; precedence flag > env > file), values
 * outside what SfuServer accepts are usage errors (exit 2, one line), `--help` documents them,
 * and a real child enforces them: --max-sessions (503 server-full), --request-burst with
 * --requests-per-second (429), --no-metrics (no /metrics). `rtcd --help` explains the
 * signal↔sfu link.
 */
import t from 'tap';
import { resolveSfuConfig } from '../../lib/cli/config.js';
import {
  cliOffer as offer,
  postSdp as post,
  startSfuChild,
  usageError,
} from '../helpers/cli-sfu.js';
import { runRtcd, stop } from '../signal/child.js';

const BASE = { host: '127.0.0.1', port: 8090, udpAddress: '127.0.0.1', udpPort: 40000 };

t.test('limit flags, RTCD_* variables and config keys map onto SfuServerOptions', async (t) => {
  t.same(
    resolveSfuConfig({
      flags: {
        maxSessions: '10',
        maxSessionsPerRoom: '4',
        requestsPerSecond: '0.5',
        requestBurst: '3',
        pendingTimeout: '2000',
        requestTimeout: '5000',
        maxConnections: '64',
        metrics: false,
        fastUdpSend: false,
      },
      env: {},
    }).sfu,
    {
      ...BASE,
      maxSessions: 10,
      maxSessionsPerRoom: 4,
      requestsPerSecond: 0.5,
      requestBurst: 3,
      pendingTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxConnections: 64,
      metrics: false,
      fastUdpSend: false,
    },
    'flags (ms options keep the flag unit, ms)',
  );
  t.same(
    resolveSfuConfig({
      flags: {},
      env: { RTCD_MAX_SESSIONS: '7', RTCD_REQUESTS_PER_SECOND: '2', RTCD_METRICS: 'false' },
    }).sfu,
    { ...BASE, maxSessions: 7, requestsPerSecond: 2, metrics: false },
    'environment',
  );
  t.same(
    resolveSfuConfig({
      flags: { maxSessions: '9' },
      env: { RTCD_MAX_SESSIONS: '8', RTCD_REQUEST_BURST: '5' },
      file: {
        path: 'c.json',
        data: { maxSessions: 1, requestBurst: 2, maxConnections: 32, metrics: true },
      },
    }).sfu,
    { ...BASE, maxSessions: 9, requestBurst: 5, maxConnections: 32, metrics: true },
    'flag > environment > config file',
  );
  t.same(resolveSfuConfig({ flags: {}, env: {} }).sfu, BASE, 'unset: SfuServer’s defaults');

  const cases: [Record<string, string>, string][] = [
    [{ maxSessions: '0' }, 'invalid --max-sessions "0": must be an integer 1-1000000'],
    [{ maxSessionsPerRoom: '1.5' }, 'invalid --max-sessions-per-room "1.5": must be an integer'],
    [{ requestsPerSecond: '0' }, 'invalid --requests-per-second "0": must be a number 0.01-'],
    [{ requestsPerSecond: '1e3' }, 'invalid --requests-per-second "1e3": must be a number'],
    [{ requestBurst: '-1' }, 'invalid --request-burst "-1": must be an integer'],
    [{ pendingTimeout: '0' }, 'invalid --pending-timeout "0": must be an integer 1-3600000'],
    [{ requestTimeout: '50' }, 'invalid --request-timeout "50": must be an integer 100-600000'],
    [{ maxConnections: 'many' }, 'invalid --max-connections "many": must be an integer'],
  ];
  for (const [flags, want] of cases) {
    t.match(
      usageError(() => resolveSfuConfig({ flags, env: {} })),
      want,
      want,
    );
  }
  t.match(
    usageError(() => resolveSfuConfig({ flags: {}, env: { RTCD_METRICS: 'maybe' } })),
    'RTCD_METRICS',
    'a bad boolean in the environment names the variable',
  );
});

t.test('bad limit values exit 2 with one line', async (t) => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['sfu', '--max-sessions', '0'], {}, /^rtcd: invalid --max-sessions "0": /],
    [['sfu', '--requests-per-second', 'fast'], {}, /^rtcd: invalid --requests-per-second /],
    [['sfu'], { RTCD_REQUEST_TIMEOUT: '5' }, /^rtcd: invalid RTCD_REQUEST_TIMEOUT "5": /],
    [['sfu', '--metrics', 'x'], {}, /^rtcd: too many arguments/],
  ];
  const results = await Promise.all(cases.map(([args, env]) => runRtcd(args, env)));
  for (const [i, [args, , want]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, want, args.join(' '));
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  }
});

t.test('rtcd --help explains the signal↔sfu link', async (t) => {
  const r = await runRtcd(['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, 'rtcd signal --sfu-secret S');
  t.match(r.stdout, 'rtcd sfu --signal-url ws://SIGNAL_HOST:8080/sfu --signal-secret S');
  const sfu = await runRtcd(['sfu', '--help']);
  t.match(sfu.stdout, '--no-metrics', 'sfu --help says how to turn /metrics off');
  t.match(sfu.stdout, '--no-fast-udp-send', "sfu --help offers Node's socket.send for media");
  t.match(sfu.stdout, /503 \(--max-sessions, --max-sessions-per-room\), 429/);
});

t.test('a child enforces --max-sessions, --request-burst and --no-metrics', async (t) => {
  const { child, ready } = await startSfuChild<{ url: string; metrics?: string }>(t, [
    'sfu',
    '--listen',
    '127.0.0.1:0',
    '--udp-port',
    '0',
    '--max-sessions',
    '1',
    '--request-burst',
    '3',
    '--requests-per-second',
    '0.01',
    '--no-metrics',
  ]);
  t.equal(ready.metrics, undefined, 'the listening line names no /metrics URL');
  const metrics = await fetch(`${ready.url}/metrics`);
  t.equal(metrics.status, 404, '--no-metrics: no /metrics');
  await metrics.body?.cancel();
  const first = await post(`${ready.url}/whip/lim`, offer('sendonly', 'pub1'));
  t.equal(first.status, 201, 'the first session is taken');
  await first.body?.cancel();
  const second = await post(`${ready.url}/whip/lim`, offer('sendonly', 'pub2'));
  t.equal(second.status, 503, '--max-sessions 1: the second is refused');
  t.match(await second.json(), { error: 'server-full' });
  const third = await post(`${ready.url}/whip/lim`, offer('sendonly', 'pub3'));
  t.equal(third.status, 429, '--request-burst 3 spent: rate-limited');
  t.ok(Number(third.headers.get('retry-after')) >= 1, 'with Retry-After');
  await third.body?.cancel();
  t.equal(await stop(child), 0);
});
