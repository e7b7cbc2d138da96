/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): bound to address, port and hello;
 * accepted in the current and previous rotation period only; servers sharing a secret agree.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { COOKIE_LENGTH, CookieJar } from '../../lib/dtls/cookie.js';

const hello = randomBytes(120);

t.test('a minted cookie verifies for the same address, port and hello only', (t) => {
  const jar = new CookieJar({ rotateMs: 1000 });
  const now = 5_000_500;
  const c = jar.mint('192.0.2.1', 5000, hello, now);
  t.equal(c.length, COOKIE_LENGTH);
  t.ok(jar.verify('192.0.2.1', 5000, hello, c, now));
  t.notOk(jar.verify('192.0.2.2', 5000, hello, c, now), 'other address');
  t.notOk(jar.verify('192.0.2.1', 5001, hello, c, now), 'other port');
  const other = Buffer.from(hello);
  other[3] = other[3]! ^ 1;
  t.notOk(jar.verify('192.0.2.1', 5000, other, c, now), 'other hello');
  const bad = Buffer.from(c);
  bad[0] = bad[0]! ^ 0x80;
  t.notOk(jar.verify('192.0.2.1', 5000, hello, bad, now), 'altered cookie');
  t.notOk(jar.verify('192.0.2.1', 5000, hello, c.subarray(1), now), 'short cookie');
  t.notOk(jar.verify('192.0.2.1', 5000, hello, Buffer.alloc(0), now), 'empty cookie');
  t.notOk(jar.verify('192.0.2.1', 5000, hello, Buffer.alloc(255), now), 'long cookie');
  const v6 = jar.mint('2001:db8::1', 5000, hello, now);
  t.ok(jar.verify('2001:db8::1', 5000, hello, v6, now));
  t.notSame(v6, c);
  t.end();
});

t.test('rotation: valid through the next period, refused after', (t) => {
  const jar = new CookieJar({ rotateMs: 1000 });
  const c = jar.mint('10.0.0.1', 1, hello, 10_999);
  t.ok(jar.verify('10.0.0.1', 1, hello, c, 10_999));
  t.ok(jar.verify('10.0.0.1', 1, hello, c, 11_000), 'next period');
  t.ok(jar.verify('10.0.0.1', 1, hello, c, 11_999));
  t.notOk(jar.verify('10.0.0.1', 1, hello, c, 12_000), 'two periods later');
  t.notOk(jar.verify('10.0.0.1', 1, hello, c, 9_999), 'a cookie from the future');
  t.notSame(jar.mint('10.0.0.1', 1, hello, 12_000), c, 'new period, new cookie');
  t.end();
});

t.test('jars sharing a secret agree; different secrets do not', (t) => {
  const secret = randomBytes(32);
  const a = new CookieJar({ secret, rotateMs: 60_000 });
  const b = new CookieJar({ secret, rotateMs: 60_000 });
  const c = new CookieJar();
  const now = Date.now();
  const cookie = a.mint('203.0.113.9', 443, hello, now);
  t.ok(b.verify('203.0.113.9', 443, hello, cookie, now));
  t.notOk(c.verify('203.0.113.9', 443, hello, cookie, now));
  t.end();
});

t.test('misuse throws TypeError', (t) => {
  t.throws(() => new CookieJar({ secret: Buffer.alloc(8) }), TypeError);
  t.throws(() => new CookieJar({ rotateMs: 0 }), TypeError);
  t.throws(() => new CookieJar({ rotateMs: 1.5 }), TypeError);
  t.throws(() => new CookieJar().mint('1.2.3.4', 1, hello, Number.NaN), TypeError);
  t.end();
});
