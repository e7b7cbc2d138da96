import { Agent, request } from 'node:http';
import t from 'tap';
import { TurnMetrics } from '../../lib/turn/metrics.js';
import { type OpsServer, startOpsServer } from '../../lib/util/ops-server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(
  server: OpsServer,
  path: string,
  method = 'GET',
  agent: Agent | false = false,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: server.address.host, port: server.address.port, path, method, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function start(t: { teardown(fn: () => unknown): void }, healthy?: () => boolean) {
  const metrics = new TurnMetrics();
  const server = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    ...(healthy ? { healthy } : {}),
  });
  t.teardown(() => server.close());
  return { metrics, server };
}

t.test('binds port 0 to a real port on the host asked', async (t) => {
  const { server } = await start(t);
  t.equal(server.address.host, '127.0.0.1');
  t.ok(server.address.port > 0);
});

t.test('GET /metrics serves the registry in Prometheus text format', async (t) => {
  const { metrics, server } = await start(t);
  metrics.drop('not-stun');
  metrics.response('allocate', 401);
  metrics.relayed('peer-to-client', 99);
  metrics.gauges({ allocations: 7, permissions: 0, channels: 0, connections: 0 });
  const r = await get(server, '/metrics');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], metrics.registry.contentType);
  for (const name of [
    'rtcd_turn_drops_total{reason="not-stun"} 1',
    'rtcd_turn_responses_total{method="allocate",code="401"} 1',
    'rtcd_turn_relayed_bytes_total{direction="peer-to-client"} 99',
    'rtcd_turn_allocations 7',
    '# TYPE rtcd_turn_auth_failures_total counter',
    '# TYPE rtcd_turn_connections gauge',
  ]) {
    t.ok(r.body.includes(name), name);
  }
});

t.test('GET /healthz is 200 ok, then 503 draining once unhealthy', async (t) => {
  let healthy = true;
  const { server } = await start(t, () => healthy);
  let r = await get(server, '/healthz');
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { status: 'ok' });
  healthy = false;
  r = await get(server, '/healthz');
  t.equal(r.status, 503);
  t.same(JSON.parse(r.body), { status: 'draining' });
  t.match(r.headers['content-type'], /application\/json/);
});

t.test('a query string does not change the route', async (t) => {
  const { server } = await start(t);
  t.equal((await get(server, '/healthz?verbose=1')).status, 200);
});

t.test('unknown paths are a JSON 404', async (t) => {
  const { server } = await start(t);
  for (const path of ['/', '/metric', '/healthz/x', '/favicon.ico']) {
    const r = await get(server, path);
    t.equal(r.status, 404, path);
    t.same(JSON.parse(r.body), { error: 'not-found' }, path);
  }
});

t.test('other methods are a JSON 405 with Allow', async (t) => {
  const { server } = await start(t);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await get(server, '/metrics', method);
    t.equal(r.status, 405, method);
    t.equal(r.headers.allow, 'GET, HEAD');
    t.same(JSON.parse(r.body), { error: 'method-not-allowed' });
  }
  const head = await get(server, '/healthz', 'HEAD');
  t.equal(head.status, 200, 'HEAD is allowed');
  t.equal(head.body, '');
});

t.test('a failing registry is a JSON 500, and the server keeps serving', async (t) => {
  const server = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('boom')) },
  });
  t.teardown(() => server.close());
  const r = await get(server, '/metrics');
  t.equal(r.status, 500);
  t.same(JSON.parse(r.body), { error: 'internal', message: 'boom' });
  t.equal((await get(server, '/healthz')).status, 200);
});

t.test('close() stops listening even with a keep-alive connection open', async (t) => {
  const { server } = await start(t);
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  await get(server, '/healthz', 'GET', agent);
  await server.close();
  await t.rejects(get(server, '/healthz'), { code: 'ECONNREFUSED' });
});

t.test('a busy port rejects start', async (t) => {
  const { server } = await start(t);
  await t.rejects(
    startOpsServer({
      host: '127.0.0.1',
      port: server.address.port,
      registry: new TurnMetrics().registry,
    }),
    { code: 'EADDRINUSE' },
  );
});
