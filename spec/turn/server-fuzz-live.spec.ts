import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { decodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeUnknownAttributes } from '../../lib/stun/attributes/unknown-attributes.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType as A, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import type { StunMessage } from '../../lib/stun/message.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { TurnClient } from '../../lib/turn/client.js';
import type { RelayDirection, TurnObserver } from '../../lib/turn/observer.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { TurnServer } from '../../lib/turn/server.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { delay, RawTcp, RawUdp, stringAttribute, within } from '../helpers/raw-stun.js';
import {
  BytePool,
  channelDataVariant,
  mutateBody,
  mutateMessage,
  seal,
} from '../helpers/stun-mutations.js';

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
const REALM = 'rtcd.fuzz';
const USER = 'alice';
const PASSWORD = 'alice-pw';
const KEY = longTermKey(USER, REALM, PASSWORD);
const PEER_IP = '127.13.37.1';
const IDLE_MS = 1500;
/** How TurnClient rejects a 403. */
const FORBIDDEN = { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 403 };

class TallyObserver implements TurnObserver {
  events = 0;
  private readonly labels = new Map<string, number>();
  drop(reason: string) {
    this.add(`drop ${reason}`);
  }
  response(method: string, code: number) {
    this.add(`${method} ${code}`);
  }
  authFailure() {}
  relayed(direction: RelayDirection) {
    this.add(`relayed ${direction}`);
  }
  gauges() {}
  count(label: string): number {
    return this.labels.get(label) ?? 0;
  }
  private add(label: string) {
    this.events++;
    this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
  }
}

interface Started {
  server: TurnServer;
  udp: TransportAddress;
  tcp: TransportAddress;
}

async function start(
  t: Test,
  options: TurnServerOptions,
  observer?: TurnObserver,
): Promise<Started> {
  const server = new TurnServer(
    {
      listen: [{ host: '127.0.0.1', port: 0 }],
      realm: REALM,
      users: { [USER]: PASSWORD },
      drainTimeoutMs: 0,
      ...options,
    },
    observer ? { observer } : {},
  );
  await server.start();
  t.teardown(() => server.close());
  const at = (port: number): TransportAddress => ({ family: 4, address: '127.0.0.1', port });
  return { server, udp: at(server.addresses.udp[0]!.port), tcp: at(server.addresses.tcp[0]!.port) };
}

function connectClient(
  t: Test,
  server: TransportAddress,
  transport: 'udp' | 'tcp',
  credentials = true,
): Promise<TurnClient> {
  return TurnClient.connect({
    server: { host: server.address, port: server.port },
    transport,
    ...(credentials ? { username: USER, password: PASSWORD } : {}),
    localAddress: '127.0.0.1',
    rtoMs: 100,
  }).then((client) => {
    t.teardown(() => client.close());
    return client;
  });
}

const udpTransport = (b: StunMessageBuilder) =>
  b.add(A.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));

/** A request body: method attributes, then USERNAME/REALM/NONCE when `nonce` is given. */
function body(
  method: number,
  add: (b: StunMessageBuilder) => void,
  nonce?: string,
  cls: StunClass = StunClass.request,
) {
  const b = new StunMessageBuilder(cls, method, randomBytes(12));
  add(b);
  const methodEnd = b.length;
  if (nonce !== undefined) {
    b.addString(A.USERNAME, USER).addString(A.REALM, REALM).addString(A.NONCE, nonce);
  }
  return { body: Buffer.from(b.toBuffer()), methodEnd };
}

function code(m: StunMessage): number {
  if (m.messageClass === StunClass.success) return 0;
  const a = m.get(A.ERROR_CODE);
  return (a && decodeErrorCode(m, a)?.code) ?? -1;
}

function unknownAttributes(m: StunMessage): number[] | undefined {
  const a = m.get(A.UNKNOWN_ATTRIBUTES);
  return a && decodeUnknownAttributes(m, a);
}

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

/** A plain UDP peer on `PEER_IP`. */
class Peer {
  private readonly socket = createSocket('udp4');
  address: TransportAddress = { family: 4, address: PEER_IP, port: 0 };

  static async open(): Promise<Peer> {
    const peer = new Peer();
    peer.socket.bind(0, PEER_IP);
    await once(peer.socket, 'listening');
    peer.address = { ...peer.address, port: peer.socket.address().port };
    return peer;
  }

  /** Where the first datagram equal to `payload` came from. */
  waitFor(payload: Buffer): Promise<TransportAddress> {
    return new Promise((resolve) => {
      const on = (data: Buffer, rinfo: { address: string; port: number }) => {
        if (!data.equals(payload)) return;
        this.socket.off('message', on);
        resolve({ family: 4, address: rinfo.address, port: rinfo.port });
      };
      this.socket.on('message', on);
    });
  }

  send(to: TransportAddress, data: Buffer): void {
    this.socket.send(data, to.port, to.address);
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends every 250 ms (UDP may lose a datagram under load) until `result` settles. */
async function retrying<T>(send: () => void, result: Promise<T>, what: string): Promise<T> {
  const timer = setInterval(send, 250);
  send();
  try {
    return await within(result, 5000, what);
  } finally {
    clearInterval(timer);
  }
}

/** Data from the client reaches the peer from the relayed address, and back. */
async function roundTrip(
  t: Test,
  client: TurnClient,
  relayed: TransportAddress,
  peer: Peer,
  label: string,
): Promise<void> {
  const out = Buffer.from(`${label}: to the peer ${randomBytes(4).toString('hex')}`);
  const from = await retrying(() => client.send(peer.address, out), peer.waitFor(out), label);
  t.same(from, relayed, `${label}: the peer got it from the relayed address`);
  const back = Buffer.from(`${label}: to the client ${randomBytes(4).toString('hex')}`);
  const got = new Promise<TransportAddress>((resolve) => {
    const on = (p: TransportAddress, data: Buffer) => {
      if (!data.equals(back)) return;
      client.off('data', on);
      resolve(p);
    };
    client.on('data', on);
  });
  t.same(
    await retrying(() => peer.send(relayed, back), got, label),
    peer.address,
    `${label}: and back`,
  );
}

interface LiveSeed {
  from: RawUdp;
  body: Buffer;
  methodEnd: number;
  key: Buffer | undefined;
  fingerprint: boolean;
  sealed: Buffer;
}

/** What a fuzz socket starts from: requests signed with its own nonce, and unsigned ones. */
function liveSeeds(rng: Random, from: RawUdp, nonce: string, peer: TransportAddress): LiveSeed[] {
  const channel = (b: StunMessageBuilder) =>
    b.add(A.CHANNEL_NUMBER, Buffer.from([0x40, 0x01, 0, 0]));
  const signed: [number, (b: StunMessageBuilder) => void][] = [
    [StunMethod.allocate, udpTransport],
    [StunMethod.refresh, (b) => b.addUint32(A.LIFETIME, 600)],
    [StunMethod.createPermission, (b) => b.addXorAddress(A.XOR_PEER_ADDRESS, peer)],
    [StunMethod.channelBind, (b) => channel(b.addXorAddress(A.XOR_PEER_ADDRESS, peer))],
  ];
  const seeds: LiveSeed[] = [];
  const add = (b: { body: Buffer; methodEnd: number }, key: Buffer | undefined) => {
    const fingerprint = rng.chance(0.7);
    const sealed = seal(b.body, { key, fingerprint });
    seeds.push({ from, ...b, key, fingerprint, sealed });
  };
  for (const [method, write] of signed) add(body(method, write, nonce), KEY);
  add(body(StunMethod.allocate, udpTransport), undefined);
  add(
    body(StunMethod.binding, () => {}),
    undefined,
  );
  add(
    body(StunMethod.binding, (b) => b.add(0x0031, Buffer.alloc(4))),
    undefined,
  );
  const send = (b: StunMessageBuilder) =>
    b.addXorAddress(A.XOR_PEER_ADDRESS, peer).add(A.DATA, Buffer.from('fuzz'));
  add(body(StunMethod.send, send, undefined, StunClass.indication), undefined);
  return seeds;
}

/** One fuzz datagram or frame: random, as is, mutated, re-signed after mutation, ChannelData. */
function fuzzInput(rng: Random, pool: BytePool, seed: LiveSeed, padded: boolean): Buffer {
  const roll = rng.int(100);
  if (roll < 5) return Buffer.from(pool.take(rng, rng.int(120)));
  if (roll < 15) return seed.sealed;
  if (roll < 55) return mutateMessage(rng, seed.sealed, pool);
  if (roll < 85) return seal(mutateBody(rng, seed.body, seed.methodEnd, pool), seed);
  const channel = rng.chance(0.5) ? 0x4001 : 0x4000 + rng.int(0x1000);
  const n = rng.chance(0.95) ? rng.int(100) : rng.int(1400);
  return channelDataVariant(rng, channel, pool.take(rng, n), padded);
}

/**
 * Yields to the event loop (the server runs in this process) until the observer has counted
 * `events`, or has not moved for a while: sending faster than the server reads only
 * overflows the socket's receive buffer, and those datagrams never reach the server.
 */
async function caughtUp(observer: TallyObserver, events: number): Promise<void> {
  const deadline = Date.now() + 2000;
  let last = observer.events;
  let still = 0;
  while (observer.events < events && still < 50 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    still = observer.events === last ? still + 1 : 0;
    last = observer.events;
  }
}

/** Polls until the observer has seen nothing new for `quietMs` (or `maxMs` passed). */
async function settled(observer: TallyObserver, quietMs = 300, maxMs = 15000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  while (observer.events !== last && Date.now() < deadline) {
    last = observer.events;
    await delay(quietMs);
  }
}

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
