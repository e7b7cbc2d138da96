import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import t from 'tap';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import type { TurnServer } from '../../lib/turn/server.js';
import {
  MAX_RESPONSE_BACKLOG,
  MAX_WRITE_BACKLOG,
  StreamClient,
} from '../../lib/turn/stream-listener.js';
import { xorAddress } from './core-fixture.js';
import { connectClient, eventually, nextData, Peer, startServer } from './server-fixture.js';

async function rawConnection(server: TurnServer): Promise<Socket> {
  const { host, port } = server.addresses.tcp[0];
  const socket = connect({ host, port, localAddress: '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}

t.test('TCP: Allocate, ChannelData and Data indications over one connection', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const client = await connectClient(server, 'tcp');
  t.teardown(() => client.close());
  const { relayed } = await client.allocate();
  t.equal(observer.lastGauges.connections, 1);
  await client.createPermission([peer.address]);
  const viaSend = peer.receive();
  client.send(peer.address, Buffer.from('send indication'));
  t.equal((await viaSend).data.toString(), 'send indication');
  const viaData = nextData(client);
  peer.send(relayed, Buffer.from('data indication'));
  t.equal((await viaData).data.toString(), 'data indication');
  await client.channelBind(peer.address);
  for (const size of [1, 2, 3, 4, 5, 1500]) {
    const payload = randomBytes(size);
    const received = peer.receive();
    client.send(peer.address, payload);
    t.same((await received).data, payload, `${size} bytes out (padded frame)`);
    const back = nextData(client);
    peer.send(relayed, payload);
    t.same((await back).data, payload, `${size} bytes back (padded frame)`);
  }
});

t.test('TCP: a request split across many writes is reassembled', async (t) => {
  const { server } = await startServer();
  t.teardown(() => server.close());
  const socket = await rawConnection(server);
  t.teardown(() => socket.destroy());
  const request = new StunMessageBuilder(StunClass.request, StunMethod.binding, randomBytes(12))
    .addFingerprint()
    .toBuffer();
  const twice = Buffer.concat([request, request]);
  const responses: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => responses.push(chunk));
  for (const byte of twice) {
    socket.write(Buffer.from([byte]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await eventually(() => Buffer.concat(responses).length >= 2 * 20);
  const all = Buffer.concat(responses);
  const length = 20 + all.readUInt16BE(2);
  const first = decodeStunMessage(all.subarray(0, length));
  t.ok(first.ok);
  if (first.ok) {
    t.same(xorAddress(first.message, AttributeType.XOR_MAPPED_ADDRESS), {
      family: 4,
      address: '127.0.0.1',
      port: socket.localPort,
    });
  }
  await eventually(() => Buffer.concat(responses).length >= 2 * length);
  t.equal(Buffer.concat(responses).length, 2 * length, 'both answered');
});

t.test('TCP: garbage disconnects only that client', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const peer = await Peer.open();
  t.teardown(() => peer.close());
  const good = await connectClient(server, 'tcp');
  t.teardown(() => good.close());
  await good.allocate();
  await good.channelBind(peer.address);
  const bad = await rawConnection(server);
  const closed = once(bad, 'close');
  bad.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.replace('G', '\xff'), 'latin1'));
  await closed;
  t.ok(observer.drops.includes('stream-garbage'));
  const received = peer.receive();
  good.send(peer.address, Buffer.from('still here'));
  t.equal((await received).data.toString(), 'still here', 'the other client keeps relaying');
  await eventually(() => observer.lastGauges.connections === 1);
});

t.test('TCP: closing the connection deletes its allocation', async (t) => {
  const { server, observer } = await startServer();
  t.teardown(() => server.close());
  const client = await connectClient(server, 'tcp', { closeTimeoutMs: 1 });
  await client.allocate();
  t.equal(server.allocationCount, 1);
  await client.close();
  await eventually(() => server.allocationCount === 0);
  await eventually(() => observer.lastGauges.connections === 0);
  t.equal(observer.lastGauges.allocations, 0);
});

t.test('TCP: an idle connection without allocation is closed', async (t) => {
  const { server } = await startServer({ tcpIdleTimeoutMs: 100 });
  t.teardown(() => server.close());
  const idle = await rawConnection(server);
  const started = Date.now();
  await once(idle, 'close');
  t.ok(Date.now() - started >= 80, 'after the idle timeout');
  const client = await connectClient(server, 'tcp');
  t.teardown(() => client.close());
  await client.allocate();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(server.allocationCount, 1, 'a connection with an allocation is kept');
  t.equal(await client.refresh(600), 600);
});

t.test('TCP: maxConnections refuses connections beyond the limit', async (t) => {
  const { server, observer } = await startServer({ maxConnections: 1 });
  t.teardown(() => server.close());
  const first = await rawConnection(server);
  t.teardown(() => first.destroy());
  const second = await rawConnection(server);
  await once(second, 'close');
  t.ok(observer.drops.includes('connection-refused'));
});

t.test('TCP: close() stops accepting and closes connections', async (t) => {
  const { server } = await startServer();
  const socket = await rawConnection(server);
  const closed = once(socket, 'close');
  await server.close();
  await closed;
  const { host, port } = server.addresses.tcp[0];
  const refused = connect({ host, port });
  const [error] = await once(refused, 'error');
  t.equal((error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});

t.test('TCP: an idle connection is closed once its allocation is deleted', async (t) => {
  // Node's idle timer fires once; the connection had an allocation then, so it must be
  // asked again, and closed at a later idle period once the allocation is gone.
  const { server } = await startServer({ tcpIdleTimeoutMs: 100 });
  t.teardown(() => server.close());
  const client = await connectClient(server, 'tcp');
  let closed = false;
  client.once('close', () => {
    closed = true;
  });
  t.teardown(() => client.close());
  await client.allocate();
  await new Promise((resolve) => setTimeout(resolve, 350));
  t.notOk(closed, 'kept through several idle periods while it has an allocation');
  t.equal(await client.refresh(0), 0, 'Refresh 0 deletes the allocation');
  await eventually(() => closed);
  t.equal(server.allocationCount, 0);
});

t.test(
  'a client that does not read: relayed data is dropped, unread responses close it',
  async (t) => {
    const listener = createServer();
    t.teardown(() => listener.close());
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const reader = connect({ host: '127.0.0.1', port: address.port });
    t.teardown(() => reader.destroy());
    const [accepted] = (await once(listener, 'connection')) as [Socket];
    reader.pause(); // never reads: the kernel buffers fill, then Node's write queue grows
    const client = new StreamClient('tcp', accepted);
    const head = Buffer.alloc(4);
    const body = Buffer.alloc(0xffff);
    let written = 0;
    while (client.send(head, body, 1) === undefined && written < 4096) written++;
    t.equal(client.send(head, body, 1), 'client-backpressure', 'relayed data is refused');
    const queued = accepted.writableLength;
    t.ok(queued > MAX_WRITE_BACKLOG, `once ${queued} bytes are queued`);
    t.ok(queued <= MAX_WRITE_BACKLOG + 4 + 0x10000, 'which is at most one frame over the limit');
    t.notOk(accepted.destroyed, 'the connection stays: the client may catch up');

    const response = Buffer.alloc(1000);
    t.equal(client.send(response), undefined, 'a response still goes out above the relay limit');
    let most = 0;
    let outcome: string | undefined;
    for (let i = 0; i < 4096 && outcome === undefined; i++) {
      outcome = client.send(response);
      most = Math.max(most, accepted.writableLength);
    }
    t.equal(outcome, 'client-not-reading', 'until unread responses pass MAX_RESPONSE_BACKLOG');
    t.ok(most <= MAX_RESPONSE_BACKLOG + response.length, `the queue peaked at ${most} bytes`);
    t.ok(accepted.destroyed, 'then the connection is closed');
    t.equal(client.send(response), 'client-closed', 'and nothing more is written');
  },
);
