import t from 'tap';
import { NonceIssuer, nonceCookie, parseNonceCookie } from '../../lib/turn/nonce.js';

const SECRET = Buffer.alloc(32, 7);
const T0 = 1_700_000_000_000;
const CLIENT = 'udp/203.0.113.5:4000';

// RFC 3261 qdtext/quoted-pair, which RFC 8489 §14.10 requires of NONCE: no quote, no backslash.
const NONCE_TEXT = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

t.test('a nonce is ok until its lifetime runs out, then stale', async (t) => {
  const issuer = new NonceIssuer({ lifetimeMs: 600_000, secret: SECRET });
  const nonce = issuer.issue(CLIENT, T0);
  t.match(nonce, NONCE_TEXT, 'printable ASCII without quotes');
  t.ok(nonce.length < 128, 'under the 128-character limit of RFC 8489 §14.10');
  t.equal(issuer.check(nonce, CLIENT, T0), 'ok', 'at issue');
  t.equal(issuer.check(nonce, CLIENT, T0 + 599_999), 'ok', '1 ms before the end');
  t.equal(issuer.check(nonce, CLIENT, T0 + 600_000), 'stale', 'at the end');
  t.equal(issuer.check(nonce, CLIENT, T0 + 86_400_000), 'stale', 'a day later');
  t.equal(issuer.check(nonce, CLIENT, T0 - 60_000), 'ok', 'when the clock went back');
});

t.test('a nonce is bound to the client it was issued to', async (t) => {
  const issuer = new NonceIssuer({ lifetimeMs: 600_000, secret: SECRET });
  const nonce = issuer.issue(CLIENT, T0);
  t.equal(issuer.check(nonce, 'udp/203.0.113.5:4001', T0), 'invalid', 'another port');
  t.equal(issuer.check(nonce, 'tcp/203.0.113.5:4000', T0), 'invalid', 'another transport');
  t.equal(issuer.check(nonce, '', T0), 'invalid', 'no client');
  t.equal(
    issuer.check(nonce, 'udp/203.0.113.5:4001', T0 + 700_000),
    'invalid',
    'another client sees invalid, not stale, even after expiry',
  );
});

t.test('nonces are shared by issuers with one secret, not across secrets', async (t) => {
  const a = new NonceIssuer({ lifetimeMs: 1000, secret: SECRET });
  const b = new NonceIssuer({ lifetimeMs: 5000, secret: Buffer.from(SECRET) });
  const c = new NonceIssuer({ lifetimeMs: 1000, secret: Buffer.alloc(32, 8) });
  const nonce = a.issue(CLIENT, T0);
  t.equal(b.check(nonce, CLIENT, T0 + 999), 'ok', 'the expiry travels in the nonce');
  t.equal(b.check(nonce, CLIENT, T0 + 1000), 'stale');
  t.equal(c.check(nonce, CLIENT, T0), 'invalid');
  const random1 = new NonceIssuer({ lifetimeMs: 1000 });
  const random2 = new NonceIssuer({ lifetimeMs: 1000 });
  t.equal(random2.check(random1.issue(CLIENT, T0), CLIENT, T0), 'invalid', 'random secrets');
  t.equal(random1.check(random1.issue(CLIENT, T0), CLIENT, T0), 'ok');
});

t.test('a tampered or malformed nonce is invalid', async (t) => {
  const issuer = new NonceIssuer({ lifetimeMs: 600_000, secret: SECRET });
  const nonce = issuer.issue(CLIENT, T0);
  const flip = (s: string, i: number) => {
    const c = s[i] === 'A' ? 'B' : 'A';
    return s.slice(0, i) + c + s.slice(i + 1);
  };
  // Every single-character change, including those in the expiry and in the MAC.
  const changed: string[] = [];
  for (let i = 0; i < nonce.length; i++) {
    if (issuer.check(flip(nonce, i), CLIENT, T0) !== 'invalid') changed.push(`char ${i}`);
  }
  t.same(changed, [], 'no single-character change is accepted');
  // A nonce whose expiry was pushed into the future by a client.
  const body = Buffer.from(nonce, 'base64url');
  body.writeUIntBE(T0 + 10 * 600_000, 0, 6);
  t.equal(issuer.check(body.toString('base64url'), CLIENT, T0), 'invalid', 'extended expiry');
  const malformed = [
    '',
    'x',
    nonce.slice(0, -1),
    `${nonce}A`,
    `${nonce.slice(0, -1)}=`,
    `"${nonce.slice(1)}`,
    nonce.replace(/./, '+'),
    `obMatJos2AAAA${nonce}`,
  ];
  for (const bad of malformed) t.equal(issuer.check(bad, CLIENT, T0), 'invalid', bad);
});

t.test('the last character has one spelling', async (t) => {
  const issuer = new NonceIssuer({ lifetimeMs: 600_000, secret: SECRET });
  const nonce = issuer.issue(CLIENT, T0);
  // 22 bytes use 4 of the 6 bits of the 30th character; the other spellings decode alike.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(nonce.at(-1)!);
  const twin = nonce.slice(0, -1) + alphabet[last ^ 1];
  t.same(Buffer.from(twin, 'base64url'), Buffer.from(nonce, 'base64url'), 'decodes alike');
  t.equal(issuer.check(twin, CLIENT, T0), 'invalid');
});

t.test('the RFC 8489 §9.2 nonce cookie announces security features', async (t) => {
  const issuer = new NonceIssuer({
    lifetimeMs: 600_000,
    secret: SECRET,
    securityFeatures: { passwordAlgorithms: true },
  });
  const nonce = issuer.issue(CLIENT, T0);
  t.ok(nonce.startsWith('obMatJos2gAAA'), 'bit 0 is the most significant bit: 0x800000');
  t.equal(issuer.cookie, 'obMatJos2gAAA');
  t.same(parseNonceCookie(nonce), {
    passwordAlgorithms: true,
    usernameAnonymity: false,
    bits: 0x800000,
  });
  t.equal(issuer.check(nonce, CLIENT, T0), 'ok');
  t.equal(issuer.check(nonce, CLIENT, T0 + 600_000), 'stale');
  // Bid-down protection (RFC 8489 §9.2.1): the cookie is under the MAC.
  const downgraded = `obMatJos2AAAA${nonce.slice(13)}`;
  const plain = new NonceIssuer({ lifetimeMs: 600_000, secret: SECRET });
  t.equal(issuer.check(downgraded, CLIENT, T0), 'invalid', 'features changed');
  t.equal(plain.check(nonce.slice(13), CLIENT, T0), 'invalid', 'cookie removed');
  t.equal(plain.check(nonce, CLIENT, T0), 'invalid', 'a cookie the issuer does not use');
});

t.test('nonceCookie and parseNonceCookie agree on every feature combination', async (t) => {
  const cases: [passwordAlgorithms: boolean, usernameAnonymity: boolean, cookie: string][] = [
    [false, false, 'obMatJos2AAAA'],
    [true, false, 'obMatJos2gAAA'],
    [false, true, 'obMatJos2QAAA'],
    [true, true, 'obMatJos2wAAA'],
  ];
  for (const [passwordAlgorithms, usernameAnonymity, cookie] of cases) {
    t.equal(nonceCookie({ passwordAlgorithms, usernameAnonymity }), cookie);
    t.same(parseNonceCookie(`${cookie}rest-of-nonce`), {
      passwordAlgorithms,
      usernameAnonymity,
      bits: (passwordAlgorithms ? 0x800000 : 0) | (usernameAnonymity ? 0x400000 : 0),
    });
  }
  t.equal(parseNonceCookie('obMatJos2//8A')?.bits, 0xffff00, 'unassigned bits are kept');
});

t.test('parseNonceCookie returns undefined without a well-formed cookie', async (t) => {
  for (const nonce of ['', 'abcdef', 'obMatJos', 'obMatJos2', 'obMatJos2AA', 'obMatJos2A_A-x']) {
    t.equal(parseNonceCookie(nonce), undefined, JSON.stringify(nonce));
  }
});

t.test('bad options throw a TypeError', async (t) => {
  t.throws(() => new NonceIssuer({ lifetimeMs: 0 }), TypeError);
  t.throws(() => new NonceIssuer({ lifetimeMs: 1.5 }), TypeError);
  t.throws(() => new NonceIssuer({ lifetimeMs: Number.NaN }), TypeError);
  t.throws(() => new NonceIssuer({ lifetimeMs: 1000, secret: Buffer.alloc(15) }), TypeError);
  const issuer = new NonceIssuer({ lifetimeMs: 1000 });
  t.throws(() => issuer.issue(CLIENT, Number.NaN), TypeError);
});
