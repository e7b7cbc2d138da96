/**
 * SignalServerOptions: documented defaults, and each invalid option refused at construction
 * with SignalOptionsError naming the field. close() drains: clients get 1001, twice is fine.
 */
import t from 'tap';
import { SignalOptionsError } from '../../lib/signal/errors.js';
import { resolveSignalOptions, SIGNAL_DEFAULTS } from '../../lib/signal/options.js';
import { SignalServer } from '../../lib/signal/server.js';
import { joined, startSignal } from './fixture.js';

t.test('defaults are finite and documented', async (t) => {
  const o = resolveSignalOptions({ noAuth: true });
  t.match(o, {
    listen: { host: '0.0.0.0', port: 8080 },
    maxMessageBytes: 65536,
    messagesPerSecond: 50,
    messageBurst: 100,
    maxPeersPerRoom: 50,
    maxRooms: 10000,
    maxConnectionsPerIp: 20,
    resumeGraceMs: 30000,
    turnTtl: 86400,
  });
  for (const [k, v] of Object.entries(SIGNAL_DEFAULTS)) {
    if (typeof v === 'number') t.ok(Number.isFinite(v), `${k} is finite`);
  }
});

t.test('invalid options name their field', async (t) => {
  const cases: [object, string][] = [
    [{}, 'jwtSecret'],
    [{ jwtSecret: 'a', jwksUrl: 'https://x/jwks' }, 'jwksUrl'],
    [{ jwksUrl: 'ftp://x' }, 'jwksUrl'],
    [{ noAuth: true, turnUrls: ['http://x'] }, 'turnUrls'],
    [{ noAuth: true, turnUrls: ['turn:x:3478'] }, 'turnSecret'],
    [{ noAuth: true, maxMessageBytes: 10 }, 'maxMessageBytes'],
    [{ noAuth: true, maxPeersPerRoom: 1 }, 'maxPeersPerRoom'],
    [{ noAuth: true, messagesPerSecond: 0.5 }, 'messagesPerSecond'],
    [{ noAuth: true, listen: { host: '127.0.0.1', port: -1 } }, 'listen'],
  ];
  for (const [o, field] of cases) {
    const err = t.throws(() => new SignalServer(o)) as SignalOptionsError;
    t.type(err, SignalOptionsError);
    t.equal(err.field, field, JSON.stringify(o));
    t.equal(err.code, 'RTCD_SIGNAL_OPTIONS');
  }
});

t.test('close() tells clients to go (1001), refuses new ones, is idempotent', async (t) => {
  const { server, url } = await startSignal();
  const [a] = await joined(url, 'bye');
  const first = server.close();
  t.equal(server.close(), first, 'the same promise');
  t.equal(await a.closed, 1001);
  await first;
  await t.rejects(fetch(`http://127.0.0.1:${server.address!.port}/healthz`));
});

t.test('a port in use fails listen()', async (t) => {
  const { server } = await startSignal();
  t.teardown(() => server.close());
  const second = new SignalServer({
    noAuth: true,
    listen: { host: '127.0.0.1', port: server.address!.port },
  });
  await t.rejects(second.listen(), { code: 'EADDRINUSE' });
  await second.close();
});
