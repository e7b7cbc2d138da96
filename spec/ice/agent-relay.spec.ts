import { readFile } from 'node:fs/promises';
import t from 'tap';
import { IceAgent } from '../../lib/ice/agent.js';
import { connectPair, FAST, makePair, turnUrl } from '../helpers/ice-pair.js';
import { makeCertificate, PASSWORD, removeDir, startServer, USER } from '../turn/server-fixture.js';

const cert = await makeCertificate();
t.teardown(() => removeDir(cert.dir));
const { server } = await startServer({
  listen: [{ host: '127.0.0.1', port: 0 }],
  tlsListen: [{ host: '127.0.0.1', port: 0 }],
  cert: cert.cert,
  key: cert.key,
});
t.teardown(() => server.close());
const ca = await readFile(cert.cert);

function turn(transport: 'udp' | 'tcp' | 'tls') {
  return [
    {
      urls: turnUrl(server, transport),
      username: USER,
      credential: PASSWORD,
      tls: { ca, servername: 'localhost' },
    },
  ];
}

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  t.test(
    `RFC 8656 relay over ${transport}: relay-only agents connect relay to relay`,
    async (t) => {
      const [a, b] = makePair({ turnServers: turn(transport), relayOnly: true });
      t.teardown(() => Promise.all([a.close(), b.close()]));
      await Promise.all([a.gather(), b.gather()]);
      t.same(
        a.localCandidates.map((c) => c.type),
        ['relay'],
      );
      const relay = a.localCandidates[0]!;
      t.equal(relay.relatedAddress, '127.0.0.1', 'raddr is the mapped address');
      await connectPair(a, b);
      t.equal(a.selectedPair?.local.type, 'relay');
      t.equal(b.selectedPair?.local.type, 'relay');
      const got = new Promise<Buffer>((resolve) => b.once('data', resolve));
      a.send(Buffer.from('\x80relayed', 'latin1'));
      t.equal((await got).toString('latin1'), '\x80relayed');
    },
  );
}

t.test('a relay-only agent reaches a host-only agent through its relay', async (t) => {
  const [a, b] = makePair({}, { turnServers: turn('udp'), relayOnly: true }, {});
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all([a.gather(), b.gather()]);
  await connectPair(a, b);
  t.equal(a.selectedPair?.local.type, 'relay');
  t.equal(b.selectedPair?.local.type, 'host');
  t.equal(b.selectedPair?.remote.type, 'relay');
});

t.test(
  'RFC 8445 §5.1.3: a server-reflexive candidate equal to the host one is redundant',
  async (t) => {
    const stun = server.addresses.udp[0]!;
    const a = new IceAgent({ ...FAST, stunServers: [`stun:${stun.host}:${stun.port}`] });
    t.teardown(() => a.close());
    await a.gather();
    t.same(
      a.localCandidates.map((c) => c.type),
      ['host'],
      'loopback has no NAT: the mapped address is the host address',
    );
  },
);

t.test('an unreachable TURN or STUN server does not block gathering forever', async (t) => {
  const a = new IceAgent({
    ...FAST,
    gatherTimeoutMs: 300,
    stunServers: [{ host: '127.0.0.1', port: 9 }],
    turnServers: [{ urls: 'turn:127.0.0.1:9', username: 'u', credential: 'p' }],
  });
  t.teardown(() => a.close());
  const complete = new Promise<void>((resolve) => a.once('gathering-complete', resolve));
  await a.gather();
  await complete;
  t.same(
    a.localCandidates.map((c) => c.type),
    ['host'],
  );
});
