/**
 * JWT auth (jose): HS256 with a shared secret, RS256 and ES256 against a JWKS served by a
 * local HTTP server; `rooms` patterns; expired, badly signed and missing tokens refused with
 * close 4401 (HTTP 401), a room outside the claims with close 4403 (HTTP 403).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import t from 'tap';
import { matchRoom } from '../../lib/signal/auth.js';
import { startSignal, TestClient } from './fixture.js';

const SECRET = 'test-secret-of-reasonable-length';

function hs256(claims: Record<string, unknown>, exp: string | number = '5m', secret = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

t.test('room patterns', async (t) => {
  t.ok(matchRoom('*', 'anything'));
  t.ok(matchRoom('team-*', 'team-a'));
  t.notOk(matchRoom('team-*', 'teams'));
  t.ok(matchRoom('a.b', 'a.b'));
  t.notOk(matchRoom('a.b', 'axb'), 'a dot is literal');
  t.ok(matchRoom('*-room-*', 'x-room-y'));
});

t.test('HS256: a valid token joins its rooms only', async (t) => {
  const { server, url, http } = await startSignal({ jwtSecret: SECRET });
  t.teardown(() => server.close());
  const token = await hs256({ sub: 'alice', rooms: ['team-*'] });
  const c = await TestClient.open(url);
  t.match(await c.join('team-1', { token }), { type: 'joined', room: 'team-1' });
  c.close();

  const q = await TestClient.open(`${url}?token=${token}`);
  t.match(await q.join('team-2'), { type: 'joined' }, '?token= on the upgrade');
  q.close();

  const f = await TestClient.open(url);
  f.send({ type: 'join', room: 'other', token });
  t.match(await f.next('error'), { code: 'forbidden-room', ref: 'join' });
  t.equal(await f.closed, 4403);

  const r = await fetch(`${http}/api/v1/turn-credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  t.equal(r.status, 200);
  const ev = await fetch(`${http}/api/v1/signaling/events?room=other`, {
    headers: { authorization: `Bearer ${token}` },
  });
  t.equal(ev.status, 403);
  t.match(await ev.json(), { error: { code: 'forbidden-room' } });
});

t.test('HS256: missing, expired, forged and claimless tokens are refused', async (t) => {
  const { server, url, http } = await startSignal({ jwtSecret: SECRET });
  t.teardown(() => server.close());
  const cases: [string, string | undefined, RegExp][] = [
    ['no token', undefined, /required/],
    [
      'expired',
      await hs256({ sub: 'a', rooms: ['*'] }, Math.floor(Date.now() / 1000) - 10),
      /expired/,
    ],
    ['wrong secret', await hs256({ sub: 'a', rooms: ['*'] }, '5m', 'another-secret'), /signature/],
    ['no rooms claim', await hs256({ sub: 'a' }), /rooms/],
    ['not a JWT', 'abc.def', /invalid token/],
  ];
  for (const [name, token, message] of cases) {
    const c = await TestClient.open(url);
    c.send(token === undefined ? { type: 'join', room: 'r' } : { type: 'join', room: 'r', token });
    t.match(await c.next('error'), { code: 'unauthorized', message }, name);
    t.equal(await c.closed, 4401, `${name}: close 4401`);
    const r = await fetch(`${http}/api/v1/turn-credentials`, {
      method: 'POST',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    t.equal(r.status, 401, `${name}: HTTP 401`);
    t.match(await r.json(), { error: { code: 'unauthorized' } });
  }
  const bad = await TestClient.open(`${url}?token=abc.def`);
  t.equal(await bad.closed, 4401, 'a bad ?token= closes at once');
});

for (const alg of ['RS256', 'ES256'] as const) {
  t.test(`${alg} against a JWKS URL`, async (t) => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg };
    let fetches = 0;
    const jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    }).listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    t.teardown(() => jwks.close());
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    const { server, url } = await startSignal({ jwksUrl });
    t.teardown(() => server.close());
    const sign = (claims: Record<string, unknown>, key = privateKey) =>
      new SignJWT(claims).setProtectedHeader({ alg, kid: 'k1' }).setExpirationTime('5m').sign(key);
    const c = await TestClient.open(url);
    const joined = await c.join('r1', { token: await sign({ sub: 'bob', rooms: ['r1'] }) });
    t.match(joined, { type: 'joined', room: 'r1' });
    t.ok(fetches >= 1, 'the JWKS was fetched');
    c.close();
    const other = await generateKeyPair(alg);
    const d = await TestClient.open(url);
    d.send({ type: 'join', room: 'r1', token: await sign({ rooms: ['r1'] }, other.privateKey) });
    t.match(await d.next('error'), { code: 'unauthorized' });
    t.equal(await d.closed, 4401);
    const h = await TestClient.open(url);
    h.send({ type: 'join', room: 'r1', token: await hs256({ rooms: ['r1'] }) });
    t.match(await h.next('error'), { code: 'unauthorized' }, 'HS256 is not accepted with a JWKS');
    t.equal(await h.closed, 4401);
  });
}
