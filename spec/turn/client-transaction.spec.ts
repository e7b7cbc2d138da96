/**
 * RFC 8489 §6.2 client transactions, observed on the wire of a scripted server: UDP
 * retransmission (RTO doubling, Rc sends, Rm·RTO final wait), a single send with a timeout on
 * TCP, matching responses by transaction id, and what closing does to pending requests.
 */
import net from 'node:net';
import t, { type Test } from 'tap';
import {
  AttributeType,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
} from '../../lib/stun/index.js';
import { TurnClient, TurnClientError, type TurnClientOptions } from '../../lib/turn/client.js';
import { decodeFrame as decode, scriptedClient } from '../helpers/scripted-server.js';

function setup(t: Test, kind: 'udp' | 'tcp', options: Partial<TurnClientOptions> = {}) {
  return scriptedClient(t, kind, { closeTimeoutMs: 200, ...options });
}

/** A Binding success response to `request` carrying `mapped`. */
function bindingSuccess(request: StunMessage, port: number): Buffer {
  return StunMessageBuilder.responseTo(request, StunClass.success)
    .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, { family: 4, address: '127.0.0.1', port })
    .addFingerprint()
    .toBuffer();
}

t.test('UDP retransmits on the RFC 8489 §6.2.1 schedule, then times out', async (t) => {
  const { server, client } = await setup(t, 'udp', { rtoMs: 20, rc: 4, rm: 3 });
  const start = performance.now();
  const err = await client.binding().then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - start;
  t.type(err, TurnClientError);
  t.match(err, { code: 'RTCD_TURN_CLIENT_TIMEOUT' });
  t.equal(server.frames.length, 4, 'Rc = 4 sends');
  const first = server.frames[0]!.bytes;
  for (const f of server.frames) t.same(f.bytes, first, 'a retransmission is the same request');
  // Sends at 0, RTO, 3·RTO, 7·RTO = 0, 20, 60, 140 ms after the call. Measured from the call,
  // not between arrivals: timers and delivery may only be late, so an arrival can never be
  // early against the call, while a late first arrival would make the next gap look short.
  [20, 60, 140].forEach((nominal, i) => {
    const at = server.frames[i + 1]!.at - start;
    t.ok(at >= nominal - 2, `copy ${i + 2} at ${at.toFixed(1)} ms >= ${nominal}`);
  });
  // Then Rm·RTO = 60 ms after the last send: 140 + 60 = 200 ms in all.
  t.ok(elapsed >= 197, `gave up after ${elapsed.toFixed(0)} ms >= 200`);
  t.ok(elapsed < 2000, 'but not much later');
});

t.test('a response stops the retransmissions', async (t) => {
  const { server, client } = await setup(t, 'udp', { rtoMs: 20 });
  server.onFrame = (bytes, s) => {
    // Answer only the second copy: the first is "lost".
    if (server.frames.length === 2) s.send(bindingSuccess(decode(bytes), 1234));
  };
  const mapped = await client.binding();
  t.equal(mapped.port, 1234);
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(server.frames.length, 2, 'nothing sent after the response');
});

t.test('TCP sends once and waits timeoutMs', async (t) => {
  const { server, client } = await setup(t, 'tcp', { timeoutMs: 150, rtoMs: 10 });
  const start = performance.now();
  await t.rejects(client.binding(), { code: 'RTCD_TURN_CLIENT_TIMEOUT' });
  const elapsed = performance.now() - start;
  t.equal(server.frames.length, 1, 'no retransmission on a reliable transport');
  t.ok(elapsed >= 147, `waited ${elapsed.toFixed(0)} ms`);
});

t.test('responses are matched by transaction id', async (t) => {
  for (const kind of ['udp', 'tcp'] as const) {
    const { server, client } = await setup(t, kind);
    server.onFrame = (bytes, s) => {
      const request = decode(bytes);
      const otherId = Buffer.from(request.transactionId);
      otherId[0] = otherId[0]! ^ 0xff;
      const stray = new StunMessageBuilder(StunClass.success, request.method, otherId)
        .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, {
          family: 4,
          address: '127.0.0.1',
          port: 1,
        })
        .toBuffer();
      s.send(stray); // another transaction's answer: ignored
      s.send(bindingSuccess(request, 2000 + server.frames.length));
      s.send(bindingSuccess(request, 3000)); // a duplicate after settling: ignored
    };
    const [a, b] = await Promise.all([client.binding(), client.binding()]);
    t.equal(a.port, 2001, `${kind}: first request, first response`);
    t.equal(b.port, 2002, `${kind}: concurrent request matched to its own response`);
    t.equal(server.frames.length, 2);
    t.not(
      Buffer.compare(
        server.frames[0]!.bytes.subarray(8, 20),
        server.frames[1]!.bytes.subarray(8, 20),
      ),
      0,
      'each request has its own transaction id',
    );
  }
});

t.test('a response with a wrong FINGERPRINT is ignored', async (t) => {
  const { server, client } = await setup(t, 'udp', { rtoMs: 20 });
  server.onFrame = (bytes, s) => {
    const response = Buffer.from(bindingSuccess(decode(bytes), 4444));
    if (server.frames.length === 1) response[response.length - 1]! ^= 1;
    s.send(response);
  };
  t.equal((await client.binding()).port, 4444);
  t.equal(server.frames.length, 2, 'the corrupted answer made the client retransmit');
});

t.test('close() rejects pending requests and is idempotent', async (t) => {
  const { client } = await setup(t, 'udp');
  let closeEvents = 0;
  client.on('close', () => closeEvents++);
  const pending = client.binding();
  const closing = client.close();
  t.equal(client.close(), closing, 'the same promise');
  await t.rejects(pending, { code: 'RTCD_TURN_CLIENT_CLOSED' });
  await closing;
  await client.close();
  t.equal(closeEvents, 1);
  t.ok(client.closed);
  await t.rejects(client.binding(), { code: 'RTCD_TURN_CLIENT_CLOSED' });
  client.send({ family: 4, address: '127.0.0.1', port: 9 }, Buffer.from('dropped'));
  t.throws(() => client.sendRaw(Buffer.alloc(20)), { code: 'RTCD_TURN_CLIENT_CLOSED' });
});

t.test('the server ending the TCP connection closes the client', async (t) => {
  const { server, client } = await setup(t, 'tcp');
  const closed = new Promise<void>((resolve) => client.once('close', resolve));
  server.onFrame = (_bytes, s) => s.dropConnections();
  await t.rejects(client.binding(), { code: 'RTCD_TURN_CLIENT_CLOSED' });
  await closed;
  t.ok(client.closed);
});

t.test('connecting to a closed TCP port fails with RTCD_TURN_CLIENT_CONNECT', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  await t.rejects(TurnClient.connect({ server: { host: '127.0.0.1', port }, transport: 'tcp' }), {
    code: 'RTCD_TURN_CLIENT_CONNECT',
  });
});

t.test('invalid options throw TypeError', async (t) => {
  const server = { host: '127.0.0.1', port: 3478 };
  const cases: [string, Parameters<typeof TurnClient.connect>[0]][] = [
    ['port 0', { server: { host: '127.0.0.1', port: 0 } }],
    ['empty host', { server: { host: '', port: 3478 } }],
    ['a username without password', { server, username: 'u' }],
    ['rtoMs 0', { server, rtoMs: 0 }],
    ['unknown transport', { server, transport: 'sctp' as 'udp' }],
  ];
  for (const [name, o] of cases) await t.rejects(TurnClient.connect(o), TypeError, name);
});
