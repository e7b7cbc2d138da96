/**
 * The check list as a sans-IO core: two CheckLists on a simulated network with a fake clock,
 * no sockets. RFC 8445 §6.1.2.6 (frozen/waiting by foundation), §6.1.4.2 (pacing Ta,
 * triggered first), §7.2.5 (responses, 487), §8.1 (nomination); RFC 8489 §6.2.1
 * retransmissions; RFC 7675 consent; bad input dropped and counted; a seeded fuzz.
 */
import t from 'tap';
import { candidatePriority, type IceCandidate } from '../../lib/ice/candidate.js';
import {
  type CandidatePair,
  CheckList,
  type CheckListTiming,
  type LocalCandidate,
} from '../../lib/ice/checklist.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import {
  AttributeType,
  decodeErrorCode,
  decodeStunMessage,
  StunClass,
  type TransportAddress,
} from '../../lib/stun/index.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { BytePool, mutateMessage } from '../helpers/stun-mutations.js';

const TIMING: CheckListTiming = {
  taMs: 50,
  checkRtoMs: 500,
  checkRc: 7,
  nominationDelayMs: 300,
  consentIntervalMs: 5000,
  consentTimeoutMs: 30_000,
  disconnectedTimeoutMs: 10_000,
  maxPairs: 100,
};

interface Sent {
  base: string;
  to: TransportAddress;
  data: Buffer;
  at: number;
}

class Side {
  readonly sent: Sent[] = [];
  readonly selected: CandidatePair[] = [];
  readonly failures: string[] = [];
  readonly consent: boolean[] = [];
  readonly list: CheckList;
  constructor(
    readonly name: string,
    controlling: boolean,
    readonly net: Net,
    tieBreaker: bigint,
    timing: Partial<CheckListTiming> = {},
  ) {
    this.list = new CheckList(
      { ufrag: `${name}ufrag`, pwd: `${name}-password-0123456789ab` },
      controlling,
      { ...TIMING, ...timing },
      {
        send: (base, to, data) => {
          this.sent.push({ base, to, data, at: net.now });
          net.queue.push({ from: this, base, to, data });
        },
        selected: (p) => this.selected.push(p),
        failed: (r) => this.failures.push(r),
        consent: (f) => this.consent.push(f),
      },
      tieBreaker,
      () => 0.5,
    );
  }
  host(base: string, address: string, port: number, pref = 65535): LocalCandidate {
    const c: LocalCandidate = {
      foundation: `f${base}`,
      component: 1,
      transport: 'udp',
      priority: candidatePriority('host', pref, 1),
      address,
      port,
      type: 'host',
      base,
    };
    this.net.bind(address, port, this, base);
    this.list.addLocal(c);
    return c;
  }
  checks(): Sent[] {
    return this.sent.filter((s) => {
      const d = decodeStunMessage(s.data);
      return d.ok && d.message.messageClass === StunClass.request;
    });
  }
}

class Net {
  now = 0;
  queue: { from: Side; base: string; to: TransportAddress; data: Buffer }[] = [];
  private readonly ports = new Map<string, { side: Side; base: string }>();
  /** Drop everything sent to these addresses (a peer that stopped answering). */
  readonly blackholes = new Set<string>();
  /** Where each side's base appears to send from (a NAT can rewrite it). */
  readonly sources = new Map<string, TransportAddress>();
  bind(address: string, port: number, side: Side, base: string): void {
    this.ports.set(`${address}:${port}`, { side, base });
    this.sources.set(`${side.name}|${base}`, { family: 4, address, port });
  }
  /** Delivers queued packets (in order) until quiet, then advances the clock by `ms`. */
  run(sides: Side[], untilMs: number, step = 1): void {
    while (this.now <= untilMs) {
      for (let i = 0; i < 1000 && this.queue.length > 0; i++) {
        const p = this.queue.shift()!;
        const key = `${p.to.address}:${p.to.port}`;
        const dst = this.ports.get(key);
        if (dst === undefined || this.blackholes.has(key)) continue;
        const from = this.sources.get(`${p.from.name}|${p.base}`)!;
        const d = decodeStunMessage(p.data);
        if (!d.ok) continue;
        dst.side.list.handleStun(dst.base, from, p.data, d.message.messageClass, this.now);
      }
      for (const s of sides) s.list.tick(this.now);
      if (this.queue.length === 0) this.now += step;
    }
  }
}

function remoteOf(c: LocalCandidate): IceCandidate {
  const { base: _b, ...rest } = c;
  return rest;
}

function pairUp(controllingTb = 2n, controlledTb = 1n, timing: Partial<CheckListTiming> = {}) {
  const net = new Net();
  const a = new Side('a', true, net, controllingTb, timing);
  const b = new Side('b', false, net, controlledTb, timing);
  a.list.setRemoteCredentials(b.list.localCredentials);
  b.list.setRemoteCredentials(a.list.localCredentials);
  return { net, a, b };
}

t.test('RFC 8445 §6.1.4.2: ordinary checks are paced Ta apart, best pair first', async (t) => {
  const { net, a } = pairUp();
  a.host('a0', '10.0.0.1', 1000);
  for (let i = 0; i < 4; i++) {
    const c = new Side('x', false, net, 0n).host(`x${i}`, `10.9.0.${i + 1}`, 3000, 60000 + i);
    a.list.addRemote({ ...remoteOf(c), foundation: `r${i}` });
  }
  net.blackholes.add('10.9.0.1:3000');
  for (let i = 1; i <= 4; i++) net.blackholes.add(`10.9.0.${i}:3000`);
  a.list.start(0);
  net.run([a], 160);
  const checks = a.checks();
  t.same(
    checks.map((c) => c.at),
    [0, 50, 100, 150],
    'one new check per Ta',
  );
  t.same(
    checks.map((c) => c.to.address),
    ['10.9.0.4', '10.9.0.3', '10.9.0.2', '10.9.0.1'],
    'in pair-priority order',
  );
});

t.test(
  'RFC 8489 §6.2.1: retransmissions double the RTO; Rc sends then the pair fails',
  async (t) => {
    const { net, a } = pairUp();
    a.host('a0', '10.0.0.1', 1000);
    a.list.addRemote({ ...remoteOf(new Side('x', false, net, 0n).host('x', '10.9.9.9', 9, 1)) });
    net.blackholes.add('10.9.9.9:9');
    a.list.setLocalEnded();
    a.list.setRemoteEnded(0);
    a.list.start(0);
    net.run([a], 40_000, 10);
    t.same(
      a.checks().map((c) => c.at),
      [0, 500, 1500, 3500, 7500, 15500, 31500],
    );
    t.equal(a.list.checklist[0]?.state, 'failed');
    t.same(a.failures, ['every candidate pair failed'], 'end-of-candidates + all failed → failed');
  },
);

t.test('RFC 8445 §6.1.2.6: one pair per foundation waits, the rest are frozen', async (t) => {
  const { net, a } = pairUp();
  a.host('a0', '10.0.0.1', 1000);
  const x = new Side('x', false, net, 0n);
  for (let i = 0; i < 3; i++) {
    a.list.addRemote({
      ...remoteOf(x.host(`x${i}`, `10.8.0.${i + 1}`, 7, 100 + i)),
      foundation: 'same',
    });
  }
  t.same(
    a.list.checklist.map((p) => p.state),
    ['waiting', 'frozen', 'frozen'],
  );
});

t.test('two cores connect: regular nomination by the controlling side', async (t) => {
  const { net, a, b } = pairUp();
  const ca = a.host('a0', '10.0.0.1', 1000);
  const cb = b.host('b0', '10.0.0.2', 2000);
  a.list.addRemote(remoteOf(cb));
  b.list.addRemote(remoteOf(ca));
  a.list.start(0);
  b.list.start(0);
  net.run([a, b], 500);
  t.equal(a.selected.length, 1);
  t.equal(b.selected.length, 1);
  t.ok(a.selected[0]?.nominated && b.selected[0]?.nominated);
  const useCandidate = a
    .checks()
    .filter((c) => decodeStunMessage(c.data).ok && c.data.includes(Buffer.from([0x00, 0x25])));
  t.ok(useCandidate.length >= 1, 'the controlling side sent USE-CANDIDATE');
  t.notOk(
    b.checks().some((c) => {
      const d = decodeStunMessage(c.data);
      return d.ok && d.message.has(AttributeType.USE_CANDIDATE);
    }),
    'the controlled side never nominates',
  );
});

t.test(
  'aggressive nomination from the remote is accepted (USE-CANDIDATE on every check)',
  async (t) => {
    const { net, b } = pairUp();
    b.host('b0', '10.0.0.2', 2000);
    const a = new Side('a', true, net, 9n);
    a.host('a0', '10.0.0.1', 1000);
    // A hand-made aggressive check from a (unknown address to b: learned as peer-reflexive).
    const check = buildCheckRequest({
      localUfrag: 'aufrag',
      remoteUfrag: 'bufrag',
      remotePwd: 'b-password-0123456789ab',
      priority: candidatePriority('prflx', 65535, 1),
      role: 'controlling',
      tieBreaker: 9n,
      useCandidate: true,
    });
    b.list.handleStun(
      'b0',
      { family: 4, address: '10.0.0.1', port: 1000 },
      check,
      StunClass.request,
      0,
    );
    t.equal(b.list.remoteCandidates[0]?.type, 'prflx');
    const response = b.sent[0]!;
    t.equal(decodeStunMessage(response.data).ok && decodeStunMessage(response.data).ok, true);
    // b's triggered check reaches a, whose response completes it → selected.
    net.queue.length = 0;
    net.run([b, a], 100);
    t.equal(b.selected.length, 1, 'b selected the pair once its triggered check succeeded');
  },
);

t.test('RFC 8445 §7.3.1.1 / §7.2.5.1: 487 makes the lower tie-breaker switch role', async (t) => {
  const net = new Net();
  const a = new Side('a', true, net, 1n);
  const b = new Side('b', true, net, 2n);
  a.list.setRemoteCredentials(b.list.localCredentials);
  b.list.setRemoteCredentials(a.list.localCredentials);
  const ca = a.host('a0', '10.0.0.1', 1000);
  const cb = b.host('b0', '10.0.0.2', 2000);
  a.list.addRemote(remoteOf(cb));
  b.list.addRemote(remoteOf(ca));
  a.list.start(0);
  net.run([a, b], 10);
  const errors = b.sent
    .map((s) => decodeStunMessage(s.data))
    .filter((d) => d.ok && d.message.messageClass === StunClass.error);
  t.equal(errors.length, 1, 'b (larger tie-breaker) answered 487');
  const m = errors[0]!.ok ? errors[0]!.message : undefined;
  t.equal(m && decodeErrorCode(m, m.get(AttributeType.ERROR_CODE)!)?.code, 487);
  t.equal(a.list.role, 'controlled', 'a switched on the 487');
  t.equal(b.list.role, 'controlling');
  b.list.start(10);
  net.run([a, b], 600);
  t.equal(a.selected.length, 1);
  t.equal(b.selected.length, 1);
});

t.test(
  'RFC 7675: consent checks on the selected pair; silence → consent lost → failed',
  async (t) => {
    const { net, a, b } = pairUp(2n, 1n, {
      consentIntervalMs: 1000,
      disconnectedTimeoutMs: 2500,
      consentTimeoutMs: 5000,
    });
    const ca = a.host('a0', '10.0.0.1', 1000);
    const cb = b.host('b0', '10.0.0.2', 2000);
    a.list.addRemote(remoteOf(cb));
    b.list.addRemote(remoteOf(ca));
    a.list.start(0);
    b.list.start(0);
    net.run([a, b], 3000, 10);
    t.same(a.consent, [], 'answered consent checks: no change');
    const before = a.checks().length;
    t.ok(before >= 3, 'consent checks go out about once a second');
    net.blackholes.add('10.0.0.2:2000');
    net.run([a, b], 10_000, 10);
    t.same(a.consent, [false], 'consent stale after disconnectedTimeoutMs');
    t.same(a.failures, ['consent expired (RFC 7675)']);
  },
);

t.test('bad input is dropped or refused and counted, never thrown', async (t) => {
  const { b } = pairUp();
  b.host('b0', '10.0.0.2', 2000);
  const from = { family: 4 as const, address: '10.0.0.1', port: 1000 };
  const good = {
    localUfrag: 'aufrag',
    remoteUfrag: 'bufrag',
    remotePwd: 'b-password-0123456789ab',
    priority: 1,
    role: 'controlling' as const,
    tieBreaker: 1n,
  };
  const codeOf = (i: number): number | undefined => {
    const d = decodeStunMessage(b.sent[i]!.data);
    if (!d.ok) return undefined;
    const a = d.message.get(AttributeType.ERROR_CODE);
    return a && decodeErrorCode(d.message, a)?.code;
  };
  b.list.handleStun(
    'b0',
    from,
    buildCheckRequest({ ...good, remotePwd: 'wrong-password-0123456789' }),
    0,
    0,
  );
  t.equal(codeOf(0), 401, 'bad MESSAGE-INTEGRITY → 401');
  b.list.handleStun('b0', from, buildCheckRequest({ ...good, remoteUfrag: 'nobody' }), 0, 0);
  t.equal(codeOf(1), 401, 'unknown ufrag → 401');
  const truncated = buildCheckRequest(good).subarray(0, 40);
  b.list.handleStun('b0', from, truncated, 0, 0);
  t.equal(b.sent.length, 2, 'a truncated message gets no answer');
  t.equal(b.list.counters.badRequests, 3);
  t.equal(b.list.remoteCandidates.length, 0, 'nothing learned from them');
  const stray = buildCheckRequest(good);
  stray[0] = 0x01; // a success response nobody asked for
  t.notOk(b.list.handleStun('b0', from, stray, StunClass.success, 0), 'stray response: not ours');
});

t.test('fuzz: mutated checks and responses never throw and teach nothing', async (t) => {
  const { seed, iterations } = fuzzSettings({ seed: 0x1ce, iterations: 20_000 });
  const rng = new Random(seed);
  const pool = new BytePool(rng);
  const { b } = pairUp();
  b.host('b0', '10.0.0.2', 2000);
  const from = { family: 4 as const, address: '10.0.0.1', port: 1000 };
  const valid = buildCheckRequest({
    localUfrag: 'aufrag',
    remoteUfrag: 'bufrag',
    remotePwd: 'b-password-0123456789ab',
    priority: 1,
    role: 'controlling',
    tieBreaker: 1n,
  });
  let authenticated = 0;
  for (let i = 0; i < iterations; i++) {
    const m = mutateMessage(rng, valid, pool);
    const cls = rng.int(4);
    const before = b.list.remoteCandidates.length;
    b.list.handleStun('b0', from, m, cls, i);
    if (b.list.remoteCandidates.length > before) authenticated++;
  }
  t.ok(authenticated <= 1, `at most the unmutated address was learned (${authenticated})`);
  t.pass(`seed ${seed}, ${iterations} inputs`);
});

t.test(
  '§7.2.5.3.2: a mapped address other than the base makes a prflx valid pair, kept',
  async (t) => {
    const { net, a, b } = pairUp();
    const ca = a.host('a0', '10.0.0.1', 1000);
    const cb = b.host('b0', '10.0.0.2', 2000);
    a.list.addRemote(remoteOf(cb));
    b.list.addRemote(remoteOf(ca));
    // b answers as if a's packets came through a NAT mapping 10.0.0.1:1000 → 192.0.2.9:5555.
    net.sources.set('a|a0', { family: 4, address: '192.0.2.9', port: 5555 });
    net.bind('192.0.2.9', 5555, a, 'a0');
    a.list.start(0);
    b.list.start(0);
    net.run([a, b], 600);
    const selected = a.selected.at(-1);
    t.equal(selected?.local.type, 'prflx', "a's valid pair has the mapped (prflx) local");
    t.equal(selected?.local.address, '192.0.2.9');
    t.equal(a.selected.length, 1, 'selected once');
    const checked = a.list.checklist.find((p) => p.validPair !== undefined);
    t.equal(checked?.validPair, a.list.selected, 'the nominating check kept the same valid pair');
    net.run([a, b], 20_000, 50);
    t.equal(a.consent.length, 0, 'consent responses keep the same selected pair fresh');
  },
);
