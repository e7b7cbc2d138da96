import { Registry } from 'prom-client';
import t from 'tap';
import { TurnMetrics } from '../../lib/turn/metrics.js';

/** The value of one sample line, e.g. `rtcd_turn_drops_total{reason="x"}`. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

t.test('counters report what the observer was told', async (t) => {
  const m = new TurnMetrics();
  m.drop('not-stun');
  m.drop('not-stun');
  m.drop('no-allocation');
  m.response('allocate', 0);
  m.response('allocate', 401);
  m.response('allocate', 401);
  m.response('refresh', 0);
  m.authFailure('stale-nonce');
  m.relayed('client-to-peer', 100);
  m.relayed('client-to-peer', 50);
  m.relayed('peer-to-client', 1200);
  const text = await m.registry.metrics();
  t.equal(sample(text, 'rtcd_turn_drops_total{reason="not-stun"}'), 2);
  t.equal(sample(text, 'rtcd_turn_drops_total{reason="no-allocation"}'), 1);
  t.equal(sample(text, 'rtcd_turn_responses_total{method="allocate",code="0"}'), 1);
  t.equal(sample(text, 'rtcd_turn_responses_total{method="allocate",code="401"}'), 2);
  t.equal(sample(text, 'rtcd_turn_responses_total{method="refresh",code="0"}'), 1);
  t.equal(sample(text, 'rtcd_turn_auth_failures_total{reason="stale-nonce"}'), 1);
  t.equal(sample(text, 'rtcd_turn_relayed_packets_total{direction="client-to-peer"}'), 2);
  t.equal(sample(text, 'rtcd_turn_relayed_bytes_total{direction="client-to-peer"}'), 150);
  t.equal(sample(text, 'rtcd_turn_relayed_packets_total{direction="peer-to-client"}'), 1);
  t.equal(sample(text, 'rtcd_turn_relayed_bytes_total{direction="peer-to-client"}'), 1200);
});

t.test('counters keep counting across scrapes', async (t) => {
  const m = new TurnMetrics();
  m.relayed('client-to-peer', 10);
  await m.registry.metrics();
  m.relayed('client-to-peer', 10);
  const text = await m.registry.metrics();
  t.equal(sample(text, 'rtcd_turn_relayed_packets_total{direction="client-to-peer"}'), 2);
  t.equal(sample(text, 'rtcd_turn_relayed_bytes_total{direction="client-to-peer"}'), 20);
});

t.test('gauges show the last counts reported', async (t) => {
  const m = new TurnMetrics();
  let text = await m.registry.metrics();
  t.equal(sample(text, 'rtcd_turn_allocations'), 0, 'zero before any report');
  m.gauges({ allocations: 3, permissions: 5, channels: 2, connections: 1 });
  m.gauges({ allocations: 4, permissions: 6, channels: 2, connections: 1 });
  text = await m.registry.metrics();
  t.equal(sample(text, 'rtcd_turn_allocations'), 4);
  t.equal(sample(text, 'rtcd_turn_permissions'), 6);
  t.equal(sample(text, 'rtcd_turn_channels'), 2);
  t.equal(sample(text, 'rtcd_turn_connections'), 1);
});

t.test('no username ever becomes a label and label values stay bounded', async (t) => {
  const m = new TurnMetrics();
  for (let i = 0; i < 500; i++) m.drop(`reason-${i}`);
  const text = await m.registry.metrics();
  const series = text.split('\n').filter((l) => l.startsWith('rtcd_turn_drops_total{'));
  t.ok(series.length <= 65, `${series.length} drop series`);
  t.ok(
    (sample(text, 'rtcd_turn_drops_total{reason="other"}') ?? 0) > 400,
    'the rest fold into other',
  );
  t.notMatch(text, /user/, 'no label is named after users');
});

t.test('uses the registry given and only it', async (t) => {
  const registry = new Registry();
  const m = new TurnMetrics(registry);
  t.equal(m.registry, registry);
  t.ok(registry.getSingleMetric('rtcd_turn_relayed_bytes_total'));
  // A second instance on its own registry does not collide on metric names.
  t.doesNotThrow(() => new TurnMetrics());
});

t.test('collectDefaultMetrics adds process metrics on request only', async (t) => {
  const plain = await new TurnMetrics().registry.metrics();
  t.notMatch(plain, /process_cpu_user_seconds_total/);
  const full = await new TurnMetrics(undefined, { collectDefaultMetrics: true }).registry.metrics();
  t.match(full, /process_cpu_user_seconds_total/);
  t.match(full, /rtcd_turn_allocations/);
});
