/**
 * The SFU link as a user sets it up: `rtcd signal --sfu-secret` and `rtcd sfu --signal-url
 * --signal-secret` from flags, RTCD_* variables and the config file, their usage errors
 * (exit 2, one line), their help, and two real processes linked: a client joining an sfu room
 * on the signal node gets its `publish` answered by the SFU process (an error for an offer
 * that is not SDP: the full path, through both processes and back).
 */
import t from 'tap';
import WebSocket from 'ws';
import { resolveSfuConfig, resolveSignalConfig } from '../../lib/cli/config.js';
import { startLinkSignal, usageError } from '../helpers/cli-sfu.js';
import { runRtcd, startRtcd, stop, waitForOutput } from '../signal/child.js';

t.test('--sfu-secret: flag, environment, config file', async (t) => {
  const base = { auth: false };
  t.equal(
    resolveSignalConfig({ flags: { ...base, sfuSecret: 's1' }, env: {} }).signal.sfuSecret,
    's1',
  );
  t.equal(
    resolveSignalConfig({ flags: base, env: { RTCD_SFU_SECRET: 's2' } }).signal.sfuSecret,
    's2',
  );
  t.equal(
    resolveSignalConfig({
      flags: base,
      env: {},
      file: { path: 'c.json', data: { sfuSecret: 's3' } },
    }).signal.sfuSecret,
    's3',
  );
  t.equal(resolveSignalConfig({ flags: base, env: {} }).signal.sfuSecret, undefined, 'default off');
  t.match(
    usageError(() => resolveSignalConfig({ flags: base, env: { RTCD_SFU_SECRET: '' } })),
    /^invalid RTCD_SFU_SECRET "": must not be empty$/,
  );
});

t.test('--signal-url and --signal-secret go together', async (t) => {
  const url = 'ws://10.0.0.1:8080/sfu';
  const link = { urls: [url], secret: 'k' };
  t.same(
    resolveSfuConfig({ flags: { signalUrl: url, signalSecret: 'k' }, env: {} }).signalLink,
    link,
  );
  t.same(
    resolveSfuConfig({
      flags: {},
      env: { RTCD_SIGNAL_URL: url, RTCD_SIGNAL_SECRET: 'k' },
    }).signalLink,
    link,
  );
  t.same(
    resolveSfuConfig({
      flags: {},
      env: {},
      file: { path: 'c.json', data: { signalUrl: url, signalSecret: 'k' } },
    }).signalLink,
    link,
  );
  t.same(
    resolveSfuConfig({
      flags: { signalUrl: [url, 'wss://n2.example/sfu'], signalSecret: 'k' },
      env: {},
    }).signalLink,
    { urls: [url, 'wss://n2.example/sfu'], secret: 'k' },
    'one link per signal node',
  );
  t.equal(resolveSfuConfig({ flags: {}, env: {} }).signalLink, undefined, 'no link by default');
  t.match(
    usageError(() => resolveSfuConfig({ flags: { signalUrl: url }, env: {} })),
    /--signal-url needs --signal-secret/,
  );
  t.match(
    usageError(() => resolveSfuConfig({ flags: { signalSecret: 'k' }, env: {} })),
    /--signal-secret needs --signal-url/,
  );
  t.match(
    usageError(() =>
      resolveSfuConfig({ flags: { signalUrl: 'http://h/sfu', signalSecret: 'k' }, env: {} }),
    ),
    /^invalid --signal-url "http:\/\/h\/sfu": must be a ws:\/\/ or wss:\/\/ URL$/,
  );
});

t.test('help lists the link options; a usage error exits 2 with one line', async (t) => {
  const signal = await runRtcd(['signal', '--help']);
  t.equal(signal.code, 0);
  t.match(signal.stdout, /--sfu-secret <secret>/);
  const sfu = await runRtcd(['sfu', '--help']);
  t.equal(sfu.code, 0);
  t.match(sfu.stdout, /--signal-url <url>/);
  t.match(sfu.stdout, /--signal-secret <secret>/);
  const bad = await runRtcd(['sfu', '--signal-url', 'ws://127.0.0.1:1/sfu']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^rtcd: .*--signal-url needs --signal-secret.*\n$/);
});

t.test('rtcd sfu --signal-url serves the sfu rooms of rtcd signal', async (t) => {
  const secret = 'cli-link-secret';
  const { signal, port } = await startLinkSignal(t, secret);
  t.match(signal.out(), /"sfuLink":"\/sfu"/, 'the listening line says where SFUs link in');
  const sfu = startRtcd(
    ['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--log-level', 'info'],
    {
      RTCD_SIGNAL_URL: `ws://127.0.0.1:${port}/sfu`,
      RTCD_SIGNAL_SECRET: secret,
    },
  );
  t.teardown(() => {
    sfu.kill('SIGKILL');
  });
  await waitForOutput(sfu, (out) =>
    out.includes('SFU linked to the signal server') ? 1 : undefined,
  );

  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: { type: string; code?: string; ref?: string }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise((r) => ws.once('open', r));
  const next = async (type: string) => {
    for (let i = 0; i < 200; i++) {
      const f = frames.find((x) => x.type === type);
      if (f !== undefined) return f;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${type}: ${JSON.stringify(frames)}`);
  };
  ws.send(JSON.stringify({ type: 'join', room: 'cli', sessionType: 'sfu' }));
  t.match(await next('joined'), { type: 'joined' });
  ws.send(JSON.stringify({ type: 'publish', sdp: 'this is not SDP' }));
  t.match(await next('error'), { code: 'bad-sdp', ref: 'publish' }, 'answered by the SFU process');

  t.equal(await stop(sfu), 0, 'the SFU exits 0 on SIGTERM');
  const lost = frames.filter((f) => f.type === 'error');
  for (let i = 0; i < 100 && lost.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 25));
    lost.splice(0, lost.length, ...frames.filter((f) => f.type === 'error'));
  }
  t.match(lost[1], { code: 'sfu-unavailable' }, 'the peer hears that the SFU went');
  ws.close();
  t.equal(await stop(signal), 0);
});

t.test('rtcd dev serves sfu rooms in-process and prints the room page', async (t) => {
  const child = startRtcd(['dev', '--port', '0', '--signal-port', '0', '--sfu-port', '0']);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const block = await waitForOutput(child, (out) =>
    out.includes('Stop with Ctrl-C.') ? out : undefined,
  );
  const page = /SFU room +(http:\/\/127\.0\.0\.1:(\d+)\/\?room=dev&mode=sfu)/.exec(block);
  t.ok(page, 'the sfu room page is printed');
  const ws = new WebSocket(`ws://127.0.0.1:${page![2]}/ws`);
  const frames: { type: string; code?: string }[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise((r) => ws.once('open', r));
  const until = async (type: string) => {
    for (let i = 0; i < 200 && !frames.some((f) => f.type === type); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  ws.send(JSON.stringify({ type: 'join', room: 'dev', sessionType: 'sfu' }));
  await until('joined');
  ws.send(JSON.stringify({ type: 'publish', sdp: 'not SDP' }));
  await until('error');
  t.equal(frames[0]?.type, 'joined');
  t.match(frames[1], { type: 'error', code: 'bad-sdp' }, 'the SFU in the process answered');
  ws.close();
  t.equal(await stop(child), 0);
});
