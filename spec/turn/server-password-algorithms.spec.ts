/**
 * RFC 8489 §9.2.4 password algorithms over real sockets: TurnServer offers SHA-256 and MD5
 * under a nonce cookie; our TurnClient derives SHA-256 keys and relays with them, and a client
 * that ignores the offer (as browsers and coturn's tools do) still authenticates with MD5.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import {
  decodePasswordAlgorithm,
  decodePasswordAlgorithms,
  encodePasswordAlgorithm,
  encodePasswordAlgorithms,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import {
  PasswordAlgorithm as Algorithm,
  AttributeType,
  StunClass,
  StunMethod,
} from '../../lib/stun/constants.js';
import {
  longTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import { TurnClient, type TurnClientOptions } from '../../lib/turn/client.js';
import { restPassword } from '../../lib/turn/credentials.js';
import { parseNonceCookie } from '../../lib/turn/nonce.js';
import type { TurnServer } from '../../lib/turn/server.js';
import { errorCode } from './core-fixture.js';
import {
  connectClient,
  nextData,
  PASSWORD,
  Peer,
  SECRET,
  startServer,
  USER,
} from './server-fixture.js';

const REALM = 'rtcd.test';

/** A bare UDP socket speaking STUN by hand, to see exactly what goes over the wire. */
class RawClient {
  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {}

  static async open(server: TurnServer): Promise<RawClient> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RawClient(socket, server.addresses.udp[0].port);
  }

  /** Sends `bytes` (again every 250 ms: UDP) until the response to its transaction comes. */
  async request(bytes: Buffer): Promise<StunMessage> {
    const id = bytes.subarray(8, 20);
    const response = new Promise<StunMessage>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('no response')), 3000);
      const send = setInterval(() => this.socket.send(bytes, this.port, '127.0.0.1'), 250);
      const on = (data: Buffer) => {
        const decoded = decodeStunMessage(data);
        if (decoded.ok && decoded.message.transactionId.equals(id)) done(decoded.message);
      };
      const done = (result: StunMessage | Error) => {
        clearTimeout(timer);
        clearInterval(send);
        this.socket.off('message', on);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      this.socket.on('message', on);
    });
    this.socket.send(bytes, this.port, '127.0.0.1');
    return response;
  }

  close(): void {
    this.socket.close();
  }
}

interface AllocateOptions {
  nonce?: string;
  /** The PASSWORD-ALGORITHMS value to echo and the algorithm to choose; none: plain MD5. */
  choose?: { offered: Buffer; algorithm: number };
}

/** An Allocate for UDP, signed with the key of the chosen algorithm (MD5 if none). */
function allocateRequest(o: AllocateOptions = {}): Buffer {
  const b = new StunMessageBuilder(StunClass.request, StunMethod.allocate, randomBytes(12));
  b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  if (o.nonce === undefined) return b.toBuffer();
  b.addString(AttributeType.USERNAME, USER)
    .addString(AttributeType.REALM, REALM)
    .addString(AttributeType.NONCE, o.nonce);
  if (o.choose === undefined) {
    return b.addMessageIntegrity(longTermKey(USER, REALM, PASSWORD, 'md5')).toBuffer();
  }
  const entry = { algorithm: o.choose.algorithm, parameters: new Uint8Array(0) };
  b.add(AttributeType.PASSWORD_ALGORITHMS, o.choose.offered).add(
    AttributeType.PASSWORD_ALGORITHM,
    encodePasswordAlgorithm(entry),
  );
  const sha256 = o.choose.algorithm === Algorithm.SHA256;
  const key = longTermKey(USER, REALM, PASSWORD, sha256 ? 'sha256' : 'md5');
  return b.addMessageIntegritySha256(key).toBuffer();
}

function nonceOf(m: StunMessage): string {
  return m.value(AttributeType.NONCE)?.toString('latin1') ?? '';
}

function offeredCodes(m: StunMessage): number[] | undefined {
  const a = m.get(AttributeType.PASSWORD_ALGORITHMS);
  return a && decodePasswordAlgorithms(m, a)?.map((e) => e.algorithm);
}

t.test('UDP: a TurnClient with SHA-256 keys allocates, binds a channel and relays', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  // The client checks every response's MESSAGE-INTEGRITY-SHA256 with its SHA-256 key: had the
  // server answered with the MD5 key, allocate() would have failed.
  const client = await connectClient(server, 'udp', { passwordAlgorithms: ['sha256'] });
  t.teardown(() => client.close());
  const { relayed } = await client.allocate();
  await client.channelBind(peer.address);
  const received = peer.receive();
  client.send(peer.address, Buffer.from('sha-256 to the peer'));
  t.equal((await received).data.toString(), 'sha-256 to the peer');
  const back = nextData(client);
  peer.send(relayed, Buffer.from('and back'));
  t.equal((await back).data.toString(), 'and back');
  t.same(observer.authFailures, []);
});

t.test('TCP: TURN REST API credentials with SHA-256 keys', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const username = `${Math.floor(Date.now() / 1000) + 600}:carol`;
  const client = await connectClient(server, 'tcp', {
    username,
    password: restPassword(SECRET, username),
    passwordAlgorithms: ['sha256'],
  });
  t.teardown(() => client.close());
  const { relayed } = await client.allocate();
  t.equal(relayed.address, '127.0.0.1');
  await client.refresh(300);
  t.same(observer.authFailures, []);
});

t.test('on the wire: the offer, a SHA-256 choice, and an MD5 client beside it', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const sha = await RawClient.open(server);
  t.teardown(() => sha.close());
  const challenge = await sha.request(allocateRequest());
  t.equal(errorCode(challenge), 401);
  t.same(offeredCodes(challenge), [Algorithm.SHA256, Algorithm.MD5]);
  t.equal(parseNonceCookie(nonceOf(challenge))?.passwordAlgorithms, true, 'the nonce cookie');
  const offered = challenge.value(AttributeType.PASSWORD_ALGORITHMS)!;
  const choice = { offered, algorithm: Algorithm.SHA256 };
  const success = await sha.request(allocateRequest({ nonce: nonceOf(challenge), choose: choice }));
  t.equal(errorCode(success), 0);
  t.ok(verifyMessageIntegritySha256(success, longTermKey(USER, REALM, PASSWORD, 'sha256')));
  t.notOk(verifyMessageIntegritySha256(success, longTermKey(USER, REALM, PASSWORD, 'md5')));

  const md5 = await RawClient.open(server);
  t.teardown(() => md5.close());
  const nonce = nonceOf(await md5.request(allocateRequest()));
  t.ok(nonce.startsWith('obMatJos2'), 'the MD5 client gets the cookie nonce too…');
  const legacy = await md5.request(allocateRequest({ nonce }));
  t.equal(errorCode(legacy), 0, '…ignores it and the offer, and authenticates with MD5');
  t.ok(verifyMessageIntegrity(legacy, longTermKey(USER, REALM, PASSWORD, 'md5')));
  t.notOk(legacy.has(AttributeType.MESSAGE_INTEGRITY_SHA256));
  t.same(observer.authFailures, []);
});

t.test('on the wire: an offer echoed without SHA-256 (a bid-down) is a 400', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const raw = await RawClient.open(server);
  t.teardown(() => raw.close());
  const nonce = nonceOf(await raw.request(allocateRequest()));
  const offered = encodePasswordAlgorithms([passwordAlgorithm(Algorithm.MD5)]);
  const response = await raw.request(
    allocateRequest({ nonce, choose: { offered, algorithm: Algorithm.MD5 } }),
  );
  t.equal(errorCode(response), 400);
  t.same(observer.authFailures, ['password-algorithms-mismatch']);
});

t.test(
  'a default TurnClient (MD5 and SHA-256) authenticates against the default offer',
  async (t) => {
    const { server, observer } = await startServer();
    t.teardown(() => server.close());
    const client = await connectClient(server, 'udp');
    t.teardown(() => client.close());
    await client.allocate();
    await client.refresh(120);
    t.same(observer.authFailures, []);
  },
);

t.test("passwordAlgorithms ['sha256']: SHA-256 clients work, MD5 clients get 400", async (t) => {
  const { server, observer } = await startServer({ passwordAlgorithms: ['sha256'] });
  t.teardown(() => server.close());
  const client = await connectClient(server, 'udp', { passwordAlgorithms: ['md5', 'sha256'] });
  t.teardown(() => client.close());
  await client.allocate();
  t.pass('a client supporting both takes the only algorithm offered');
  const raw = await RawClient.open(server);
  t.teardown(() => raw.close());
  const nonce = nonceOf(await raw.request(allocateRequest()));
  t.equal(errorCode(await raw.request(allocateRequest({ nonce }))), 400);
  t.same(observer.authFailures, ['md5-disabled']);
});

t.test("passwordAlgorithms ['md5']: no offer, so a default client uses MD5", async (t) => {
  const { server, observer } = await startServer({ passwordAlgorithms: ['md5'] });
  t.teardown(() => server.close());
  const raw = await RawClient.open(server);
  t.teardown(() => raw.close());
  const challenge = await raw.request(allocateRequest());
  t.notOk(challenge.has(AttributeType.PASSWORD_ALGORITHMS));
  const client = await connectClient(server, 'udp');
  t.teardown(() => client.close());
  await client.allocate();
  t.same(observer.authFailures, []);
});

/**
 * A UDP relay between a TurnClient and the server that records what the client sends, so the
 * end-to-end cases below can check the wire and not only that allocations work.
 */
class WireTap {
  readonly fromClient: StunMessage[] = [];
  private client: { port: number; address: string } | undefined;

  private constructor(
    private readonly socket: Socket,
    serverPort: number,
  ) {
    socket.on('message', (data, from) => {
      if (from.port === serverPort && from.address === '127.0.0.1') {
        if (this.client) socket.send(data, this.client.port, this.client.address);
        return;
      }
      this.client = { port: from.port, address: from.address };
      const decoded = decodeStunMessage(data);
      if (decoded.ok) this.fromClient.push(decoded.message);
      socket.send(data, serverPort, '127.0.0.1');
    });
  }

  static async open(server: TurnServer): Promise<WireTap> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new WireTap(socket, server.addresses.udp[0].port);
  }

  /** What the TurnClient connects to instead of the server. */
  get port(): number {
    return this.socket.address().port;
  }

  /** The signed requests the client sent (those with an integrity attribute). */
  signed(): StunMessage[] {
    return this.fromClient.filter(
      (m) =>
        m.has(AttributeType.MESSAGE_INTEGRITY) || m.has(AttributeType.MESSAGE_INTEGRITY_SHA256),
    );
  }

  close(): void {
    this.socket.close();
  }
}

async function tappedClient(t: Test, server: TurnServer, extra: Partial<TurnClientOptions> = {}) {
  const tap = await WireTap.open(server);
  t.teardown(() => tap.close());
  const client = await TurnClient.connect({
    server: { host: '127.0.0.1', port: tap.port },
    username: USER,
    password: PASSWORD,
    localAddress: '127.0.0.1',
    rtoMs: 100,
    closeTimeoutMs: 300,
    ...extra,
  });
  t.teardown(() => client.close());
  return { tap, client };
}

function chosenAlgorithm(m: StunMessage): number | undefined {
  const a = m.get(AttributeType.PASSWORD_ALGORITHM);
  return a && decodePasswordAlgorithm(m, a)?.algorithm;
}

/** Allocates, binds a channel and relays both ways through `client`. */
async function relayBothWays(t: Test, client: TurnClient): Promise<void> {
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const { relayed } = await client.allocate();
  await client.createPermission([peer.address]);
  const received = peer.receive();
  client.send(peer.address, Buffer.from('via a Send indication'));
  t.equal((await received).data.toString(), 'via a Send indication');
  await client.channelBind(peer.address);
  const back = nextData(client);
  peer.send(relayed, Buffer.from('via ChannelData'));
  t.equal((await back).data.toString(), 'via ChannelData');
}

t.test(
  'RFC 8489 §9.2.5 end to end: a default TurnClient against a default TurnServer',
  async (t) => {
    const sha256Key = longTermKey(USER, REALM, PASSWORD, 'sha256');
    const md5Key = longTermKey(USER, REALM, PASSWORD, 'md5');
    const cases = [
      {
        name: 'REST on: SHA-256 (first on the offer [SHA256, MD5]) and USERNAME',
        options: {},
        anonymous: false,
      },
      {
        name: "static users only: the cookie sets 'Username anonymity', so USERHASH",
        options: { authSecrets: [] },
        anonymous: true,
      },
    ];
    for (const c of cases) {
      t.test(c.name, async (t) => {
        const { server, observer } = await startServer(c.options);
        t.teardown(() => server.close());
        const { tap, client } = await tappedClient(t, server);
        await relayBothWays(t, client);
        await client.refresh(300);
        const signed = tap.signed();
        t.equal(signed.length, 4, 'Allocate, CreatePermission, ChannelBind and Refresh, signed');
        for (const m of signed) {
          t.equal(chosenAlgorithm(m), Algorithm.SHA256, 'PASSWORD-ALGORITHM SHA-256');
          t.same(offeredCodes(m), [Algorithm.SHA256, Algorithm.MD5], 'the offer echoed');
          t.ok(verifyMessageIntegritySha256(m, sha256Key), 'MESSAGE-INTEGRITY-SHA256, SHA-256 key');
          t.notOk(m.has(AttributeType.MESSAGE_INTEGRITY), 'no MESSAGE-INTEGRITY');
          t.equal(m.has(AttributeType.USERHASH), c.anonymous, 'USERHASH iff anonymity');
          t.equal(m.has(AttributeType.USERNAME), !c.anonymous, 'USERNAME otherwise');
        }
        t.same(observer.authFailures, []);
      });
    }

    t.test(
      "passwordAlgorithms ['md5'] client: MD5 from the offer, MESSAGE-INTEGRITY-SHA256",
      async (t) => {
        const { server, observer } = await startServer();
        t.teardown(() => server.close());
        const { tap, client } = await tappedClient(t, server, { passwordAlgorithms: ['md5'] });
        await client.allocate();
        const [m] = tap.signed();
        t.equal(chosenAlgorithm(m!), Algorithm.MD5);
        t.ok(
          verifyMessageIntegritySha256(m!, md5Key),
          'the MD5 key under MESSAGE-INTEGRITY-SHA256',
        );
        t.notOk(m!.has(AttributeType.MESSAGE_INTEGRITY));
        t.same(observer.authFailures, []);
      },
    );

    t.test("server passwordAlgorithms ['md5'], static users: USERHASH with MD5", async (t) => {
      const { server, observer } = await startServer({
        passwordAlgorithms: ['md5'],
        authSecrets: [],
      });
      t.teardown(() => server.close());
      const { tap, client } = await tappedClient(t, server);
      await client.allocate();
      const [m] = tap.signed();
      t.ok(m!.has(AttributeType.USERHASH), 'USERHASH: the cookie announces anonymity only');
      t.notOk(m!.has(AttributeType.PASSWORD_ALGORITHMS), 'nothing offered, nothing echoed');
      t.ok(verifyMessageIntegrity(m!, md5Key), 'classic MESSAGE-INTEGRITY under the MD5 key');
      t.same(observer.authFailures, []);
    });

    t.test('TCP, static users only: allocates with USERHASH and SHA-256', async (t) => {
      const { server, observer } = await startServer({ authSecrets: [] });
      t.teardown(() => server.close());
      const client = await connectClient(server, 'tcp');
      t.teardown(() => client.close());
      await client.allocate();
      await client.refresh(120);
      t.same(observer.authFailures, []);
    });
  },
);
