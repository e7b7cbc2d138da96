import t from 'tap';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import {
  longTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import { restPassword } from '../../lib/turn/credentials.js';
import { errorCode, fixture, REALM, TestClient, uint32, xorAddress } from './core-fixture.js';

t.test('RFC 8489 Binding: answered without authentication with XOR-MAPPED-ADDRESS', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const [response] = c.sendRaw(c.build(StunMethod.binding, undefined, { auth: false }));
  t.equal(response.messageClass, StunClass.success);
  t.same(xorAddress(response, AttributeType.XOR_MAPPED_ADDRESS), c.ref.remote);
  t.ok(verifyFingerprint(response), 'FINGERPRINT because the request had one');
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
  t.same(f.observer.responses, ['binding 0']);
});

t.test('Binding without FINGERPRINT gets a response without FINGERPRINT', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const [response] = c.sendRaw(
    c.build(StunMethod.binding, undefined, { auth: false, fingerprint: false }),
  );
  t.equal(errorCode(response), 0);
  t.notOk(response.has(AttributeType.FINGERPRINT));
});

t.test(
  '420 lists the unknown comprehension-required attribute, before authentication',
  async (t) => {
    const f = fixture();
    const c = new TestClient(f);
    const unknownType = 0x0031;
    for (const method of [StunMethod.binding, StunMethod.allocate]) {
      const [response] = c.sendRaw(
        c.build(
          method,
          (b) => b.add(unknownType, Buffer.from([1, 2, 3, 4])).add(0x8077, Buffer.alloc(4)),
          {
            auth: false,
          },
        ),
      );
      t.equal(errorCode(response), 420);
      const list = response.value(AttributeType.UNKNOWN_ATTRIBUTES);
      t.same([...(list ?? [])], [0x00, 0x31], 'only the comprehension-required one');
    }
    t.same(f.observer.responses, ['binding 420', 'allocate 420']);
  },
);

t.test('an unknown method in a request is a 400', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const [response] = c.sendRaw(c.build(0x0ff, undefined, { auth: false }));
  t.equal(errorCode(response), 400);
});

t.test('401 without credentials carries REALM and NONCE, no integrity', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const [response] = c.sendRaw(c.build(StunMethod.allocate, undefined, { auth: false }));
  t.equal(errorCode(response), 401);
  t.equal(response.value(AttributeType.REALM)?.toString(), REALM);
  t.ok(response.value(AttributeType.NONCE)?.length, 'a nonce');
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY_SHA256));
  t.notOk(response.has(AttributeType.USERNAME));
  t.same(f.observer.authFailures, [], 'the challenge is not a failure');
});

t.test('400 when integrity comes without USERNAME, REALM or NONCE', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const key = longTermKey('alice', REALM, 'alice-pw');
  const [response] = c.sendRaw(
    c.build(StunMethod.allocate, (b) => b.addMessageIntegrity(key), { auth: false }),
  );
  t.equal(errorCode(response), 400);
  t.same(f.observer.authFailures, ['missing-attributes']);
});

t.test('401 for a wrong password, an unknown user and a wrong realm', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.learnNonce(c.sendRaw(c.build(StunMethod.allocate, undefined, { auth: false }))[0]);
  t.equal(errorCode(c.allocate(undefined, { password: 'nope', nonce: c.nonce })), 401);
  t.equal(errorCode(c.allocate(undefined, { username: 'mallory', nonce: c.nonce })), 401);
  t.equal(errorCode(c.allocate(undefined, { realm: 'other', nonce: c.nonce })), 401);
  t.same(f.observer.authFailures, ['bad-integrity', 'malformed-username', 'wrong-realm']);
  t.equal(f.core.allocationCount, 0);
});

t.test('438 Stale Nonce with a fresh NONCE once the nonce lifetime is over', async (t) => {
  const f = fixture({ nonceLifetime: 60 });
  const c = new TestClient(f);
  t.equal(errorCode(c.allocate()), 0, 'challenge, then success');
  const old = c.nonce;
  f.clock.now += 60_000;
  const [stale] = c.sendRaw(c.build(StunMethod.refresh));
  t.equal(errorCode(stale), 438);
  const fresh = stale.value(AttributeType.NONCE)?.toString();
  t.ok(fresh && fresh !== old, 'a new nonce');
  t.same(f.observer.authFailures, ['stale-nonce']);
  c.learnNonce(stale);
  t.equal(errorCode(c.request(StunMethod.refresh)), 0, 'the new nonce works');
});

t.test('a nonce issued to another client is refused with 438', async (t) => {
  const f = fixture();
  const a = new TestClient(f);
  const b = new TestClient(f, { family: 4, address: '198.51.100.8', port: 40000 });
  a.learnNonce(a.sendRaw(a.build(StunMethod.allocate, undefined, { auth: false }))[0]);
  const [response] = b.sendRaw(b.build(StunMethod.allocate, undefined, { nonce: a.nonce }));
  t.equal(errorCode(response), 438);
  t.same(f.observer.authFailures, ['invalid-nonce']);
});

t.test('responses to authenticated requests carry MESSAGE-INTEGRITY and FINGERPRINT', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate();
  const key = longTermKey('alice', REALM, 'alice-pw');
  t.equal(errorCode(response), 0);
  t.ok(verifyMessageIntegrity(response, key));
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY_SHA256));
  t.ok(verifyFingerprint(response));
  const error = c.request(StunMethod.allocate, (b) =>
    b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])),
  );
  t.equal(errorCode(error), 437, 'an error after authentication…');
  t.ok(verifyMessageIntegrity(error, key), '…is signed too');
});

t.test(
  'a request signed with MESSAGE-INTEGRITY-SHA256 gets a SHA-256 signed response',
  async (t) => {
    const f = fixture();
    const c = new TestClient(f);
    const response = c.allocate(undefined, { sha256: true, fingerprint: false });
    const key = longTermKey('alice', REALM, 'alice-pw');
    t.equal(errorCode(response), 0);
    t.ok(verifyMessageIntegritySha256(response, key));
    t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
    t.notOk(response.has(AttributeType.FINGERPRINT), 'no FINGERPRINT when the request had none');
  },
);

t.test('TURN REST API: a username minted with any configured secret authenticates', async (t) => {
  const f = fixture({ authSecrets: ['new-secret', 'old-secret'] });
  const expiry = Math.floor(f.clock.now / 1000) + 3600;
  for (const [port, secret] of ['new-secret', 'old-secret'].entries()) {
    const c = new TestClient(f, { family: 4, address: '198.51.100.9', port: 2000 + port });
    c.username = `${expiry}:carol`;
    c.password = restPassword(secret, c.username);
    t.equal(errorCode(c.allocate()), 0, secret);
  }
  const c = new TestClient(f, { family: 4, address: '198.51.100.9', port: 1 });
  c.username = `${expiry}:carol`;
  c.password = restPassword('unknown-secret', c.username);
  t.equal(errorCode(c.allocate()), 401);
});

t.test('without REST secrets an unknown user is unknown-user', async (t) => {
  const f = fixture({ authSecrets: [] });
  const c = new TestClient(f);
  c.username = 'mallory';
  t.equal(errorCode(c.allocate()), 401);
  t.same(f.observer.authFailures, ['unknown-user']);
});

t.test('TURN REST API: an expired username is a 401', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.username = `${Math.floor(f.clock.now / 1000) - 1}:carol`;
  c.password = restPassword('rest-secret', c.username);
  t.equal(errorCode(c.allocate()), 401);
  t.same(f.observer.authFailures, ['expired']);
});

t.test('441 when a Refresh uses another USERNAME than the Allocate', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.allocate()), 0);
  c.username = 'bob';
  c.password = 'bob-pw';
  const response = c.request(StunMethod.refresh);
  t.equal(errorCode(response), 441);
  t.ok(verifyMessageIntegrity(response, longTermKey('bob', REALM, 'bob-pw')));
  t.same(f.observer.authFailures, ['wrong-credentials']);
  t.equal(uint32(response, AttributeType.LIFETIME), undefined);
});

t.test('a bad FINGERPRINT is dropped silently', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const bytes = c.build(StunMethod.binding, undefined, { auth: false });
  bytes[bytes.length - 1] ^= 0xff;
  t.same(c.sendRaw(bytes), []);
  t.same(f.observer.drops, ['bad-fingerprint']);
});

t.test('responses and non-Send indications from clients are dropped and counted', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.same(c.sendRaw(c.build(StunMethod.binding, undefined, { auth: false }, StunClass.success)), []);
  t.same(
    c.sendRaw(c.build(StunMethod.binding, undefined, { auth: false }, StunClass.indication)),
    [],
  );
  const rtp = Buffer.alloc(32);
  rtp[0] = 0x80; // RTP version 2: neither STUN nor ChannelData
  t.same(c.sendRaw(rtp), []);
  t.same(c.sendRaw(Buffer.alloc(24)), [], 'a STUN-looking header without cookie');
  t.same(f.observer.drops, [
    'client-response',
    'client-indication',
    'not-turn',
    'bad-magic-cookie',
  ]);
});

t.test(
  'cores sharing nonceSecret accept each other’s nonces (--workers); others: 438',
  async (t) => {
    const secret = 'one secret for every worker';
    const c = new TestClient(fixture({ nonceSecret: secret }));
    c.learnNonce(c.sendRaw(c.build(StunMethod.allocate, undefined, { auth: false }))[0]);
    // The same 5-tuple's signed request lands on another process after the reuseport group
    // changed. A Refresh shows where authentication ended: 437 (no allocation there) means the
    // nonce and integrity passed, 438 means the nonce did not.
    const on = (f: ReturnType<typeof fixture>) =>
      errorCode(new TestClient(f).sendRaw(c.build(StunMethod.refresh))[0]);
    t.equal(on(fixture({ nonceSecret: secret })), 437, 'same secret: the nonce is accepted');
    t.equal(on(fixture({ nonceSecret: 'a different secret, 16+ chars' })), 438, 'other secret');
    t.equal(on(fixture()), 438, 'random secret');
  },
);

t.test('nonceSecret shorter than 16 characters is refused at construction', async (t) => {
  t.throws(() => fixture({ nonceSecret: 'short' }), {
    code: 'RTCD_TURN_OPTIONS',
    field: 'nonceSecret',
  });
});
