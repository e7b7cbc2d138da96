/**
 * `rtcd signal` and `rtcd dev` as a user runs them: usage errors (exit 2, one line naming the
 * option), a real join over WebSocket, the loud --no-auth warning, the drain on SIGTERM, and
 * `rtcd dev` serving the page and minting TURN credentials its TURN server accepts.
 */
import t from 'tap';
import { resolveSignalConfig } from '../../lib/cli/config.js';
import { listeningPort, runRtcd, startRtcd, stop, waitForOutput } from '../signal/child.js';
import { TestClient } from '../signal/fixture.js';

t.test('flags, environment and config map onto SignalServerOptions', async (t) => {
  const cfg = resolveSignalConfig({
    flags: { listen: '127.0.0.1:9000', turnUrl: ['turn:h:3478'], maxPeersPerRoom: '4' },
    env: { RTCD_JWT_SECRET: 's3cret', RTCD_TURN_SECRET: 't', RTCD_SESSION_RETENTION: '60' },
    file: { path: 'c.json', data: { resumeGrace: 1000, redis: 'redis://127.0.0.1:1/0' } },
  });
  t.same(cfg.signal, {
    listen: { host: '127.0.0.1', port: 9000 },
    jwtSecret: 's3cret',
    turnSecret: 't',
    turnUrls: ['turn:h:3478'],
    maxPeersPerRoom: 4,
    resumeGraceMs: 1000,
    sessionRetentionMs: 60000,
  });
  t.equal(cfg.redis, 'redis://127.0.0.1:1/0');
  t.equal(cfg.redisMemberTtl, undefined);
  t.equal(resolveSignalConfig({ flags: { auth: false }, env: {} }).signal.noAuth, true);
  t.equal(resolveSignalConfig({ flags: {}, env: { RTCD_AUTH: 'false' } }).signal.noAuth, true);
});

t.test('usage errors exit 2 with one line', async (t) => {
  const cases: [string[], RegExp][] = [
    [['signal'], /^rtcd: rtcd signal needs --jwt-secret or --jwks-url \(or --no-auth\)\n$/],
    [['signal', '--no-auth', '--redis', 'http://x'], /^rtcd: invalid --redis "http:\/\/x": /],
    [['signal', '--no-auth', '--max-rooms', '0'], /^rtcd: invalid --max-rooms "0": /],
    [
      ['signal', '--no-auth', '--turn-url', 'turn:h:3478'],
      /^rtcd: invalid --turn-secret: turn: URLs need turnSecret/,
    ],
    [['signal', '--no-auth', '--turn-url', 'http://h'], /^rtcd: invalid --turn-url: "http:\/\/h"/],
  ];
  // In parallel: each is a process start (tsx) and the spec must stay short.
  const results = await Promise.all(cases.map(([args]) => runRtcd(args)));
  for (const [i, [args, want]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, want, args.join(' '));
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1);
  }
});

t.test('an unreachable --redis fails the start with one line (exit 1)', async (t) => {
  const r = await runRtcd([
    'signal',
    '--listen',
    '127.0.0.1:0',
    '--no-auth',
    '--redis',
    'redis://127.0.0.1:1',
  ]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^rtcd: cannot start: cannot connect to Redis: .*\n$/);
});

t.test('signal --no-auth serves a join, warns loudly, drains on SIGTERM', async (t) => {
  const child = startRtcd(['signal', '--listen', '127.0.0.1:0', '--no-auth']);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const port = await listeningPort(child);
  const warn = child
    .out()
    .split('\n')
    .find((l) => l.includes('AUTHENTICATION IS OFF'));
  t.match(JSON.parse(warn ?? '{}'), { level: 'warn' });
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.same(await health.json(), { status: 'ok', store: 'memory' });
  const c = await TestClient.open(`ws://127.0.0.1:${port}/ws`);
  t.match(await c.join('cli'), { type: 'joined', room: 'cli' });
  const exit = stop(child);
  t.equal(await c.closed, 1001);
  t.equal(await exit, 0);
});

t.test('dev runs signal + turn, prints the page URL, mints TURN credentials', async (t) => {
  const child = startRtcd(['dev', '--port', '0', '--signal-port', '0', '--sfu-port', '0']);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const block = await waitForOutput(child, (out) =>
    out.includes('Stop with Ctrl-C.') ? out : undefined,
  );
  const page = /Open +(http:\/\/127\.0\.0\.1:(\d+)\/\?room=dev)/.exec(block);
  t.ok(page, 'the page URL is printed');
  const port = Number(page![2]);
  const turnPort = Number(/stun:127\.0\.0\.1:(\d+)/.exec(block)?.[1]);
  const html = await fetch(page![1]!);
  // `npm run build` (prepare) puts the web client in dist/web; without it the banner says so.
  t.equal(html.status, block.includes('not built') ? 404 : 200, 'the page is served when built');
  const c = await TestClient.open(`ws://127.0.0.1:${port}/ws`);
  const joined = await c.join('dev');
  const [ice] = joined.iceServers as { urls: string[]; username: string; credential: string }[];
  t.same(ice!.urls, [
    `stun:127.0.0.1:${turnPort}`,
    `turn:127.0.0.1:${turnPort}?transport=udp`,
    `turn:127.0.0.1:${turnPort}?transport=tcp`,
  ]);
  t.match(ice!.username, /^\d+:p_/);
  const { TurnClient } = await import('../../lib/turn/client.js');
  const client = await TurnClient.connect({
    server: { host: '127.0.0.1', port: turnPort },
    username: ice!.username,
    password: ice!.credential,
    localAddress: '127.0.0.1',
  });
  t.teardown(() => client.close());
  const allocation = await client.allocate();
  t.equal(allocation.relayed.address, '127.0.0.1', 'the credential from joined allocates');
  c.close();
  t.equal(await stop(child), 0);
});
