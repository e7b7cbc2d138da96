/**
 * RFC 8489 §9.2.4 password algorithms on the server side, driving TurnCore without sockets:
 * the challenge offers PASSWORD-ALGORITHMS under a nonce cookie, a request may choose one
 * (echoing the offer, which catches a bid-down) or ignore the offer and get MD5, as every
 * RFC 5389 client does.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import {
  decodePasswordAlgorithms,
  encodePasswordAlgorithm,
  encodePasswordAlgorithms,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
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
import { CredentialStore, restPassword } from '../../lib/turn/credentials.js';
import { parseNonceCookie } from '../../lib/turn/nonce.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { resolveTurnOptions } from '../../lib/turn/resolve-options.js';
import { errorCode, fixture, REALM, TestClient } from './core-fixture.js';

const BOTH = encodePasswordAlgorithms([
  passwordAlgorithm(Algorithm.SHA256),
  passwordAlgorithm(Algorithm.MD5),
]);
const MD5_ONLY = encodePasswordAlgorithms([passwordAlgorithm(Algorithm.MD5)]);
const SHA256_ONLY = encodePasswordAlgorithms([passwordAlgorithm(Algorithm.SHA256)]);

interface Signed {
  username?: string;
  password?: string;
  /** Key derivation; default the chosen algorithm, else MD5. */
  keyAlgorithm?: 'md5' | 'sha256';
  /** PASSWORD-ALGORITHMS value echoed; omitted when undefined. */
  offered?: Buffer;
  /** PASSWORD-ALGORITHM: a code (no parameters) or a raw value; omitted when undefined. */
  chosen?: number | Buffer;
  /** Default MESSAGE-INTEGRITY-SHA256 when an algorithm is chosen, else MESSAGE-INTEGRITY. */
  integrity?: 'sha1' | 'sha256';
}

/** An Allocate signed as an RFC 8489 client would after the challenge `c` learned. */
function allocate(c: TestClient, o: Signed = {}): Buffer {
  const b = new StunMessageBuilder(StunClass.request, StunMethod.allocate, randomBytes(12));
  b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  const username = o.username ?? c.username;
  b.addString(AttributeType.USERNAME, username)
    .addString(AttributeType.REALM, REALM)
    .addString(AttributeType.NONCE, c.nonce);
  if (o.offered !== undefined) b.add(AttributeType.PASSWORD_ALGORITHMS, o.offered);
  if (typeof o.chosen === 'number') {
    const entry = { algorithm: o.chosen, parameters: new Uint8Array(0) };
    b.add(AttributeType.PASSWORD_ALGORITHM, encodePasswordAlgorithm(entry));
  } else if (o.chosen !== undefined) {
    b.add(AttributeType.PASSWORD_ALGORITHM, o.chosen);
  }
  const keyAlgorithm = o.keyAlgorithm ?? (o.chosen === Algorithm.SHA256 ? 'sha256' : 'md5');
  const key = longTermKey(username, REALM, o.password ?? c.password, keyAlgorithm);
  const integrity = o.integrity ?? (o.chosen === undefined ? 'sha1' : 'sha256');
  if (integrity === 'sha256') b.addMessageIntegritySha256(key);
  else b.addMessageIntegrity(key);
  return b.addFingerprint().toBuffer();
}

/** A client that has been challenged once (it knows REALM and NONCE). */
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

function offered(m: StunMessage): number[] | undefined {
  const a = m.get(AttributeType.PASSWORD_ALGORITHMS);
  return a && decodePasswordAlgorithms(m, a)?.map((e) => e.algorithm);
}

function nonceOf(m: StunMessage): string {
  return m.value(AttributeType.NONCE)?.toString('latin1') ?? '';
}

t.test('the default challenge offers SHA-256 then MD5 under a nonce cookie', async (t) => {
  const { challenge } = challenged();
  t.equal(errorCode(challenge), 401);
  t.same(offered(challenge), [Algorithm.SHA256, Algorithm.MD5], 'in order of preference');
  t.same(challenge.value(AttributeType.PASSWORD_ALGORITHMS), BOTH);
  const features = parseNonceCookie(nonceOf(challenge));
  t.equal(features?.passwordAlgorithms, true, 'the cookie announces password algorithms');
  t.equal(features?.usernameAnonymity, false, 'REST is on: USERHASH cannot be offered');
});

t.test('without REST secrets the cookie also announces username anonymity', async (t) => {
  const { challenge } = challenged({ authSecrets: [] });
  t.same(parseNonceCookie(nonceOf(challenge)), {
    passwordAlgorithms: true,
    usernameAnonymity: true,
    bits: 0xc00000,
  });
});

t.test('an MD5 client that ignores the offer still authenticates (RFC 8489 §9.2.4)', async (t) => {
  const { f, c } = challenged();
  const response = send(c, allocate(c));
  t.equal(errorCode(response), 0, 'processed as though PASSWORD-ALGORITHM were MD5');
  const key = longTermKey('alice', REALM, 'alice-pw', 'md5');
  t.ok(verifyMessageIntegrity(response, key));
  t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY_SHA256), 'what an RFC 5389 client knows');
  t.same(f.observer.authFailures, []);
});

t.test(
  'SHA-256 chosen: the key is SHA-256(user:realm:pass), the answer is signed with it',
  async (t) => {
    const { f, c } = challenged();
    const response = send(c, allocate(c, { offered: BOTH, chosen: Algorithm.SHA256 }));
    t.equal(errorCode(response), 0);
    const key = longTermKey('alice', REALM, 'alice-pw', 'sha256');
    t.equal(key.length, 32);
    t.ok(
      verifyMessageIntegritySha256(response, key),
      'MESSAGE-INTEGRITY-SHA256 with the SHA-256 key',
    );
    t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
    t.equal(f.core.allocationCount, 1);
  },
);

t.test('SHA-256 chosen works for TURN REST API usernames too', async (t) => {
  const { f, c } = challenged();
  c.username = `${Math.floor(f.clock.now / 1000) + 3600}:carol`;
  c.password = restPassword('rest-secret', c.username);
  const response = send(c, allocate(c, { offered: BOTH, chosen: Algorithm.SHA256 }));
  t.equal(errorCode(response), 0);
  t.ok(
    verifyMessageIntegritySha256(response, longTermKey(c.username, REALM, c.password, 'sha256')),
  );
});

t.test('SHA-256 chosen but signed with the MD5 key is a 401', async (t) => {
  const { f, c } = challenged();
  const bytes = allocate(c, { offered: BOTH, chosen: Algorithm.SHA256, keyAlgorithm: 'md5' });
  const response = send(c, bytes);
  t.equal(errorCode(response), 401);
  t.same(offered(response), [Algorithm.SHA256, Algorithm.MD5], 'the 401 offers again');
  t.same(f.observer.authFailures, ['bad-integrity']);
});

t.test('MD5 chosen with MESSAGE-INTEGRITY: the answer carries both integrity kinds', async (t) => {
  const { c } = challenged();
  const bytes = allocate(c, { offered: BOTH, chosen: Algorithm.MD5, integrity: 'sha1' });
  const response = send(c, bytes);
  t.equal(errorCode(response), 0);
  const key = longTermKey('alice', REALM, 'alice-pw', 'md5');
  t.ok(verifyMessageIntegrity(response, key), 'what the client signed with');
  t.ok(verifyMessageIntegritySha256(response, key), 'what RFC 8489 requires after a choice');
});

t.test(
  'a bid-down (SHA-256 struck from the echoed offer) is a 400 without integrity',
  async (t) => {
    const { f, c } = challenged();
    const response = send(c, allocate(c, { offered: MD5_ONLY, chosen: Algorithm.MD5 }));
    t.equal(errorCode(response), 400);
    t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY));
    t.notOk(response.has(AttributeType.MESSAGE_INTEGRITY_SHA256));
    t.notOk(response.has(AttributeType.NONCE), 'a 400 is not a challenge');
    t.same(f.observer.authFailures, ['password-algorithms-mismatch']);
    t.equal(f.core.allocationCount, 0);
  },
);

t.test('PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS come together or not at all', async (t) => {
  const { f, c } = challenged();
  t.equal(errorCode(send(c, allocate(c, { chosen: Algorithm.SHA256 }))), 400, 'choice alone');
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH }))), 400, 'offer alone');
  t.same(f.observer.authFailures, ['password-algorithms-mismatch', 'password-algorithms-mismatch']);
});

t.test('a choice outside the offer, or with parameters, is a 400', async (t) => {
  const { f, c } = challenged();
  const withParameters = encodePasswordAlgorithm({
    algorithm: Algorithm.SHA256,
    parameters: Buffer.from([1, 2, 3, 4]),
  });
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH, chosen: 0x0003 }))), 400, 'unknown');
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH, chosen: withParameters }))), 400);
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH, chosen: Buffer.alloc(3) }))), 400);
  t.same(f.observer.authFailures, [
    'unsupported-password-algorithm',
    'unsupported-password-algorithm',
    'unsupported-password-algorithm',
  ]);
});

t.test('438 Stale Nonce offers PASSWORD-ALGORITHMS again with a fresh cookie nonce', async (t) => {
  const { f, c } = challenged({ nonceLifetime: 60 });
  f.clock.now += 60_000;
  const stale = send(c, allocate(c, { offered: BOTH, chosen: Algorithm.SHA256 }));
  t.equal(errorCode(stale), 438);
  t.same(offered(stale), [Algorithm.SHA256, Algorithm.MD5]);
  t.equal(parseNonceCookie(nonceOf(stale))?.passwordAlgorithms, true);
  c.learnNonce(stale);
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH, chosen: Algorithm.SHA256 }))), 0);
});

t.test("passwordAlgorithms ['md5']: no cookie, no offer, and nothing to choose", async (t) => {
  const { f, c, challenge } = challenged({ passwordAlgorithms: ['md5'] });
  t.notOk(challenge.has(AttributeType.PASSWORD_ALGORITHMS), 'as an RFC 5389 server');
  t.equal(parseNonceCookie(nonceOf(challenge)), undefined, 'REST is on, so no feature at all');
  t.equal(errorCode(send(c, allocate(c))), 0, 'MD5 as before');
  const chose = send(c, allocate(c, { offered: MD5_ONLY, chosen: Algorithm.MD5 }));
  t.equal(errorCode(chose), 400, 'an offer that was never made');
  t.same(f.observer.authFailures, ['password-algorithms-mismatch']);
});

t.test("passwordAlgorithms ['md5'] without REST: the cookie announces only USERHASH", async (t) => {
  const { challenge } = challenged({ passwordAlgorithms: ['md5'], authSecrets: [] });
  t.notOk(challenge.has(AttributeType.PASSWORD_ALGORITHMS));
  t.same(parseNonceCookie(nonceOf(challenge)), {
    passwordAlgorithms: false,
    usernameAnonymity: true,
    bits: 0x400000,
  });
});

t.test("passwordAlgorithms ['sha256']: MD5 clients are refused with 400", async (t) => {
  const { f, c, challenge } = challenged({ passwordAlgorithms: ['sha256'] });
  t.same(challenge.value(AttributeType.PASSWORD_ALGORITHMS), SHA256_ONLY);
  t.equal(errorCode(send(c, allocate(c))), 400, 'no choice means MD5, which is off');
  const md5 = send(c, allocate(c, { offered: SHA256_ONLY, chosen: Algorithm.MD5 }));
  t.equal(errorCode(md5), 400, 'MD5 is not in the offer');
  const sha256 = send(c, allocate(c, { offered: SHA256_ONLY, chosen: Algorithm.SHA256 }));
  t.equal(errorCode(sha256), 0);
  t.same(f.observer.authFailures, ['md5-disabled', 'unsupported-password-algorithm']);
});

t.test("passwordAlgorithms ['md5', 'sha256'] offers MD5 first", async (t) => {
  const { c, challenge } = challenged({ passwordAlgorithms: ['md5', 'sha256'] });
  t.same(offered(challenge), [Algorithm.MD5, Algorithm.SHA256]);
  const order = challenge.value(AttributeType.PASSWORD_ALGORITHMS)!;
  t.equal(errorCode(send(c, allocate(c, { offered: BOTH, chosen: Algorithm.SHA256 }))), 400);
  const response = send(c, allocate(c, { offered: order, chosen: Algorithm.SHA256 }));
  t.equal(errorCode(response), 0, 'the offer must come back byte for byte');
});

t.test('passwordAlgorithms is validated once, naming the field', async (t) => {
  const env = { nodeVersion: 'v20.0.0', interfaces: {} };
  t.same(resolveTurnOptions({}, env).passwordAlgorithms, ['sha256', 'md5'], 'the default');
  for (const bad of [[], ['md5', 'md5'], ['sha1'], 'md5']) {
    t.throws(
      () => resolveTurnOptions({ passwordAlgorithms: bad as ('md5' | 'sha256')[] }, env),
      { name: 'TurnOptionsError', field: 'passwordAlgorithms' },
      JSON.stringify(bad),
    );
    t.throws(
      () => new CredentialStore({ realm: REALM, passwordAlgorithms: bad as 'md5'[] }),
      TypeError,
    );
  }
});
