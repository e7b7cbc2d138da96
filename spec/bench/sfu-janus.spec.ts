import t from 'tap';
import type { E2eStep } from '../../bench/sfu/e2e.js';
import { type JanusResult, janusArgs } from '../../bench/sfu/janus.js';
import { readJanusSdp } from '../../bench/sfu/janus-client.js';
import { formatRatios } from '../../bench/sfu/janus-report.js';
import { PACKETS_PER_SECOND } from '../../bench/sfu/protocol.js';
import { main } from '../../bench/sfu.js';

t.test('the Janus flags come out of the argument list; the rest is for bench/sfu.ts', async (t) => {
  t.same(janusArgs(['--quick', '--only', 'e2e']), {
    run: false,
    steps: undefined,
    budgetSeconds: 30,
    eventLoops: 0,
    rest: ['--quick', '--only', 'e2e'],
  });
  const a = janusArgs(['--seconds', '2', '--janus-steps', '10, 20', '--janus-budget', '40']);
  t.same(a, {
    run: true,
    steps: [10, 20],
    budgetSeconds: 40,
    eventLoops: 0,
    rest: ['--seconds', '2'],
  });
  t.equal(janusArgs(['--janus-event-loops', '2']).eventLoops, 2);
  t.throws(() => janusArgs(['--janus-event-loops', '-1']), TypeError);
  t.equal(janusArgs(['--quick', '--janus']).run, true);
  t.equal(janusArgs(['--no-janus']).run, false);
  t.throws(() => janusArgs(['--janus-steps', '10,x']), TypeError);
  t.throws(() => janusArgs(['--janus-budget', '0']), TypeError);
});

t.test("Janus's SDP gives the client its host candidate, credentials and VP8 type", async (t) => {
  const sdp = [
    'v=0',
    'm=video 9 UDP/TLS/RTP/SAVPF 100',
    'a=mid:v0',
    'a=rtpmap:100 VP8/90000',
    'a=ice-ufrag:Ab12',
    'a=ice-pwd:0123456789abcdefghijkl',
    'a=fingerprint:sha-256 AA:BB',
    'a=setup:actpass',
    'a=candidate:1 1 udp 2015363327 10.99.0.1 40123 typ host',
    '',
  ].join('\r\n');
  t.same(readJanusSdp(sdp), {
    ufrag: 'Ab12',
    pwd: '0123456789abcdefghijkl',
    fingerprint: 'AA:BB',
    setup: 'actpass',
    address: '10.99.0.1',
    port: 40123,
    mid: 'v0',
    vp8: 100,
  });
  t.throws(() => readJanusSdp(sdp.replace(/a=candidate.*\r\n/, '')), /candidate/);
});

const step = (tracks: number, cpu: number, addedP50: number, loss = 0): E2eStep => ({
  tracks,
  rooms: tracks / 10,
  forwardedPerSecond: tracks * PACKETS_PER_SECOND,
  sfuReceivedPerSecond: tracks * 10.4,
  publishedPerSecond: tracks * 10.4,
  sfuDrops: {},
  sfuCpuShare: cpu,
  sfuLoopDelayP99Ms: 1,
  clientCpuShare: 0.5,
  clientLoopDelayP99Ms: 1,
  loss,
  directLoss: 0,
  verifiedPackets: 100,
  badPackets: 0,
  sfuP50: addedP50 + 100,
  sfuP99: addedP50 + 500,
  directP50: 100,
  directP99: 500,
  addedP50,
  addedP99: addedP50,
  latencySamples: 1000,
});

t.test('the ratios compare each at its best step and latency at a common step', async (t) => {
  const r100 = step(100, 0.1, 200);
  const r200 = step(200, 0.2, 300);
  const rtcd = {
    steps: [r100, r200],
    best: r200,
    tracksPerCore: 1000,
    memory: {
      subscribers: 1,
      rssPerSubscriber: 0,
      heapPerSubscriber: 0,
      arrayBuffersPerSubscriber: 0,
    },
    failedConnects: 0,
    loadAverage: [1],
    stoppedBecause: 'all steps ran',
  };
  const j100 = step(100, 0.4, 600);
  const janus: JanusResult = {
    version: '1.1.2',
    steps: [j100, step(200, 0.9, 5000, 0.2)],
    best: j100,
    tracksPerCore: 250,
    rssPerSubscriber: 100 * 1024,
    memorySubscribers: 50,
    failedConnects: 0,
    stoppedBecause: 'loss 20.00% > 1.00% at 200 tracks',
  };
  const out = formatRatios(rtcd, janus).join('\n');
  t.match(out, /rtcd\/Janus tracks per core: 1000\/250 = 4\.00x \(.*: 200\/100 tracks\)/);
  const common = /at 100 tracks \(both under 1% loss\): tracks\/core by CPU cost 1000\/250 = 4.00x/;
  t.match(out, common);
  t.match(out, /added latency p50 0\.20\/0\.60 ms/);
  t.match(out, /RSS per idle subscriber 100\.0 kB \(50 subscribers\)/);
  t.match(formatRatios(undefined, { ...janus, best: undefined }).join('\n'), /no step stayed/);
  t.notMatch(out, /failed to connect/);
  const failed = formatRatios(rtcd, { ...janus, failedConnects: 3 }).join('\n');
  t.match(failed, /Janus clients that failed to connect: 3/);
});

t.test("Janus VideoRoom forwards the bench clients' media next to rtcd in one run", async (t) => {
  const lines: string[] = [];
  const code = await main(['--quick', '--only', 'e2e', '--janus', '--janus-steps', '2,4'], (l) =>
    lines.push(l),
  );
  const out = lines.join('\n');
  if (code !== 0) t.comment(out);
  t.equal(code, 0, 'the bench exits 0');
  t.notMatch(out, /Janus rows not run/);
  const header = lines.findIndex((l) => l.startsWith('tracks rooms fwd pkt/s Janus CPU'));
  t.ok(header > 0, "the Janus table is printed after rtcd's");
  const rows = lines.slice(header + 1, header + 3).map((l) => l.split(/\s+/));
  t.same(
    rows.map((r) => [r[0], r[1]]),
    [
      ['2', '1'],
      ['4', '2'],
    ],
    'two steps: rooms of 1 publisher + 2 subscribers',
  );
  for (const r of rows) {
    t.ok(Number(r[2]) > 0, `Janus forwarded ${r[2]} packets/s to the subscribers`);
    t.ok(Number.parseFloat(r[5] ?? '100') < 50, `loss through Janus ${r[5]}`);
  }
  t.match(out, /Janus tracks per core: \d+/);
  t.match(out, /rtcd\/Janus tracks per core: \d+\/\d+ = [\d.]+x/);
  t.match(out, /rtcd\/Janus at \d+ tracks \(both under 1% loss\): tracks\/core by CPU cost/);
});
