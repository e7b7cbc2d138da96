import { AttributeType as A, StunMethod } from '../../lib/stun/constants.js';
import { longTermKey } from '../../lib/stun/integrity.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import type { Allocation } from '../../lib/turn/allocation.js';
import { restPassword } from '../../lib/turn/credentials.js';
import type { RelayRequest, RelayResult } from '../../lib/turn/effects.js';
import type { RelayDirection } from '../../lib/turn/observer.js';
import { resolveTurnOptions } from '../../lib/turn/resolve-options.js';
import { TurnCore } from '../../lib/turn/server-core.js';
import { Random } from '../helpers/prng.js';
import {
  BytePool,
  channelDataVariant,
  mutateBody,
  mutateMessage,
  seal,
} from '../helpers/stun-mutations.js';
import {
  channelAttr,
  errorCode,
  type FakeClient,
  FakeRelay,
  type Fixture,
  lifetimeAttr,
  peerAttr,
  REALM,
  RELAY_V4,
  RELAY_V6,
  RecordingEffects,
  RecordingObserver,
  SERVER,
  TestClient,
} from './core-fixture.js';
import { checkFraming, checkResponse, checkState, Problems } from './core-fuzz-checks.js';
import {
  corpus,
  FORBIDDEN,
  family6,
  LIMITS,
  PEER,
  PEER2,
  PEER6,
  type Seed,
  USERS,
} from './core-fuzz-corpus.js';

/** Inputs between two setups of the real allocations (fresh nonces, corpus rebuilt). */
const EPOCH = 8192;
/** Inputs between two clock moves, ticks and state checks. */
const STEP = 256;

/** Counts every outcome the observer contract has, and (while recording) each by label. */
class CountingObserver extends RecordingObserver {
  outcomes = 0;
  answered = 0;
  readonly relays: Record<RelayDirection, number> = { 'client-to-peer': 0, 'peer-to-client': 0 };
  /** What fuzz inputs (not the setup) led to: `drop no-permission`, `allocate 0`… */
  readonly seen = new Map<string, number>();
  recording = false;
  override drop(reason: string) {
    this.outcomes++;
    this.note(`drop ${reason}`);
  }
  override response(method: string, code: number) {
    this.outcomes++;
    this.answered++;
    this.note(`${method} ${code}`);
  }
  override relayed(direction: RelayDirection, bytes: number) {
    this.outcomes++;
    this.relays[direction]++;
    super.relayed(direction, bytes);
    this.note(`relayed ${direction}`);
  }
  private note(label: string) {
    if (this.recording) this.seen.set(label, (this.seen.get(label) ?? 0) + 1);
  }
}

/** Records like the fixture's effects, and tracks which relay sockets are open. */
class FuzzEffects extends RecordingEffects {
  readonly live = new Set<FakeRelay>();
  /** The last few closed relays, for peer datagrams to stale relays. */
  readonly closed: FakeRelay[] = [];
  /** `closeRelay` calls for a relay that was not open (closed twice, or never opened). */
  doubleCloses = 0;
  relayRequestCount = 0;
  private lastPeerSend: { data: Uint8Array; offset: number; length: number } | undefined;
  /** The arguments of the last `sendToPeer`, forgotten once read. */
  takePeerSend() {
    const last = this.lastPeerSend;
    this.lastPeerSend = undefined;
    return last;
  }
  override openRelay(request: RelayRequest<FakeClient>) {
    this.relayRequestCount++;
    super.openRelay(request);
  }
  override sendToPeer(
    relay: FakeRelay,
    peer: TransportAddress,
    data: Uint8Array,
    offset: number,
    length: number,
  ) {
    this.lastPeerSend = { data, offset, length };
    super.sendToPeer(relay, peer, data, offset, length);
  }
  override closeRelay(relay: FakeRelay) {
    if (!this.live.delete(relay)) this.doubleCloses++;
    this.closed.push(relay);
    if (this.closed.length > 16) this.closed.shift();
  }
}

interface PendingRelay {
  request: RelayRequest<FakeClient>;
  /** The pending allocation the request is for. */
  allocation: Allocation<FakeClient, FakeRelay> | undefined;
  /** Of the Allocate (unknown for the setup's own requests). */
  transactionId: Buffer | undefined;
}

/**
 * Drives one `TurnCore` with seeded random inputs and checks the invariants described in
 * core-fuzz.spec.ts after each of them. `problems` collects what broke.
 */
export class CoreFuzzer {
  readonly rng: Random;
  readonly pool: BytePool;
  readonly effects = new FuzzEffects();
  readonly observer = new CountingObserver();
  readonly clock = { now: 1_000_000 };
  readonly core: TurnCore<FakeClient, FakeRelay>;
  readonly clients: TestClient[];
  /** The two clients whose allocations (with permissions and channels) every epoch restores. */
  readonly mains: [TestClient, TestClient];
  readonly problems = new Problems();
  /** Keys that may sign a success response. */
  private readonly keys: Buffer[] = [];
  private token = Buffer.alloc(8, 0xee);
  private seeds: Seed[] = [];
  private readonly pending: PendingRelay[] = [];
  private nextPort = 50000;
  private connections = 0;
  inputs = 0;
  peerInputs = 0;

  constructor(seed: number) {
    this.rng = new Random(seed);
    this.pool = new BytePool(this.rng);
    const options = resolveTurnOptions(
      {
        listen: [{ host: SERVER.address, port: SERVER.port }],
        relayIps: [RELAY_V4, RELAY_V6],
        realm: REALM,
        users: USERS,
        authSecrets: ['rest-secret'],
        maxBps: 1_000_000,
        bpsCapacity: 2_000_000,
        ...LIMITS,
      },
      { nodeVersion: 'v20.0.0', interfaces: {} },
    );
    const { effects, observer } = this;
    this.core = new TurnCore({ options, effects, observer });
    const f: Fixture = {
      core: this.core,
      effects,
      observer,
      clock: this.clock,
      nextPort: { value: 0 },
      openRelays: () => {
        for (const r of effects.relayRequests.splice(0)) this.answer(this.track(r), false);
      },
    };
    const client = (address: string, port: number, transport: 'udp' | 'tcp', user = 'alice') => {
      const family = address.includes(':') ? 6 : 4;
      const c = new TestClient(f, { family, address, port }, transport);
      c.username = user;
      c.password = USERS[user as keyof typeof USERS] ?? 'wrong';
      return c;
    };
    this.clients = [
      client('198.51.100.7', 40000, 'udp'), // main: IPv4 relay, two channels
      client('198.51.100.8', 40001, 'tcp', 'bob'), // main: IPv6 relay over TCP
      client('198.51.100.9', 40002, 'udp'), // alice's second allocation, reservations
      client('2001:db8::7', 40003, 'tcp', ''), // a REST user ("carol")
      client('198.51.100.10', 40004, 'udp'), // alice's third: 486
      client('198.51.100.11', 40005, 'udp', 'bob'), // the fifth allocation: 508
      client('198.51.100.12', 40006, 'udp', 'mallory'), // unknown user: 401
    ];
    this.mains = [this.clients[0]!, this.clients[1]!];
    for (const c of this.clients) {
      if (c.ref.transport === 'tcp') {
        this.core.clientConnected(c.ref);
        this.connections++;
      }
    }
    this.keys.push(longTermKey('alice', REALM, USERS.alice), longTermKey('bob', REALM, USERS.bob));
  }

  run(iterations: number): void {
    for (let i = 0; i < iterations && this.problems.size < 12; i++) {
      if (i % EPOCH === 0) this.prepare();
      if (i % STEP === 0) this.step();
      this.clientInput();
      if (this.rng.int(8) === 0) this.peerInput();
    }
  }

  /** Closes the core: every allocation, reservation and late relay socket must be let go. */
  finish(): void {
    this.observer.recording = false;
    this.core.close();
    this.answerPending(1);
    this.checkState();
    if (this.effects.live.size !== 0) this.problems.add('relay sockets left open after close()');
  }

  // --- setup ---------------------------------------------------------------------------------

  /** Fresh nonces and credentials, the main allocations back, the corpus rebuilt. */
  private prepare(): void {
    this.observer.recording = false;
    this.answerPending(1);
    const carol = this.clients[3]!;
    if (carol.username === '' || this.restExpiresSoon(carol.username)) {
      carol.username = `${Math.floor(this.clock.now / 1000) + 7200}:carol`;
      carol.password = restPassword('rest-secret', carol.username);
      this.keys.push(longTermKey(carol.username, REALM, carol.password));
      if (this.keys.length > 4) this.keys.splice(2, 1); // alice, bob, the last two of carol
    }
    for (const c of this.clients) {
      c.nonce = '';
      c.prime();
    }
    const [c0, c1] = this.mains;
    if (!this.core.hasAllocation(c0.ref) || !this.core.hasAllocation(c1.ref)) this.freeOthers();
    if (!this.core.hasAllocation(c0.ref)) c0.allocate();
    if (!this.core.hasAllocation(c1.ref)) {
      c1.allocate((b) => b.add(A.REQUESTED_ADDRESS_FAMILY, family6));
    }
    c0.request(StunMethod.createPermission, (b) => peerAttr(peerAttr(b, PEER), PEER2));
    c0.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
    const otherPort = { ...PEER, port: 6002 };
    c0.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, otherPort), 0x4002));
    c1.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER6), 0x4fff));
    const c2 = this.clients[2]!;
    if (!this.core.hasAllocation(c2.ref)) {
      const r = c2.allocate((b) => b.add(A.EVEN_PORT, Buffer.from([0x80])));
      const token = r.value(A.RESERVATION_TOKEN);
      if (errorCode(r) === 0 && token) this.token = Buffer.from(token);
    }
    this.seeds = corpus(this.rng, this.clients, this.mains, this.token);
    this.effects.toClients.length = 0;
    this.observer.recording = true;
  }

  private restExpiresSoon(username: string): boolean {
    return Number(username.split(':')[0]) * 1000 <= this.clock.now + 600_000;
  }

  /** Gives up the allocations of the other clients (so the main ones fit the limits). */
  private freeOthers(): void {
    for (const c of this.clients.slice(2)) {
      if (!this.core.hasAllocation(c.ref)) continue;
      if (c.ref.transport === 'tcp') this.reconnect(c);
      else c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 0));
    }
  }

  /** The TCP connection of `c` closes and a new one comes from the same address. */
  private reconnect(c: TestClient): void {
    this.core.clientClosed(c.ref);
    this.core.clientConnected(c.ref);
  }

  // --- inputs --------------------------------------------------------------------------------

  private clientInput(): void {
    const { rng, pool } = this;
    const seed = rng.pick(this.seeds);
    const roll = rng.int(100);
    let sender = seed.owner;
    let input: Buffer;
    if (roll < 4) {
      input = this.randomInput();
    } else if (roll < 82) {
      if (roll < 9) {
        input = seed.sealed; // as sent before: the retransmission path
      } else if (roll < 14) {
        const body = Buffer.from(seed.body);
        rng.fill(body, 8, 20);
        input = seal(body, seed);
      } else if (roll < 50) {
        input = mutateMessage(rng, seed.sealed, pool);
      } else {
        input = seal(mutateBody(rng, seed.body, seed.methodEnd, pool), seed);
      }
      if (rng.int(7) === 0) sender = rng.pick(this.clients);
    } else {
      const r = rng.int(10);
      sender = r < 6 ? this.mains[0] : r < 8 ? this.mains[1] : rng.pick(this.clients);
      input = this.channelDataInput(sender);
    }
    this.deliver(sender, input);
  }

  private randomInput(): Buffer {
    const { rng } = this;
    const b = Buffer.from(this.pool.take(rng, rng.int(100)));
    if (b.length > 0) b[0] = rng.pick([0x00, 0x01, 0x40, 0x4f, 0x3f, 0x80, b[0]!]);
    if (b.length >= 8 && rng.chance(0.5)) b.writeUInt32BE(0x2112a442, 4);
    return b;
  }

  private channelDataInput(sender: TestClient): Buffer {
    const { rng, pool } = this;
    const channel = rng.pick([0x4001, 0x4002, 0x4fff, 0x4123, 0x4000 + rng.int(0x1000)]);
    const big = rng.chance(0.1) ? 60000 + rng.int(5500) : rng.int(1500);
    const n = rng.chance(0.97) ? rng.int(64) : big;
    const padded = sender.ref.transport === 'tcp' && rng.chance(0.9);
    const input = channelDataVariant(rng, channel, pool.take(rng, n), padded);
    return rng.int(4) === 0 ? mutateMessage(rng, input, pool) : input;
  }

  /** One client input, sometimes inside a larger buffer (as a TCP adapter passes frames). */
  private deliver(sender: TestClient, input: Buffer): void {
    const { rng, core, effects, observer } = this;
    let data = input;
    let offset = 0;
    if (rng.int(6) === 0) {
      offset = rng.int(16);
      data = Buffer.concat([this.pool.take(rng, offset), input, this.pool.take(rng, rng.int(16))]);
    }
    const detail = { input, sender };
    const outcomes = observer.outcomes + effects.relayRequestCount;
    const answered = observer.answered;
    const relays = observer.relays['client-to-peer'];
    const sends = effects.toClients.length;
    const peerSends = effects.toPeers.length;
    effects.takePeerSend();
    this.inputs++;
    try {
      core.handleClientPacket(sender.ref, data, offset, input.length, this.clock.now);
    } catch (error) {
      this.problems.add('handleClientPacket threw', { ...detail, error });
      return;
    }
    const n = observer.outcomes + effects.relayRequestCount - outcomes;
    if (n !== 1) this.problems.add(`a client input had ${n} outcomes`, detail);
    if (effects.toClients.length - sends !== observer.answered - answered) {
      this.problems.add('messages sent to the client differ from responses counted', detail);
    }
    const transactionId = input.subarray(8, 20);
    for (const d of effects.toClients.slice(sends)) {
      if (d.client !== sender.ref) this.problems.add('a response went to another client', detail);
      checkResponse(this.problems, this.keys, d.bytes, transactionId, detail);
    }
    const relayed = observer.relays['client-to-peer'] - relays;
    if (effects.toPeers.length - peerSends !== relayed) {
      this.problems.add('datagrams sent to peers differ from relays counted', detail);
    } else if (relayed === 1) {
      if (effects.toPeers.at(-1)?.relay !== core.table.get(sender.ref)?.relay) {
        this.problems.add('relayed from a relay the sender does not own', detail);
      }
      // The core may pass `data` or a view of it: compare positions in the same memory.
      const last = effects.takePeerSend();
      const start = last ? last.data.byteOffset + last.offset : -1;
      const from = data.byteOffset + offset;
      if (
        last === undefined ||
        last.data.buffer !== data.buffer ||
        start < from ||
        start + last.length > from + input.length
      ) {
        this.problems.add('relayed bytes outside the input', detail);
      }
    }
    for (const r of effects.relayRequests.splice(0)) {
      const p = this.track(r, Buffer.from(transactionId));
      if (rng.chance(0.85)) this.answer(p, true);
      else this.pending.push(p);
    }
  }

  /** A datagram from a peer to a live, stale or unknown relay; sometimes ~64 KiB. */
  private peerInput(): void {
    const { rng, core, effects, observer } = this;
    const relay = this.pickRelay();
    const address = rng.pick([
      PEER.address,
      PEER.address,
      PEER2.address,
      PEER6.address,
      FORBIDDEN.address,
      `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`,
    ]);
    const port = rng.pick([PEER.port, PEER.port, 6002, PEER2.port, PEER6.port, rng.int(65536)]);
    const family = core.table.byRelay(relay)?.family;
    // The largest UDP payloads: 65507 bytes over IPv4, 65527 over IPv6.
    const big = rng.int(300) === 0;
    const length = big ? (family === 6 ? 65500 : 65480) + rng.int(28) : rng.int(160);
    const data = this.pool.take(rng, length);
    const outcomes = observer.outcomes;
    const relays = observer.relays['peer-to-client'];
    const sends = effects.toClients.length;
    const context = `peer ${address}:${port}, ${length} bytes, relay family ${family}`;
    this.peerInputs++;
    try {
      core.handlePeerPacket(relay, address, port, data, this.clock.now);
    } catch (error) {
      const kind = family === 6 ? 'IPv6' : 'IPv4';
      this.problems.add(`handlePeerPacket threw (${kind} relay)`, { error, context });
      return;
    }
    const n = observer.outcomes - outcomes;
    if (n !== 1) this.problems.add(`a peer datagram had ${n} outcomes`, { context });
    if (observer.relays['peer-to-client'] - relays === 1) {
      const sent = effects.toClients.slice(sends);
      const owner = core.table.byRelay(relay);
      if (sent.length !== 1 || owner === undefined || sent[0]!.client !== owner.client) {
        this.problems.add('a relayed peer datagram did not go once to the relay owner', {
          context,
        });
      } else {
        const peer = { address, port, data };
        checkFraming(this.problems, core, sent[0]!.bytes, owner.client, peer, context);
      }
    } else if (effects.toClients.length !== sends) {
      this.problems.add('a dropped peer datagram sent something', { context });
    }
  }

  private pickRelay(): FakeRelay {
    const { rng, core, effects } = this;
    const r = rng.int(10);
    const live = r === 7 ? [...effects.live] : [];
    const relay =
      r < 4
        ? core.table.get(this.mains[0].ref)?.relay
        : r < 7
          ? core.table.get(this.mains[1].ref)?.relay
          : r === 7 && live.length > 0
            ? rng.pick(live)
            : r === 8 && effects.closed.length > 0
              ? rng.pick(effects.closed)
              : undefined;
    return relay ?? new FakeRelay(PEER);
  }

  // --- relay sockets -------------------------------------------------------------------------

  private track(request: RelayRequest<FakeClient>, transactionId?: Buffer): PendingRelay {
    return { request, allocation: this.core.table.get(request.client), transactionId };
  }

  private answerPending(fraction: number): void {
    for (const p of this.pending.splice(0)) {
      if (this.rng.next() < fraction) this.answer(p, true);
      else this.pending.push(p);
    }
  }

  /** The adapter's answer to `openRelay`: a socket (sometimes two), or a failure. */
  private answer(p: PendingRelay, mayFail: boolean): void {
    const { rng, core, effects, observer } = this;
    const { request } = p;
    const result = mayFail && rng.int(10) === 0 ? this.failure() : this.bind(request);
    const held = p.allocation !== undefined && core.table.holds(p.allocation);
    const answered = observer.answered;
    const sends = effects.toClients.length;
    try {
      core.relayOpened(request.id, result, this.clock.now);
    } catch (error) {
      this.problems.add('relayOpened threw', { error });
      return;
    }
    const n = observer.answered - answered;
    if (n !== (held ? 1 : 0) || effects.toClients.length - sends !== n) {
      this.problems.add(`relayOpened (allocation ${held ? 'held' : 'gone'}) answered ${n} times`);
    }
    for (const d of effects.toClients.slice(sends)) {
      if (d.client !== request.client) {
        this.problems.add('an Allocate response went to another client');
      }
      if (p.transactionId) checkResponse(this.problems, this.keys, d.bytes, p.transactionId);
    }
    const sockets = result.ok ? [result.relay, result.reserved?.relay] : [];
    if (!held && sockets.some((s) => s !== undefined && effects.live.has(s))) {
      this.problems.add('the relay socket of a gone allocation was not closed');
    }
  }

  private failure(): RelayResult<FakeRelay> {
    return {
      ok: false,
      reason: this.rng.pick(['ports-exhausted', 'family-unavailable', 'bind-failed']),
    };
  }

  private bind(request: RelayRequest<FakeClient>): RelayResult<FakeRelay> {
    const address = request.family === 4 ? RELAY_V4 : RELAY_V6;
    const relayed: TransportAddress = { family: request.family, address, port: this.nextPort };
    const next: TransportAddress = { ...relayed, port: this.nextPort + 1 };
    this.nextPort = this.nextPort >= 65000 ? 50000 : this.nextPort + 2;
    const relay = new FakeRelay(relayed);
    this.effects.live.add(relay);
    if (!request.reserveNext) return { ok: true, relay, relayed };
    const reserved = { relay: new FakeRelay(next), relayed: next };
    this.effects.live.add(reserved.relay);
    return { ok: true, relay, relayed, reserved };
  }

  // --- time and state ------------------------------------------------------------------------

  private step(): void {
    const { rng, core } = this;
    this.clock.now += rng.int(4000);
    const jump = rng.int(600);
    // Past the permission (300 s), channel and nonce (600 s) or allocation (3600 s) lifetime.
    if (jump < 10) this.clock.now += 301_000;
    else if (jump < 15) this.clock.now += 601_000;
    else if (jump < 17) this.clock.now += 3_601_000;
    this.answerPending(0.5);
    if (rng.int(128) === 0) {
      this.reconnect(rng.pick(this.clients.filter((c) => c.ref.transport === 'tcp')));
    }
    try {
      core.tick(this.clock.now);
    } catch (error) {
      this.problems.add('tick threw', { error });
    }
    this.checkState();
    this.effects.toClients.length = 0;
    this.effects.toPeers.length = 0;
  }

  private checkState(): void {
    const { core, effects, observer } = this;
    checkState(this.problems, {
      core,
      live: effects.live,
      gauges: observer.lastGauges,
      connections: this.connections,
    });
    if (effects.doubleCloses !== 0) this.problems.add('closeRelay of a relay not open');
  }
}
