import { createHash, createHmac } from 'node:crypto';
import t from 'tap';
import { CredentialStore, parseUsersFile, restPassword } from '../../lib/turn/credentials.js';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmacSha1Base64 = (secret: string, s: string) =>
  createHmac('sha1', secret).update(s, 'utf8').digest('base64');

// Vectors made with tools nobody here wrote:
//   echo -n 1433895918:ninefingers | openssl dgst -binary -sha1 -hmac north | openssl base64
//   turnadmin -k -u 1433895918:ninefingers -r north.gov -p jy8hTxmOO7UtEKXqSkSlvakPVYA=
//   turnadmin -k -u gorst -r north.gov -p hero                       (coturn 4.x)
const REST_USERNAME = '1433895918:ninefingers';
const REST_EXPIRY_MS = 1433895918 * 1000;
const REST_PASSWORD = 'jy8hTxmOO7UtEKXqSkSlvakPVYA=';
const REST_KEY = '67b2edb51afa92c67541589c2b5cf1db';
const STATIC_KEY = '7da2270ccfa49786e0115366d3a3d14d';

t.test('restPassword is base64(HMAC-SHA1(secret, username))', async (t) => {
  t.equal(restPassword('north', REST_USERNAME), REST_PASSWORD, 'openssl vector');
  for (const [secret, username] of [
    ['s3cr3t', '1700000000:alice'],
    ['ünïcødé secret', '1700000000:bøb:room/7'],
    ['x', '42'],
  ]) {
    t.equal(restPassword(secret, username), hmacSha1Base64(secret, username), username);
  }
});

t.test('a REST username yields MD5(username:realm:password), as coturn computes it', async (t) => {
  const store = new CredentialStore({ realm: 'north.gov', authSecrets: ['north'] });
  const found = store.lookup(REST_USERNAME, REST_EXPIRY_MS - 1000);
  t.ok(found.ok);
  if (!found.ok) return;
  t.equal(found.key.toString('hex'), REST_KEY, 'coturn turnadmin -k vector');
  t.equal(found.key.toString('hex'), md5(`${REST_USERNAME}:north.gov:${REST_PASSWORD}`));
  t.same(found.keys, [found.key]);
  t.equal(found.user, 'ninefingers', 'the userid is the quota identity');
  t.equal(found.source, 'rest');
  t.equal(found.expiresAtMs, REST_EXPIRY_MS);
});

t.test('a REST username expires at the second it names', async (t) => {
  const store = new CredentialStore({ realm: 'north.gov', authSecrets: ['north'] });
  t.equal(store.lookup(REST_USERNAME, REST_EXPIRY_MS - 1).ok, true, 'valid 1 ms before');
  t.same(store.lookup(REST_USERNAME, REST_EXPIRY_MS), { ok: false, reason: 'expired' });
  t.same(store.lookup(REST_USERNAME, REST_EXPIRY_MS + 86_400_000), {
    ok: false,
    reason: 'expired',
  });
});

t.test('REST usernames: bare expiry, colons in the userid, far-future expiry', async (t) => {
  const store = new CredentialStore({ realm: 'r', authSecrets: ['s'] });
  const now = 1_700_000_000_000;
  const cases: [username: string, user: string][] = [
    ['1700000600', '1700000600'], // bare expiry, as coturn accepts: the username is the identity
    ['1700000600:alice:room:7', 'alice:room:7'], // split at the first colon only
    ['99999999999:forever', 'forever'], // year 5138: accepted, like coturn
    ['1700000600000:ms-by-mistake', 'ms-by-mistake'], // milliseconds: accepted as far future
  ];
  for (const [username, user] of cases) {
    const found = store.lookup(username, now);
    t.same(found.ok && [found.user, found.key.toString('hex')], [
      user,
      md5(`${username}:r:${hmacSha1Base64('s', username)}`),
    ]);
  }
});

t.test('with two secrets, lookup offers one key per secret, in order', async (t) => {
  const store = new CredentialStore({ realm: 'r', authSecrets: ['new-secret', 'old-secret'] });
  const username = '2000000000:carol';
  const found = store.lookup(username, 1_900_000_000_000);
  t.ok(found.ok);
  if (!found.ok) return;
  const minted = (secret: string) => md5(`${username}:r:${hmacSha1Base64(secret, username)}`);
  t.same(
    found.keys.map((k) => k.toString('hex')),
    [minted('new-secret'), minted('old-secret')],
  );
  t.equal(found.key, found.keys[0]);
  store.setAuthSecrets(['old-secret']);
  const after = store.lookup(username, 1_900_000_000_000);
  t.same(after.ok && after.keys.map((k) => k.toString('hex')), [minted('old-secret')]);
});

t.test('static users: key = MD5(user:realm:pass), and they win over REST', async (t) => {
  const store = new CredentialStore({
    realm: 'north.gov',
    users: { gorst: 'hero', '2000000000:mallory': 'static-pass' },
    authSecrets: ['north'],
  });
  const found = store.lookup('gorst', 0);
  t.same(found.ok && [found.key.toString('hex'), found.user, found.source], [
    STATIC_KEY,
    'gorst',
    'static',
  ]);
  const both = store.lookup('2000000000:mallory', 0);
  t.same(both.ok && [both.key.toString('hex'), both.source], [
    md5('2000000000:mallory:north.gov:static-pass'),
    'static',
  ]);
  t.equal(store.lookup('gorst', 0), store.lookup('gorst', 1), 'static results are reused');
});

t.test('the SHA-256 password algorithm (RFC 8489 §18.5.1.2)', async (t) => {
  const store = new CredentialStore({ realm: 'r', users: { u: 'p' }, authSecrets: ['s'] });
  const found = store.lookup('u', 0, 'sha256');
  t.equal(found.ok && found.key.toString('hex'), sha256('u:r:p'));
  const rest = store.lookup('2000000000:x', 0, 'sha256');
  t.equal(
    rest.ok && rest.key.toString('hex'),
    sha256(`2000000000:x:r:${hmacSha1Base64('s', '2000000000:x')}`),
  );
});

t.test('lookup failures carry a reason', async (t) => {
  const rest = new CredentialStore({ realm: 'r', users: { alice: 'a' }, authSecrets: ['s'] });
  const plain = new CredentialStore({ realm: 'r', users: { alice: 'a' } });
  const cases: [store: CredentialStore, username: string, reason: string][] = [
    [plain, 'bob', 'unknown-user'],
    [plain, '2000000000:bob', 'unknown-user'], // REST is off without secrets
    [plain, '', 'malformed-username'],
    [rest, '', 'malformed-username'],
    [rest, 'bob', 'malformed-username'],
    [rest, 'bob:2000000000', 'malformed-username'], // coturn's reversed form is not accepted
    [rest, '2000000000:', 'malformed-username'],
    [rest, ':bob', 'malformed-username'],
    [rest, '-5:bob', 'malformed-username'],
    [rest, '1e10:bob', 'malformed-username'],
    [rest, '1234567890123456:bob', 'malformed-username'], // beyond a safe integer
    [rest, `2000000000:${'x'.repeat(600)}`, 'malformed-username'], // RFC 8489 §14.3 limit
  ];
  for (const [store, username, reason] of cases) {
    t.same(
      store.lookup(username, 0),
      { ok: false, reason },
      `${username.slice(0, 30)} → ${reason}`,
    );
  }
  t.equal(rest.restEnabled, true);
  t.equal(plain.restEnabled, false);
});

t.test('setUsers replaces the static users', async (t) => {
  const store = new CredentialStore({ realm: 'r', users: { a: '1' } });
  store.setUsers({ b: '2' });
  t.equal(store.lookup('a', 0).ok, false);
  t.equal(store.lookup('b', 0).ok, true);
  t.throws(() => store.setUsers({ '': 'x' }), TypeError);
  t.equal(store.lookup('b', 0).ok, true, 'a rejected reload keeps the old users');
});

t.test('usernameForHash finds a static user by USERHASH (RFC 8489 §14.4)', async (t) => {
  const store = new CredentialStore({ realm: 'example.org', users: { alice: 'x', bob: 'y' } });
  const hash = createHash('sha256').update('bob:example.org').digest();
  t.equal(store.usernameForHash(hash), 'bob');
  t.equal(store.usernameForHash(Buffer.alloc(32)), undefined);
  store.setUsers({ carol: 'z' });
  t.equal(store.usernameForHash(hash), undefined, 'forgotten after setUsers');
});

t.test('bad options throw a TypeError', async (t) => {
  t.throws(() => new CredentialStore({ realm: '' }), TypeError);
  t.throws(() => new CredentialStore({ realm: 'r', authSecrets: [''] }), TypeError);
});

t.test('parseUsersFile reads name:password lines', async (t) => {
  const text = [
    '# rtcd users',
    '',
    'alice:wonderland',
    '  bob : has:colons:in:it  ',
    '\t# indented comment',
    'carol:p#ss # not a comment',
    'alice:second-wins',
    'dave:pass\r',
    '',
  ].join('\n');
  t.same(parseUsersFile(text), {
    alice: 'second-wins',
    bob: 'has:colons:in:it',
    carol: 'p#ss # not a comment',
    dave: 'pass',
  });
  t.same(parseUsersFile(''), {});
  const proto = parseUsersFile('__proto__:x');
  t.same(Object.entries(proto), [['__proto__', 'x']], '__proto__ is an ordinary name');
});

t.test('parseUsersFile names the bad line', async (t) => {
  t.throws(() => parseUsersFile('ok:1\nno-colon\n'), { message: /line 2/ });
  t.throws(() => parseUsersFile(':password'), { message: /line 1/ });
  t.throws(() => parseUsersFile('# c\n\nname:'), { message: /line 3/ });
});
