import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import { BareRelay, ROUTE_MARK, routeDatagram, routePorts } from '../../bench/sfu/bare-relay.js';

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return s;
}

const next = (s: Socket): Promise<Buffer> =>
  new Promise((resolve) => s.once('message', (d) => resolve(d)));

t.test('a route registration carries its ports, 16 bits each', async (t) => {
  const d = routeDatagram([5004, 65535, 1]);
  t.equal(d[0], ROUTE_MARK, 'marked: no RTP packet starts with 0');
  t.equal(d.length, 7);
  t.same(routePorts(d), [5004, 65535, 1]);
  t.same(routePorts(Buffer.from([0, 1, 2, 3])), [258], 'an odd trailing byte is ignored');
  t.same(routePorts(routeDatagram([])), []);
});

t.test('the relay copies a registered sender datagrams to its ports, and only those', async (t) => {
  const relay = await BareRelay.open();
  const publisher = await bound();
  const other = await bound();
  const subscribers = [await bound(), await bound()];
  t.teardown(() => {
    relay.close();
    for (const s of [publisher, other, ...subscribers]) s.close();
  });
  const send = (s: Socket, d: Buffer) =>
    new Promise<void>((resolve) => s.send(d, relay.port, '127.0.0.1', () => resolve()));

  await send(other, Buffer.from([0x80, 1, 2, 3]));
  await send(publisher, routeDatagram(subscribers.map((s) => s.address().port)));
  const arriving = subscribers.map(next);
  const rtp = Buffer.from([0x80, 0x60, 0, 1, 9, 9, 9, 9]);
  await send(publisher, rtp);
  for (const d of await Promise.all(arriving)) t.same(d, rtp, 'each subscriber got the packet');
  t.equal(relay.relayed, 2, 'two copies out');
  t.equal(relay.unrouted, 1, 'the unregistered sender was dropped and counted');
});

t.test('with work per copy the relay spends at least that much CPU per datagram', async (t) => {
  const relay = await BareRelay.open('127.0.0.1', 200);
  const publisher = await bound();
  const subscriber = await bound();
  t.teardown(() => {
    relay.close();
    publisher.close();
    subscriber.close();
  });
  publisher.send(routeDatagram([subscriber.address().port]), relay.port, '127.0.0.1');
  let got = 0;
  const all = new Promise<void>((resolve) =>
    subscriber.on('message', () => {
      if (++got === 20) resolve();
    }),
  );
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 20; i++) publisher.send(Buffer.from([0x80, i]), relay.port, '127.0.0.1');
  await all;
  const used = process.cpuUsage(cpu0);
  t.ok(used.user + used.system >= 20 * 200 * 0.9, `${used.user + used.system} µs for 20 copies`);
});
