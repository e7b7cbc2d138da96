/**
 * Long-term credentials (RFC 8489 §9.2) and TLS against coturn: a stale nonce (438) is
 * retried with the new one, TURN REST API credentials (draft-uberti-behave-turn-rest) work,
 * expired ones fail with 401, and TLS carries the same flows.
 */
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import t from 'tap';
import type { TransportAddress } from '../../lib/stun/index.js';
import { TurnClient } from '../../lib/turn/client.js';
import { coturnSkipReason, startCoturn } from '../helpers/coturn.js';

const server = (port: number) => ({ host: '127.0.0.1', port });

function restCredentials(secret: string, user: string, expiresInSeconds: number) {
  const username = `${Math.floor(Date.now() / 1000) + expiresInSeconds}:${user}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password };
}

t.test(
  'a stale nonce (438) is retried with the new nonce',
  { skip: coturnSkipReason() },
  async (t) => {
    const coturn = await startCoturn({
      flags: ['--lt-cred-mech', '--user=u:p', '--realm=test', '--stale-nonce=1', '--verbose'],
    });
    t.teardown(() => coturn.stop());
    const client = await TurnClient.connect({
      server: server(coturn.port),
      username: 'u',
      password: 'p',
      localAddress: '127.0.0.1',
      rtoMs: 100,
    });
    t.teardown(() => client.close());
    await client.allocate();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    t.ok((await client.refresh(600)) > 0, 'refresh succeeds after the nonce went stale');
    t.match(coturn.logs(), /error 438/, 'coturn did answer 438 first');
  },
);

t.test('TURN REST API credentials', { skip: coturnSkipReason() }, async (t) => {
  const secret = 'rest-secret';
  const coturn = await startCoturn({
    flags: ['--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=test'],
  });
  t.teardown(() => coturn.stop());

  t.test('a valid time-limited username allocates', async (t) => {
    const client = await TurnClient.connect({
      server: server(coturn.port),
      ...restCredentials(secret, 'bob', 3600),
      localAddress: '127.0.0.1',
    });
    t.teardown(() => client.close());
    const allocation = await client.allocate();
    t.equal(allocation.relayed.address, '127.0.0.1');
  });

  t.test('an expired username fails with 401', async (t) => {
    const client = await TurnClient.connect({
      server: server(coturn.port),
      ...restCredentials(secret, 'bob', -60),
      localAddress: '127.0.0.1',
    });
    t.teardown(() => client.close());
    await t.rejects(client.allocate(), { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 401 });
  });

  t.test('another secret fails with 401', async (t) => {
    const client = await TurnClient.connect({
      server: server(coturn.port),
      ...restCredentials('other-secret', 'bob', 3600),
      localAddress: '127.0.0.1',
    });
    t.teardown(() => client.close());
    await t.rejects(client.allocate(), { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 401 });
  });
});

t.test('over TLS', { skip: coturnSkipReason() }, async (t) => {
  const coturn = await startCoturn({
    tls: true,
    flags: ['--lt-cred-mech', '--user=u:p', '--realm=test'],
  });
  t.teardown(() => coturn.stop());

  t.test('an untrusted certificate fails to connect', async (t) => {
    await t.rejects(
      TurnClient.connect({
        server: server(coturn.tlsPort!),
        transport: 'tls',
        username: 'u',
        password: 'p',
      }),
      { code: 'RTCD_TURN_CLIENT_CONNECT' },
    );
  });

  t.test('allocate, permission, channel and data both ways', async (t) => {
    const client = await TurnClient.connect({
      server: server(coturn.tlsPort!),
      transport: 'tls',
      tls: { ca: coturn.cert!, servername: 'localhost' },
      username: 'u',
      password: 'p',
      localAddress: '127.0.0.1',
    });
    t.teardown(() => client.close());
    t.equal(client.transportKind, 'tls');
    const allocation = await client.allocate();
    t.same(allocation.mapped, client.local);

    const peer = dgram.createSocket('udp4');
    t.teardown(() => peer.close());
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', () => resolve()));
    const peerAddress: TransportAddress = {
      family: 4,
      address: '127.0.0.1',
      port: peer.address().port,
    };
    const received = (): Promise<Buffer> =>
      new Promise((resolve) => peer.once('message', (m) => resolve(m)));
    const delivered = (): Promise<Buffer> =>
      new Promise((resolve) => client.once('data', (_p, d) => resolve(Buffer.from(d))));

    await client.createPermission([peerAddress]);
    let got = received();
    client.send(peerAddress, Buffer.from('send indication over tls'));
    t.equal((await got).toString(), 'send indication over tls');

    t.equal(await client.channelBind(peerAddress), 0x4000);
    for (const text of ['abc', 'de', 'channel data over tls']) {
      got = received();
      client.send(peerAddress, Buffer.from(text));
      t.equal((await got).toString(), text);
      const back = delivered();
      peer.send(`re: ${text}`, allocation.relayed.port, '127.0.0.1');
      t.equal((await back).toString(), `re: ${text}`);
    }
  });
});
