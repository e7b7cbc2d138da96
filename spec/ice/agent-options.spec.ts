import dgram from 'node:dgram';
import t from 'tap';
import { IceAgent } from '../../lib/ice/agent.js';
import { parseIceUrl, resolveAgentOptions } from '../../lib/ice/agent-options.js';
import { hostAddresses } from '../../lib/ice/gather-host.js';
import { connectPair, makePair } from '../helpers/ice-pair.js';
import { Random } from '../helpers/prng.js';

t.test('RFC 7064/7065: stun:, turn: and turns: URLs', async (t) => {
  t.same(parseIceUrl('turn:example.org'), {
    scheme: 'turn',
    host: 'example.org',
    port: 3478,
    transport: 'udp',
  });
  t.same(parseIceUrl('turn:10.0.0.1:3479?transport=tcp'), {
    scheme: 'turn',
    host: '10.0.0.1',
    port: 3479,
    transport: 'tcp',
  });
  t.same(parseIceUrl('turns:[2001:db8::1]?transport=tcp'), {
    scheme: 'turns',
    host: '2001:db8::1',
    port: 5349,
    transport: 'tls',
  });
  t.equal(parseIceUrl('stun:stun.example.org:19302').port, 19302);
  for (const bad of [
    'http://x',
    'turn:',
    'turn:host:99999',
    'turns:host?transport=udp',
    'stun:host?transport=tcp',
    'stuns:host',
    'turn:host?transport=sctp',
  ]) {
    t.throws(() => parseIceUrl(bad), TypeError, bad);
  }
});

t.test('options are validated once, at construction, with the option named', async (t) => {
  t.throws(() => new IceAgent({ taMs: -1 }), /taMs/);
  t.throws(() => new IceAgent({ checkRc: 0 }), /checkRc/);
  t.throws(() => new IceAgent({ ufrag: 'ab' }), /ufrag/);
  t.throws(() => new IceAgent({ pwd: 'short' }), /pwd/);
  t.throws(
    () => new IceAgent({ turnServers: [{ urls: 'ftp:x', username: 'u', credential: 'p' }] }),
    /URL/,
  );
  t.throws(() => new IceAgent({ stunServers: ['turn'] }), /URL/);
  const r = resolveAgentOptions({});
  t.equal(r.taMs, 50, 'Ta defaults to RFC 8445 §14.2');
  t.equal(r.consentTimeoutMs, 30_000, 'RFC 7675 §5.1: 30 s');
  t.equal(r.controlling, false);
  const a = new IceAgent({ ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuv' });
  t.same(a.localParameters, { ufrag: 'abcd', pwd: 'abcdefghijklmnopqrstuv' });
  const b = new IceAgent();
  t.match(b.localParameters.ufrag, /^[A-Za-z0-9+/]{8}$/);
  t.match(b.localParameters.pwd, /^[A-Za-z0-9+/]{24}$/);
  t.throws(() => b.setRemoteParameters({ ufrag: '', pwd: 'x' }), TypeError);
});

t.test('host addresses: explicit list, interface and address filters', async (t) => {
  t.same(
    hostAddresses({ addresses: ['127.0.0.1', '::1'] }).map((h) => h.family),
    [4, 6],
  );
  const all = hostAddresses({ includeLoopback: true });
  t.ok(
    all.some((h) => h.address === '127.0.0.1'),
    'loopback when asked',
  );
  t.notOk(
    hostAddresses({}).some((h) => h.address === '127.0.0.1'),
    'no loopback by default',
  );
  t.notOk(
    all.some((h) => h.address.startsWith('fe80')),
    'never link-local IPv6',
  );
  const lo = hostAddresses({ includeLoopback: true, interfaces: ['lo'] });
  t.ok(lo.length > 0 && lo.every((h) => h.interfaceName === 'lo'), 'interfaces: only those');
  t.notOk(
    hostAddresses({ includeLoopback: true, ipv6: false }).some((h) => h.family === 6),
    'ipv6: false',
  );
  t.same(
    hostAddresses({ includeLoopback: true, addressFilter: (a) => a === '127.0.0.1' }).map(
      (h) => h.address,
    ),
    ['127.0.0.1'],
  );
});

t.test('two agents connect over IPv6 loopback', async (t) => {
  const [a, b] = makePair({ addresses: ['::1'] });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  t.equal(a.selectedPair?.remote.address, '::1');
});

t.test('fuzz: random datagrams at an agent neither crash it nor stop it connecting', async (t) => {
  const [a, b] = makePair({});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  const port = a.localCandidates[0]!.port;
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  const rng = new Random(0x1ce2);
  let dataSeen = 0;
  a.on('data', () => dataSeen++);
  for (let i = 0; i < 500; i++) {
    const b0 = rng.chance(0.5) ? Buffer.from([0x00, 0x01]) : Buffer.alloc(0);
    const buf = Buffer.concat([b0, rng.bytes(rng.int(120))]);
    if (buf.length >= 8) buf.writeUInt32BE(0x2112a442, 4);
    s.send(buf, port, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 100));
  await connectPair(a, b);
  t.ok(a.selectedPair, 'still connects');
  t.equal(dataSeen, 0, 'nothing from an unauthenticated address is delivered as data');
});
