/**
 * RFC 8656 client flows against coturn, a TURN server nobody here wrote: this proves the
 * client and, under it, the lib/stun encoding (XOR addresses, integrity, fingerprint,
 * ChannelData framing) against a real peer, over UDP and TCP.
 */
import dgram from 'node:dgram';
import t from 'tap';
import type { TransportAddress } from '../../lib/stun/index.js';
import { TurnClient, TurnClientError } from '../../lib/turn/client.js';
import { coturnSkipReason, startCoturn } from '../helpers/coturn.js';

interface Peer {
  address: TransportAddress;
  /** Next datagram, or rejects after `ms`. */
  next(ms?: number): Promise<{ data: Buffer; from: number }>;
  /** Sends from the peer's own socket. */
  sendTo(to: TransportAddress, data: Buffer): Promise<void>;
  close(): void;
}

async function udpPeer(): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  const queue: { data: Buffer; from: number }[] = [];
  let waiter: ((m: { data: Buffer; from: number }) => void) | undefined;
  socket.on('message', (data, rinfo) => {
    const m = { data, from: rinfo.port };
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(m);
    } else queue.push(m);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    address: { family: 4, address: '127.0.0.1', port: socket.address().port },
    next(ms = 3000) {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer got nothing in ${ms} ms`)), ms);
        waiter = (m) => {
          clearTimeout(timer);
          resolve(m);
        };
      });
    },
    sendTo: (to, data) =>
      new Promise((resolve, reject) =>
        socket.send(data, to.port, to.address, (err) => (err ? reject(err) : resolve())),
      ),
    close: () => socket.close(),
  };
}

function nextData(client: TurnClient, ms = 3000): Promise<[TransportAddress, Buffer]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client got no data in ${ms} ms`)), ms);
    client.once('data', (peer, data) => {
      clearTimeout(timer);
      resolve([peer, Buffer.from(data)]);
    });
  });
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/**
 * coturn answers Refresh(0) at once but deletes the allocation on its next one-second timer
 * tick, and a Refresh in between revives it. CreatePermission does not, so poll with it
 * until coturn refuses it (400 once the allocation is gone), for at most 5 s.
 */
async function untilAllocationGone(client: TurnClient): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const err = await client.createPermission(['127.0.0.1']).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err instanceof TurnClientError && err.stunCode !== undefined) return;
    if (Date.now() > deadline) throw new Error('the allocation still exists after 5 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

t.test('TURN client against coturn', { skip: coturnSkipReason() }, async (t) => {
  const coturn = await startCoturn({
    flags: ['--lt-cred-mech', '--user=alice:wonderland', '--realm=rtcd.test'],
  });
  t.teardown(() => coturn.stop());

  const connect = (transport: 'udp' | 'tcp', localPort?: number) =>
    TurnClient.connect({
      server: { host: '127.0.0.1', port: coturn.port },
      transport,
      username: 'alice',
      password: 'wonderland',
      localAddress: '127.0.0.1',
      ...(localPort === undefined ? {} : { localPort }),
      rtoMs: 100,
    });

  for (const transport of ['udp', 'tcp'] as const) {
    t.test(`over ${transport}`, async (t) => {
      const client = await connect(transport);
      t.teardown(() => client.close());
      t.equal(client.transportKind, transport);

      t.test('Binding returns the client address as XOR-MAPPED-ADDRESS', async (t) => {
        t.same(await client.binding(), client.local);
      });

      const allocation = await client.allocate({ lifetime: 600 });
      t.test('Allocate returns a relayed address in the server relay range', async (t) => {
        t.equal(allocation.relayed.address, '127.0.0.1');
        t.ok(allocation.relayed.port >= coturn.relayPorts.min, 'port >= min');
        t.ok(allocation.relayed.port <= coturn.relayPorts.max, 'port <= max');
        t.same(allocation.mapped, client.local, 'XOR-MAPPED-ADDRESS is our address');
        t.ok(allocation.lifetime > 0, `lifetime ${allocation.lifetime}`);
        t.equal(client.allocation, allocation);
      });

      t.test('Send indication reaches a permitted peer; its reply is a data event', async (t) => {
        const peer = await udpPeer();
        t.teardown(() => peer.close());
        await client.createPermission([peer.address.address]);
        client.send(peer.address, Buffer.from('hello peer'));
        const got = await peer.next();
        t.equal(got.data.toString(), 'hello peer');
        t.equal(got.from, allocation.relayed.port, 'relayed from the allocation');

        const data = nextData(client);
        await peer.sendTo(allocation.relayed, Buffer.from('hello client'));
        const [from, payload] = await data;
        t.same(from, peer.address);
        t.equal(payload.toString(), 'hello client');
      });

      t.test('ChannelBind numbers channels from 0x4000; ChannelData flows both ways', async (t) => {
        const peers = [await udpPeer(), await udpPeer()];
        t.teardown(() => {
          for (const p of peers) p.close();
        });
        const first = await client.channelBind(peers[0]!.address);
        const second = await client.channelBind(peers[1]!.address);
        t.equal(first, 0x4000);
        t.equal(second, 0x4001);
        t.equal(client.channelOf(peers[1]!.address), 0x4001);
        t.equal(await client.channelBind(peers[0]!.address), 0x4000, 'rebinding refreshes');

        // Odd lengths exercise the 4-byte padding of ChannelData on TCP (RFC 8656 §12.5):
        // without it the second message would be misframed by the server.
        for (const text of ['a', 'odd!!', 'seven77', '']) {
          client.send(peers[1]!.address, Buffer.from(text));
          const got = await peers[1]!.next();
          t.equal(got.data.toString(), text, `client → peer ${JSON.stringify(text)}`);
          t.equal(got.from, allocation.relayed.port);
        }
        for (const text of ['b', 'three', 'x'.repeat(1001)]) {
          const data = nextData(client);
          await peers[1]!.sendTo(allocation.relayed, Buffer.from(text));
          const [from, payload] = await data;
          t.same(from, peers[1]!.address);
          t.equal(payload.toString(), text, `peer → client ${text.length} bytes`);
        }
      });

      t.test('Refresh extends the allocation', async (t) => {
        const granted = await client.refresh(300);
        t.ok(granted > 0, `granted ${granted}`);
        t.equal(client.allocation?.lifetime, granted);
      });

      t.test('Refresh with lifetime 0 deletes the allocation', async (t) => {
        const closed = new Promise<void>((resolve) => client.once('close', resolve));
        t.equal(await client.refresh(0), 0);
        t.equal(client.allocation, undefined);
        if (transport === 'tcp') {
          // coturn ends the TCP connection together with its allocation.
          await Promise.race([closed, timeout(5000, 'coturn kept the TCP connection open')]);
          t.ok(client.closed, 'the client reports the connection end');
          await t.rejects(client.refresh(600), { code: 'RTCD_TURN_CLIENT_CLOSED' });
          return;
        }
        await untilAllocationGone(client);
        const err = await client.refresh(600).then(
          () => undefined,
          (e: unknown) => e,
        );
        t.type(err, TurnClientError);
        t.match(err, { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 437 });
      });
    });
  }

  t.test('close() deletes the allocation (UDP, same 5-tuple afterwards)', async (t) => {
    const first = await connect('udp');
    const port = first.local.port;
    await first.allocate();
    await first.close();
    t.ok(first.closed);
    await first.close(); // idempotent
    const second = await connect('udp', port);
    t.teardown(() => second.close());
    t.equal(second.local.port, port);
    // Had close() not sent Refresh(0), coturn would hold the allocation of this 5-tuple
    // for 600 s: the wait would time out, the Refresh succeed and the Allocate fail.
    await untilAllocationGone(second);
    await t.rejects(second.refresh(600), {
      code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
      stunCode: 437,
    });
    const again = await second.allocate();
    t.ok(again.relayed.port > 0);
  });

  t.test(
    'Allocate options: EVEN-PORT with R, RESERVATION-TOKEN, family, DONT-FRAGMENT',
    async (t) => {
      const first = await connect('udp');
      t.teardown(() => first.close());
      const reserved = await first.allocate({ evenPort: true, reserve: true });
      t.equal(reserved.relayed.port % 2, 0, 'an even port');
      t.equal(reserved.reservationToken?.length, 8, 'a RESERVATION-TOKEN');
      const second = await connect('udp');
      t.teardown(() => second.close());
      const next = await second.allocate({ reservationToken: reserved.reservationToken! });
      t.equal(next.relayed.port, reserved.relayed.port + 1, 'the reserved port is handed out');

      const third = await connect('tcp');
      t.teardown(() => third.close());
      await t.rejects(third.allocate({ family: 6 }), {
        code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
        stunCode: 440,
      });
      const v4 = await third.allocate({ family: 4, dontFragment: true, lifetime: 700 });
      t.equal(v4.relayed.family, 4);
    },
  );

  t.test('a wrong password fails with 401', async (t) => {
    const client = await TurnClient.connect({
      server: { host: '127.0.0.1', port: coturn.port },
      username: 'alice',
      password: 'not-the-password',
      localAddress: '127.0.0.1',
      rtoMs: 100,
    });
    t.teardown(() => client.close());
    await t.rejects(client.allocate(), {
      name: 'TurnClientError',
      code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
      stunCode: 401,
    });
  });

  t.test('no credentials: a 401 fails with RTCD_TURN_CLIENT_NO_CREDENTIALS', async (t) => {
    const client = await TurnClient.connect({
      server: { host: '127.0.0.1', port: coturn.port },
      transport: 'tcp',
      localAddress: '127.0.0.1',
    });
    t.teardown(() => client.close());
    t.same(await client.binding(), client.local, 'Binding needs no credentials');
    await t.rejects(client.allocate(), { code: 'RTCD_TURN_CLIENT_NO_CREDENTIALS', stunCode: 401 });
  });
});
