/**
 * RFC 8489 §9.2 username anonymity on the server side: USERHASH (SHA-256 of
 * `username ":" realm`, §14.4) instead of USERNAME. Static users are found by their hash;
 * an unknown hash, and any REST username (the server cannot enumerate them to hash), is a 401
 * like an unknown USERNAME (§9.2.4).
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import {
  encodePasswordAlgorithm,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
import { userhash } from '../../lib/stun/attributes/userhash.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import {
  PasswordAlgorithm as Algorithm,
  AttributeType,
  StunClass,
  StunMethod,
} from '../../lib/stun/constants.js';
import {
  longTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import type { StunMessage } from '../../lib/stun/message.js';
import { restPassword } from '../../lib/turn/credentials.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { errorCode, fixture, REALM, TestClient } from './core-fixture.js';

interface Hashed {
  /** The USERHASH value; default that of `username`. */
  hash?: Buffer;
  username?: string;
  password?: string;
  /** Choose SHA-256, echoing the challenge's PASSWORD-ALGORITHMS. */
  sha256?: boolean;
  method?: number;
}

/** A request with USERHASH instead of USERNAME, as an RFC 8489 client sends it. */
function hashed(c: TestClient, challenge: StunMessage, o: Hashed = {}): Buffer {
  const method = o.method ?? StunMethod.allocate;
  const b = new StunMessageBuilder(StunClass.request, method, randomBytes(12));
  if (method === StunMethod.allocate) {
    b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  }
  const username = o.username ?? c.username;
  b.add(AttributeType.USERHASH, o.hash ?? userhash(username, REALM))
    .addString(AttributeType.REALM, REALM)
    .addString(AttributeType.NONCE, c.nonce);
  if (o.sha256) {
    b.add(AttributeType.PASSWORD_ALGORITHMS, challenge.value(AttributeType.PASSWORD_ALGORITHMS)!);
    b.add(
      AttributeType.PASSWORD_ALGORITHM,
      encodePasswordAlgorithm(passwordAlgorithm(Algorithm.SHA256)),
    );
  }
  const key = longTermKey(username, REALM, o.password ?? c.password, o.sha256 ? 'sha256' : 'md5');
  if (o.sha256) b.addMessageIntegritySha256(key);
  else b.addMessageIntegrity(key);
  return b.toBuffer();
}

function challenged(options: TurnServerOptions = {}) {
  const f = fixture(options);
  const c = new TestClient(f);
  const [challenge] = c.sendRaw(c.build(StunMethod.allocate, undefined, { auth: false }));
  c.learnNonce(challenge);
  return { f, c, challenge };
}

function send(c: TestClient, bytes: Buffer): StunMessage {
  const replies = c.sendRaw(bytes);
  if (replies.length !== 1) throw new Error(`expected one response, got ${replies.length}`);
  return replies[0];
}

t.test('a static user authenticates with USERHASH and the MD5 key', async (t) => {
  const { f, c, challenge } = challenged({ authSecrets: [] });
  const response = send(c, hashed(c, challenge));
  t.equal(errorCode(response), 0);
  t.ok(verifyMessageIntegrity(response, longTermKey('alice', REALM, 'alice-pw')));
  t.notOk(response.has(AttributeType.USERNAME), 'the name is not revealed in the answer');
  t.notOk(response.has(AttributeType.USERHASH));
  t.same(f.observer.authFailures, []);
});

t.test('USERHASH with SHA-256 chosen: anonymity and the SHA-256 key together', async (t) => {
  const { c, challenge } = challenged({ authSecrets: [] });
  const response = send(c, hashed(c, challenge, { sha256: true }));
  t.equal(errorCode(response), 0);
  const key = longTermKey('alice', REALM, 'alice-pw', 'sha256');
  t.ok(verifyMessageIntegritySha256(response, key));
});

t.test('the allocation belongs to the user the hash names', async (t) => {
  const { c, challenge } = challenged({ authSecrets: [] });
  t.equal(errorCode(send(c, hashed(c, challenge))), 0);
  const refresh = send(c, hashed(c, challenge, { method: StunMethod.refresh }));
  t.equal(errorCode(refresh), 0, 'USERHASH again: same user');
  t.equal(errorCode(c.request(StunMethod.refresh)), 0, 'USERNAME alice: same user');
  c.username = 'bob';
  c.password = 'bob-pw';
  const other = send(c, hashed(c, challenge, { method: StunMethod.refresh }));
  t.equal(errorCode(other), 441, "bob's hash is another user (RFC 8656 §5)");
});

t.test('an unknown USERHASH is a 401 challenge, not a 400 (RFC 8489 §9.2.4)', async (t) => {
  const { f, c, challenge } = challenged({ authSecrets: [] });
  const response = send(c, hashed(c, challenge, { hash: randomBytes(32) }));
  t.equal(errorCode(response), 401);
  t.equal(response.value(AttributeType.REALM)?.toString(), REALM);
  t.ok(response.has(AttributeType.NONCE));
  t.ok(response.has(AttributeType.PASSWORD_ALGORITHMS), '§9.2.4: the 401 offers them');
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
  t.same(f.observer.authFailures, ['unknown-userhash']);
});

t.test('a hash over another realm names nobody here', async (t) => {
  const { f, c, challenge } = challenged({ authSecrets: [] });
  const response = send(c, hashed(c, challenge, { hash: userhash('alice', 'other.realm') }));
  t.equal(errorCode(response), 401);
  t.same(f.observer.authFailures, ['unknown-userhash']);
});

t.test('a REST username cannot be sent as USERHASH: 401', async (t) => {
  const { f, c, challenge } = challenged();
  c.username = `${Math.floor(f.clock.now / 1000) + 3600}:carol`;
  c.password = restPassword('rest-secret', c.username);
  t.equal(errorCode(c.allocate()), 0, 'the same credential works as USERNAME');
  const d = new TestClient(f, { family: 4, address: '198.51.100.7', port: 40001 });
  d.username = c.username;
  d.password = c.password;
  d.learnNonce(d.sendRaw(d.build(StunMethod.allocate, undefined, { auth: false }))[0]);
  t.equal(errorCode(send(d, hashed(d, challenge))), 401);
  t.same(f.observer.authFailures, ['unknown-userhash']);
});

t.test('a USERHASH of the wrong length is a 400', async (t) => {
  const { f, c, challenge } = challenged({ authSecrets: [] });
  const response = send(c, hashed(c, challenge, { hash: randomBytes(20) }));
  t.equal(errorCode(response), 400);
  t.same(f.observer.authFailures, ['missing-attributes']);
});

t.test('users reloaded: the new user is found by hash, the removed one is not', async (t) => {
  const { f, c, challenge } = challenged({ authSecrets: [] });
  f.core.credentials.setUsers({ carol: 'carol-pw' });
  c.username = 'carol';
  c.password = 'carol-pw';
  t.equal(errorCode(send(c, hashed(c, challenge))), 0);
  const d = new TestClient(f, { family: 4, address: '198.51.100.7', port: 40001 });
  d.learnNonce(d.sendRaw(d.build(StunMethod.allocate, undefined, { auth: false }))[0]);
  t.equal(errorCode(send(d, hashed(d, challenge))), 401, 'alice is gone');
});
