import t from 'tap';
import { IceLiteCore, type LiteEffects, type LiteRemote } from '../../lib/ice/lite-core.js';
import { buildCheckRequest, type CheckRequestFields } from '../../lib/ice/stun-check.js';
import { decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { decodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeUnknownAttributes } from '../../lib/stun/attributes/unknown-attributes.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import { shortTermKey, verifyMessageIntegrity } from '../../lib/stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';

const PWD = 'lite-password-0123456789ab';
const A: LiteRemote = { family: 4, address: '192.0.2.10', port: 50000, transport: 'udp' };
const B: LiteRemote = { family: 4, address: '198.51.100.7', port: 61000, transport: 'udp' };

type Event =
  | { e: 'send'; to: LiteRemote; m: StunMessage }
  | { e: 'selected'; s: string; remote: LiteRemote; previous?: LiteRemote; wasConnected: boolean }
  | { e: 'expired'; s: string; remote: LiteRemote }
  | { e: 'drop'; reason: string };

function fixture(consentTimeoutMs = 30_000) {
  const events: Event[] = [];
  const effects: LiteEffects<string> = {
    send: (to, data) => {
      const r = decodeStunMessage(data);
      if (!r.ok) throw new Error('core sent undecodable bytes');
      events.push({ e: 'send', to, m: r.message });
    },
    selected: (s, remote, previous, wasConnected) =>
      events.push({ e: 'selected', s, remote, previous, wasConnected }),
    consentExpired: (s, remote) => events.push({ e: 'expired', s, remote }),
    drop: (reason) => events.push({ e: 'drop', reason }),
  };
  const core = new IceLiteCore<string>({ consentTimeoutMs }, effects);
  const entry = core.add('s1', 'srv1', PWD);
  const take = (): Event[] => events.splice(0);
  return { core, entry, take };
}

function check(f: Partial<CheckRequestFields> = {}): Buffer {
  return buildCheckRequest({
    localUfrag: 'peer',
    remoteUfrag: 'srv1',
    remotePwd: PWD,
    priority: 1862270975,
    role: 'controlling',
    tieBreaker: 42n,
    ...f,
  });
}

function sent(events: Event[]): StunMessage {
  const s = events.find((e) => e.e === 'send');
  if (s === undefined || s.e !== 'send') throw new Error('nothing sent');
  return s.m;
}

function errorCode(m: StunMessage): number | undefined {
  const a = m.get(AttributeType.ERROR_CODE);
  return a && decodeErrorCode(m, a)?.code;
}

t.test(
  'RFC 8445 §7.3.1.1: a valid check is answered with XOR-MAPPED-ADDRESS, integrity and fingerprint',
  async (t) => {
    const { core, entry, take } = fixture();
    const req = check();
    core.handleStun(req, A, 0);
    const ev = take();
    t.equal(ev.length, 1, 'a response and nothing else: no nomination yet');
    const m = sent(ev);
    t.equal(m.messageClass, StunClass.success);
    t.same([...m.transactionId], [...req.subarray(8, 20)]);
    const x = m.get(AttributeType.XOR_MAPPED_ADDRESS);
    t.same(x && decodeXorAddress(m, x), { family: 4, address: A.address, port: A.port });
    t.ok(verifyMessageIntegrity(m, shortTermKey(PWD)));
    t.ok(verifyFingerprint(m));
    t.equal(entry.state, 'new');
  },
);

t.test(
  'RFC 8445 §7.3.1.5: USE-CANDIDATE selects the pair; a later nomination moves it',
  async (t) => {
    const { core, entry, take } = fixture();
    core.handleStun(check({ useCandidate: true }), A, 0);
    let ev = take();
    t.match(ev[1], { e: 'selected', s: 's1', remote: A, previous: undefined, wasConnected: false });
    t.equal(entry.state, 'connected');
    core.handleStun(check({ useCandidate: true }), A, 1);
    t.equal(take().length, 1, 'the same nomination again: only the response');
    core.handleStun(check(), B, 2);
    t.equal(take().length, 1, 'a check from elsewhere without USE-CANDIDATE does not move it');
    t.equal(entry.selected, A);
    core.handleStun(check({ useCandidate: true }), B, 3);
    ev = take();
    t.match(ev[1], { e: 'selected', remote: B, previous: A, wasConnected: true });
    t.equal(entry.selected, B);
  },
);

t.test(
  'bad checks: 401, 400, 420 and 487 as RFC 8489 §6.3 / RFC 8445 §7.3.1.1 say; silence otherwise',
  async (t) => {
    const { core, entry, take } = fixture();
    core.handleStun(check({ remotePwd: 'wrong-password-0123456789' }), A, 0);
    let ev = take();
    let m = sent(ev);
    t.equal(errorCode(m), 401);
    t.notOk(
      m.has(AttributeType.MESSAGE_INTEGRITY),
      'no integrity: the request did not authenticate',
    );
    t.match(ev[1], { e: 'drop', reason: 'bad-integrity' });

    core.handleStun(check({ remoteUfrag: 'nobody' }), A, 0);
    t.same(take(), [{ e: 'drop', reason: 'unknown-ufrag' }], 'unknown ufrag: no answer at all');

    const noUser = new StunMessageBuilder(
      StunClass.request,
      StunMethod.binding,
      Buffer.alloc(12, 7),
    )
      .addUint32(AttributeType.PRIORITY, 1)
      .addFingerprint()
      .toBuffer();
    core.handleStun(noUser, A, 0);
    ev = take();
    t.equal(errorCode(sent(ev)), 400);
    t.match(ev[1], { e: 'drop', reason: 'no-username' });

    const unknownAttr = new StunMessageBuilder(
      StunClass.request,
      StunMethod.binding,
      Buffer.alloc(12, 8),
    )
      .addString(AttributeType.USERNAME, 'srv1:peer')
      .addUint32(AttributeType.PRIORITY, 1)
      .add(0x7001, Buffer.alloc(4))
      .addMessageIntegrity(shortTermKey(PWD))
      .addFingerprint()
      .toBuffer();
    core.handleStun(unknownAttr, A, 0);
    ev = take();
    m = sent(ev);
    t.equal(errorCode(m), 420);
    const ua = m.get(AttributeType.UNKNOWN_ATTRIBUTES);
    t.same(ua && decodeUnknownAttributes(m, ua), [0x7001]);
    t.ok(verifyMessageIntegrity(m, shortTermKey(PWD)), '420 is authenticated');

    core.handleStun(check({ role: 'controlled', useCandidate: true }), A, 0);
    ev = take();
    m = sent(ev);
    t.equal(errorCode(m), 487, 'the peer claims controlled too: role conflict');
    t.ok(verifyMessageIntegrity(m, shortTermKey(PWD)));
    t.match(ev[1], { e: 'drop', reason: 'role-conflict' });
    t.equal(entry.state, 'new', 'a conflicting check nominates nothing');

    core.handleStun(check().subarray(0, 60), A, 0);
    t.same(take(), [{ e: 'drop', reason: 'malformed' }], 'truncated: dropped, unanswered');
    const flipped = Buffer.from(check());
    flipped[25]! ^= 0x10;
    core.handleStun(flipped, A, 0);
    t.same(take(), [{ e: 'drop', reason: 'bad-fingerprint' }]);

    const indication = new StunMessageBuilder(
      StunClass.indication,
      StunMethod.binding,
      Buffer.alloc(12),
    )
      .addFingerprint()
      .toBuffer();
    core.handleStun(indication, A, 0);
    t.same(take(), [{ e: 'drop', reason: 'indication' }], 'RFC 8445 §11 keepalive: ignored');
    const response = new StunMessageBuilder(StunClass.success, StunMethod.binding, Buffer.alloc(12))
      .addFingerprint()
      .toBuffer();
    core.handleStun(response, A, 0);
    t.same(take(), [{ e: 'drop', reason: 'not-a-request' }]);
  },
);

t.test('a known remote ufrag refuses checks naming another one', async (t) => {
  const { core, take } = fixture();
  const e2 = core.add('s2', 'srv2', PWD, 'alice');
  core.handleStun(check({ remoteUfrag: 'srv2', localUfrag: 'mallory', useCandidate: true }), A, 0);
  t.same(take(), [{ e: 'drop', reason: 'remote-ufrag-mismatch' }]);
  e2.remoteUfrag = 'mallory';
  core.handleStun(check({ remoteUfrag: 'srv2', localUfrag: 'mallory', useCandidate: true }), A, 0);
  t.equal(e2.state, 'connected');
});

t.test(
  'RFC 7675 §5.1: consent ends after the timeout without a valid check from the selected address',
  async (t) => {
    const { core, entry, take } = fixture(30_000);
    core.handleStun(check({ useCandidate: true }), A, 0);
    core.handleStun(check(), A, 20_000);
    core.handleStun(check(), B, 40_000); // not the selected address: no refresh
    take();
    core.sweep(45_000);
    t.equal(entry.state, 'connected', 'refreshed at 20 s');
    core.sweep(50_001);
    t.same(take(), [{ e: 'expired', s: 's1', remote: A }]);
    t.equal(entry.state, 'disconnected');
    core.sweep(60_000);
    t.same(take(), [], 'expired once');
    core.handleStun(check(), A, 61_000);
    t.match(
      take()[1],
      { e: 'selected', remote: A, wasConnected: false },
      'a valid check from the selected address brings it back',
    );
    t.equal(entry.state, 'connected');
  },
);

t.test('remove: the session is forgotten and its checks go unanswered', async (t) => {
  const { core, entry, take } = fixture();
  core.remove(entry);
  core.remove(entry);
  t.equal(core.size, 0);
  t.equal(entry.state, 'closed');
  core.handleStun(check(), A, 0);
  t.same(take(), [{ e: 'drop', reason: 'unknown-ufrag' }]);
  t.throws(() => {
    core.add('x', 'dup1', PWD);
    core.add('y', 'dup1', PWD);
  }, TypeError);
});

t.test('a flood of checks for unknown ufrags sends nothing and keeps nothing', async (t) => {
  const { core, take } = fixture();
  for (let i = 0; i < 2000; i++) {
    const from: LiteRemote = {
      family: 4,
      address: `10.0.${i >> 8}.${i & 255}`,
      port: 1000 + i,
      transport: 'udp',
    };
    core.handleStun(check({ remoteUfrag: `u${i.toString(36).padStart(4, '0')}` }), from, i);
  }
  const ev = take();
  t.equal(ev.length, 2000);
  t.ok(ev.every((e) => e.e === 'drop' && e.reason === 'unknown-ufrag'));
  t.equal(core.size, 1);
});
