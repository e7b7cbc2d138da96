/**
 * `rtcd sfu` (and the SFU inside `rtcd dev`) as a user runs them: flags, environment and config
 * mapped onto SfuServerOptions, usage errors (exit 2, one line), a busy UDP port (exit 1), and
 * a real child process answering an RFC 9725 WHIP POST (201 + Location, the announced address
 * in its candidates), a WHEP view of it, DELETE (200), and SIGTERM exiting 0.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import { resolveSfuConfig } from '../../lib/cli/config.js';
import { kebab, sfuOptions } from '../../lib/cli/option-spec.js';
import {
  cliOffer as offer,
  postSdp as post,
  startSfuChild,
  usageError,
} from '../helpers/cli-sfu.js';
import { runRtcd, startRtcd, stop, waitForOutput } from '../signal/child.js';

t.test('flags, environment and config map onto SfuServerOptions', async (t) => {
  t.same(resolveSfuConfig({ flags: {}, env: {} }), {
    sfu: { host: '127.0.0.1', port: 8090, udpAddress: '127.0.0.1', udpPort: 40000 },
    logLevel: 'info',
  });
  const cfg = resolveSfuConfig({
    flags: { listen: '0.0.0.0:9000' },
    env: { RTCD_UDP_PORT: '0', RTCD_ANNOUNCED_IP: '203.0.113.7, 2001:db8::7' },
    file: { path: 'c.json', data: { udpAddress: '0.0.0.0', udpPort: 5, logLevel: 'warn' } },
  });
  t.same(cfg, {
    sfu: {
      host: '0.0.0.0',
      port: 9000,
      udpAddress: '0.0.0.0',
      udpPort: 0,
      announcedAddress: ['203.0.113.7', '2001:db8::7'],
    },
    logLevel: 'warn',
  });
  t.equal(
    usageError(() => resolveSfuConfig({ flags: { udpAddress: '::' }, env: {} })),
    '--udp-address :: needs --announced-ip (the address clients reach)',
  );
  t.equal(
    usageError(() => resolveSfuConfig({ flags: { announcedIp: ['sfu.example'] }, env: {} })),
    'invalid --announced-ip "sfu.example": must be an IPv4 or IPv6 address',
  );
  t.equal(
    usageError(() =>
      resolveSfuConfig({ flags: {}, env: {}, file: { path: 'c.json', data: { jwtSecret: 'x' } } }),
    ),
    'unknown key "jwtSecret" in config file c.json',
  );
});

t.test('sfu --help documents every option, WHIP/WHEP and the environment', async (t) => {
  const r = await runRtcd(['sfu', '--help']);
  t.equal(r.code, 0);
  for (const [key, spec] of Object.entries(sfuOptions)) {
    t.match(r.stdout, `--${kebab(key)}${'switch' in spec ? ' ' : ' <'}`, key);
  }
  t.match(r.stdout, 'POST to http://HOST:PORT/whep/ROOM');
  t.match(r.stdout, 'RTCD_ANNOUNCED_IP=');
});

t.test('usage errors exit 2 with one line', async (t) => {
  const cases: [string[], RegExp][] = [
    [['sfu', '--udp-port', '70000'], /^rtcd: invalid --udp-port "70000": /],
    [['sfu', '--udp-address', '0.0.0.0'], /^rtcd: --udp-address 0\.0\.0\.0 needs --announced-ip/],
    [['sfu', '--listen', 'localhost:1'], /^rtcd: invalid --listen "localhost:1": /],
    [['sfu', '--room', 'x'], /^rtcd: unknown option '--room'/],
  ];
  const results = await Promise.all(cases.map(([args]) => runRtcd(args)));
  for (const [i, [args, want]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, want, args.join(' '));
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  }
});

t.test('a busy --udp-port fails the start with one line (exit 1)', async (t) => {
  const busy = createSocket('udp4');
  busy.bind(0, '127.0.0.1');
  await once(busy, 'listening');
  t.teardown(() => busy.close());
  const port = String(busy.address().port);
  const r = await runRtcd(['sfu', '--listen', '127.0.0.1:0', '--udp-port', port]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^rtcd: cannot start: .*EADDRINUSE.*\n$/);
});

t.test('sfu answers WHIP and WHEP, DELETE ends them, SIGTERM exits 0', async (t) => {
  const { child, ready } = await startSfuChild<{
    url: string;
    port: number;
    udp: { port: number };
    metrics: string;
  }>(t, ['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--announced-ip', '192.0.2.10'], {
    RTCD_LOG_LEVEL: 'info',
  });
  t.equal(ready.metrics, `${ready.url}/metrics`, 'the listening line names the /metrics URL');
  t.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.ok(ready.udp.port > 0, 'the UDP port actually bound is logged');

  const res = await post(`${ready.url}/whip/cli`, offer('sendonly', 'pub1'));
  t.equal(res.status, 201);
  const location = res.headers.get('location') ?? '';
  t.match(location, /^\/resource\/[0-9a-f-]{36}$/);
  const answer = await res.text();
  t.match(answer, /a=recvonly/);
  const candidate = /a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/.exec(answer);
  t.equal(candidate?.[1], '192.0.2.10', '--announced-ip is the candidate address');
  t.equal(Number(candidate?.[2]), ready.udp.port, 'on the bound UDP port');

  const view = await post(`${ready.url}/whep/cli`, offer('recvonly', 'view1'));
  t.equal(view.status, 201);
  t.match(await view.text(), /a=sendonly/);
  const missing = await post(`${ready.url}/whep/nobody`, offer('recvonly', 'view2'));
  t.equal(missing.status, 404, 'WHEP of a room without a publisher');
  await missing.body?.cancel();

  t.equal((await fetch(`${ready.url}${location}`, { method: 'DELETE' })).status, 200);
  t.equal((await fetch(`${ready.url}${location}`, { method: 'DELETE' })).status, 404);
  t.equal(await stop(child), 0);
});

t.test('dev also runs the SFU on loopback and prints its WHIP/WHEP URLs', async (t) => {
  const child = startRtcd(['dev', '--port', '0', '--signal-port', '0', '--sfu-port', '0']);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const block = await waitForOutput(child, (out) =>
    out.includes('Stop with Ctrl-C.') ? out : undefined,
  );
  const whip = /WHIP +(http:\/\/127\.0\.0\.1:(\d+))\/whip\/ROOM/.exec(block);
  t.ok(whip, 'the WHIP URL is printed');
  t.match(block, `WHEP         ${whip![1]}/whep/ROOM`);
  t.match(block, `SFU metrics  ${whip![1]}/metrics`, 'the SFU’s /metrics URL is printed');
  const metrics = await fetch(`${whip![1]}/metrics`);
  t.equal(metrics.status, 200, 'and serves');
  t.match(await metrics.text(), /^rtcd_sfu_/m, 'the SFU’s counters');
  const res = await post(`${whip![1]}/whip/dev`, offer('sendonly', 'dev1'));
  t.equal(res.status, 201);
  t.match(await res.text(), /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  t.equal(await stop(child), 0);
});

t.test('dev with a busy --sfu-port fails with one line naming the flag', async (t) => {
  const { createServer } = await import('node:net');
  const busy = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const r = await runRtcd(['dev', '--port', '0', '--signal-port', '0', '--sfu-port', `${port}`]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^rtcd: cannot start: 127\.0\.0\.1:\d+ is already in use .*--sfu-port\n$/);
});
