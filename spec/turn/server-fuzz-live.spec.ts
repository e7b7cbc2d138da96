import { once } from 'node:events';
import t from 'tap';
import { AttributeType as A, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import type { TurnClient } from '../../lib/turn/client.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { delay, RawTcp, RawUdp, stringAttribute, within } from '../helpers/raw-stun.js';
import { BytePool, seal } from '../helpers/stun-mutations.js';
import {
  body,
  caughtUp,
  code,
  connectClient,
  fuzzInput,
  KEY,
  type LiveSeed,
  liveSeeds,
  PEER_IP,
  Peer,
  REALM,
  roundTrip,
  settled,
  start,
  TallyObserver,
  USER,
  udpTransport,
  unknownAttributes,
} from './server-fuzz-tools.js';

/*
 * The running TurnServer under bad input, over real sockets on loopback: the error answers
 * RFC 8489/8656 require (401 with REALM and NONCE, 401 for bad integrity, 420 listing the
 * unknown attribute, 403 for forbidden peers), then a blast of random and mutated datagrams
 * and TCP streams, after which the server must still answer Binding, still relay for the
 * allocations made before, have closed the garbage connections and kept the good one.
 *
 * The peer lives on 127.13.37.1 and the fuzzed server allows only 127.13.37.0/24 as peers:
 * mutated XOR-PEER-ADDRESS values then cannot make it send junk to other loopback ports
 * (other specs' servers) or off the machine.
 *
 * FUZZ_SEED and FUZZ_LIVE_DATAGRAMS (default 50 000) reproduce or scale a run.
 */

const { seed: SEED } = fuzzSettings({ seed: 0x11fe, iterations: 0 });
const DATAGRAMS = Number(process.env.FUZZ_LIVE_DATAGRAMS ?? 50_000);
const IDLE_MS = 1500;
/** How TurnClient rejects a 403. */
const FORBIDDEN = { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 403 };

for (const transport of ['udp', 'tcp'] as const) {
  t.test(
    `${transport}: 401 with REALM and NONCE, 401 on bad integrity, 420 lists 0x0031`,
    async (t) => {
      const { udp, tcp } = await start(t, {});
      const raw = transport === 'udp' ? await RawUdp.open(udp) : await RawTcp.connect(tcp);
      t.teardown(() => raw.close());

      const allocate = body(StunMethod.allocate, udpTransport).body;
      const challenge = await raw.transact(seal(allocate, { fingerprint: true }));
      t.equal(code(challenge), 401, 'Allocate without credentials');
      t.equal(stringAttribute(challenge, A.REALM), REALM, 'with REALM');
      const nonce = stringAttribute(challenge, A.NONCE);
      t.ok(nonce, 'with NONCE');
      if (nonce === undefined) return;

      const wrongKey = longTermKey(USER, REALM, 'not-the-password');
      const signed = body(
        StunMethod.allocate,
        (b) => udpTransport(b).addUint32(A.LIFETIME, 600),
        nonce,
      );
      const wrong = await raw.transact(seal(signed.body, { key: wrongKey, fingerprint: true }));
      t.equal(code(wrong), 401, 'MESSAGE-INTEGRITY under the wrong password');
      t.ok(wrong.has(A.REALM) && wrong.has(A.NONCE), 'a fresh challenge');

      // Valid integrity, then one byte of LIFETIME changed (FINGERPRINT recomputed to match).
      const tampered = seal(signed.body, { key: KEY });
      tampered[signed.methodEnd - 1]! ^= 1;
      const tamperedFinal = seal(tampered, { fingerprint: true });
      t.equal(code(await raw.transact(tamperedFinal)), 401, 'a byte changed after integrity');

      const unknown = await raw.transact(
        seal(body(StunMethod.binding, (b) => b.add(0x0031, Buffer.from([1, 2]))).body, {
          fingerprint: true,
        }),
      );
      t.equal(code(unknown), 420, 'Binding with comprehension-required 0x0031');
      t.same(unknownAttributes(unknown), [0x0031], 'UNKNOWN-ATTRIBUTES lists it');
      const unknownAllocate = body(
        StunMethod.allocate,
        (b) => udpTransport(b).add(0x0031, Buffer.alloc(4)),
        nonce,
      );
      const answer = await raw.transact(
        seal(unknownAllocate.body, { key: KEY, fingerprint: true }),
      );
      t.equal(code(answer), 420, 'authenticated Allocate with 0x0031');
      t.same(unknownAttributes(answer), [0x0031]);

      const ok = body(StunMethod.allocate, udpTransport, nonce);
      t.equal(
        code(await raw.transact(seal(ok.body, { key: KEY, fingerprint: true }))),
        0,
        'and a good Allocate still succeeds',
      );
    },
  );
}

t.test('403 for forbidden peers when loopback peers are not allowed', async (t) => {
  const { udp, tcp } = await start(t, { relayIps: ['127.0.0.1', '::1'] });
  for (const [transport, server] of [
    ['udp', udp],
    ['tcp', tcp],
  ] as const) {
    const v4 = await connectClient(t, server, transport);
    await v4.allocate();
    for (const peer of ['10.0.0.1', '127.0.0.1', '169.254.169.254']) {
      await t.rejects(v4.createPermission([peer]), FORBIDDEN, `${transport}: ${peer}`);
    }
    const forbidden: TransportAddress = { family: 4, address: '10.0.0.1', port: 5000 };
    await t.rejects(v4.channelBind(forbidden), FORBIDDEN, `${transport}: channel to 10.0.0.1`);
    await t.resolves(v4.createPermission(['93.184.216.34']), `${transport}: a public peer is fine`);
    const v6 = await connectClient(t, server, transport);
    await v6.allocate({ family: 6 });
    for (const peer of ['::ffff:127.0.0.1', '::1', '::ffff:10.0.0.1', 'fe80::1']) {
      await t.rejects(v6.createPermission([peer]), FORBIDDEN, `${transport}: ${peer}`);
    }
  }
});

t.test(
  `the running server survives ${DATAGRAMS} fuzz datagrams and bad TCP streams (seed ${SEED})`,
  async (t) => {
    const rng = new Random(SEED);
    const pool = new BytePool(rng);
    const observer = new TallyObserver();
    const { udp, tcp } = await start(
      t,
      {
        allowPeers: [`${PEER_IP}/24`],
        denyPeers: ['0.0.0.0/0', '::/0'],
        tcpIdleTimeoutMs: IDLE_MS,
      },
      observer,
    );
    const peer = await Peer.open();
    t.teardown(() => peer.close());

    // The allocations that must survive: one over UDP, one over TCP, each with a channel.
    const good: { client: TurnClient; relayed: TransportAddress; label: string }[] = [];
    for (const transport of ['udp', 'tcp'] as const) {
      const client = await connectClient(t, transport === 'udp' ? udp : tcp, transport);
      const { relayed } = await client.allocate();
      await client.channelBind(peer.address);
      good.push({ client, relayed, label: `${transport} allocation` });
      await roundTrip(t, client, relayed, peer, `${transport} allocation before the fuzz`);
    }
    let goodTcpClosed = false;
    good[1]!.client.once('close', () => {
      goodTcpClosed = true;
    });

    // Bad TCP clients: garbage at once; a valid Binding then garbage; a ChannelData header
    // announcing 65535 bytes then silence; streams of mutated frames.
    const connectMany = (n: number) =>
      Promise.all(Array.from({ length: n }, () => RawTcp.connect(tcp)));
    const garbage = await connectMany(3);
    const thenGarbage = await connectMany(3);
    const stalled = await connectMany(2);
    const mutated = await connectMany(3);
    for (const c of [...garbage, ...thenGarbage, ...stalled, ...mutated])
      t.teardown(() => c.close());
    for (const c of garbage) c.write(Buffer.concat([Buffer.from([0xff]), pool.take(rng, 63)]));
    for (const c of thenGarbage) {
      const binding = seal(body(StunMethod.binding, () => {}).body, { fingerprint: true });
      t.equal(code(await c.transact(binding)), 0, 'a TCP client answered before its garbage');
      c.write(Buffer.concat([Buffer.from([0x80]), pool.take(rng, 31)]));
    }
    for (const c of stalled)
      c.write(Buffer.concat([Buffer.from([0x40, 0x01, 0xff, 0xff]), pool.take(rng, 100)]));

    // UDP: several sockets, each with its own nonce, so signed mutations get past auth.
    const blasters = await Promise.all(Array.from({ length: 4 }, () => RawUdp.open(udp)));
    t.teardown(() => {
      for (const b of blasters) b.close();
    });
    const seeds: LiveSeed[] = [];
    for (const b of blasters) {
      const challenge = await b.transact(seal(body(StunMethod.allocate, udpTransport).body, {}));
      seeds.push(...liveSeeds(rng, b, stringAttribute(challenge, A.NONCE) ?? '', peer.address));
    }
    const unsigned = seeds.filter((s) => s.key === undefined);
    const before = observer.events;
    const started = Date.now();
    for (let sent = 0; sent < DATAGRAMS; ) {
      for (let k = 0; k < 200 && sent < DATAGRAMS; k++, sent++) {
        const seed = rng.pick(seeds);
        const from = rng.int(10) === 0 ? rng.pick(blasters) : seed.from;
        from.send(fuzzInput(rng, pool, seed, false));
      }
      if (sent % 2000 === 0) {
        // Interleave the mutated TCP streams (unsigned seeds only: no allocation, so idle ones go).
        for (const c of mutated) {
          const frames = Array.from({ length: 8 }, () =>
            fuzzInput(rng, pool, rng.pick(unsigned), true),
          );
          c.write(Buffer.concat(frames));
        }
      }
      await caughtUp(observer, before + sent - 64);
    }
    await settled(observer);
    const counted = observer.events - before;
    t.comment(
      `${DATAGRAMS} datagrams sent in ${Date.now() - started} ms; ${counted} outcomes counted`,
    );
    t.ok(
      counted >= DATAGRAMS * 0.9,
      `the server processed the blast (${counted} outcomes counted)`,
    );

    // Garbage connections are closed at once, for garbage; stalled and mutated ones at the
    // latest when idle (they have no allocation).
    await within(
      Promise.all([...garbage, ...thenGarbage].map((c) => c.closed)),
      3000,
      'garbage close',
    );
    t.ok(
      [...garbage, ...thenGarbage].every((c) => c.closedByServer),
      'garbage connections closed by the server',
    );
    t.ok(observer.count('drop stream-garbage') >= 6, 'and counted as stream-garbage drops');
    await within(
      Promise.all([...stalled, ...mutated].map((c) => c.closed)),
      IDLE_MS + 5000,
      'idle close',
    );
    t.ok(
      [...stalled, ...mutated].every((c) => c.closedByServer),
      'stalled and mutated streams closed by the server',
    );

    // Still a STUN server, over both transports.
    for (const [transport, server] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      const probe = await connectClient(t, server, transport, false);
      t.same(await probe.binding(), probe.local, `${transport}: Binding still answered`);
    }
    // Still relaying for the allocations made before, after the idle timeout has passed.
    for (const g of good)
      await roundTrip(t, g.client, g.relayed, peer, `${g.label} after the fuzz`);
    t.notOk(goodTcpClosed, 'the well-behaved TCP client was not disconnected');
  },
);

t.test(
  'a TCP client that never reads cannot make the server queue responses without bound',
  async (t) => {
    // Responses are written whatever the backlog (only relayed data checks MAX_WRITE_BACKLOG),
    // so a client that sends requests and never reads grows the server's memory by about twice
    // what it sends. Whether the server then closes the connection or stops reading from it,
    // the sender must notice before 24 MB of responses have piled up.
    const { udp, tcp } = await start(t, {});
    const raw = await RawTcp.connect(tcp);
    t.teardown(() => raw.close());
    raw.socket.pause();
    const binding = Buffer.alloc(20);
    binding.writeUInt16BE(StunMethod.binding, 0);
    binding.writeUInt32BE(0x2112a442, 4);
    const batch = Buffer.alloc(20 * 1000);
    let outcome = 'all sent';
    for (let sent = 0; sent < 600_000; sent += 1000) {
      for (let i = 0; i < 1000; i++) {
        binding.writeUInt32BE(sent + i, 16);
        binding.copy(batch, i * 20);
      }
      if (raw.socket.destroyed || raw.closedByServer) {
        outcome = 'closed by the server';
        break;
      }
      if (!raw.socket.write(Buffer.from(batch))) {
        // `once` rejects on 'error': a reset is the server closing.
        const drained = once(raw.socket, 'drain').then(
          () => 'drained',
          () => 'closed by the server',
        );
        const closed = raw.closed.then(() => 'closed by the server');
        const result = await Promise.race([drained, closed, delay(5000).then(() => 'stalled')]);
        if (result !== 'drained') {
          outcome = result === 'stalled' ? 'the server stopped reading' : result;
          break;
        }
      }
    }
    t.not(outcome, 'all sent', `outcome: ${outcome}`);
    const probe = await RawUdp.open(udp);
    t.teardown(() => probe.close());
    const answer = await probe.transact(seal(body(StunMethod.binding, () => {}).body, {}));
    t.equal(code(answer), 0, 'other clients are still answered');
  },
);

t.test('a TCP connection whose allocation expired is closed once idle', async (t) => {
  // The idle timer fires once per idle period: if the connection still had its allocation
  // then, nothing closes it later, and each such connection holds a `maxConnections` slot
  // for good after its allocation has expired.
  const { server, tcp } = await start(t, {
    tcpIdleTimeoutMs: 300,
    defaultLifetime: 1,
    maxLifetime: 1,
  });
  const raw = await RawTcp.connect(tcp);
  t.teardown(() => raw.close());
  const challenge = await raw.transact(seal(body(StunMethod.allocate, udpTransport).body, {}));
  const nonce = stringAttribute(challenge, A.NONCE);
  const allocate = body(StunMethod.allocate, udpTransport, nonce);
  t.equal(code(await raw.transact(seal(allocate.body, { key: KEY }))), 0, 'allocated for 1 s');
  await delay(600);
  t.equal(raw.closedByServer, false, 'kept while it has an allocation, though idle');
  await within(raw.closed, 5000, 'close after the allocation expired').catch(() => {});
  t.equal(server.allocationCount, 0, 'the allocation expired');
  t.equal(raw.closedByServer, true, 'closed once idle without an allocation');
});
