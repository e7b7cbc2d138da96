/**
 * SfuServer's limits, each finite by default and each refusing with a JSON error that leaves
 * nothing behind: sessions in all and per room (503 + Retry-After), requests per second per
 * client address (429 + Retry-After), tracks per publisher (422 from the router), and
 * sessions whose client never completes ICE/DTLS (ended after `pendingTimeoutMs`).
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { AddressRateLimiter, addressKey } from '../../lib/sfu/request-limiter.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { startSfu } from '../helpers/sfu-fixture.js';
import { NodePeer } from '../webrtc/node-peer.js';
import { connectSession, peerOffer, postSdp, type Session, until } from './ops-peer.js';

async function refused(t: Test, res: Response, status: number, code: string) {
  t.equal(res.status, status, `status ${status}`);
  t.match(res.headers.get('content-type'), /application\/json/);
  const body = (await res.json()) as { error: string; message: string };
  t.equal(body.error, code, `error ${code}`);
  return res;
}

const publish = (ssrc: number) => peerOffer('sendonly', [{ kind: 'audio', ssrc }]);
const view = () => peerOffer('recvonly', [{ kind: 'audio' }]);

t.test('options are validated once, naming the bad one', async (t) => {
  t.throws(() => new SfuServer({ maxSessions: 0 }), /maxSessions/);
  t.throws(() => new SfuServer({ requestsPerSecond: Number.POSITIVE_INFINITY }), TypeError);
  t.throws(() => new SfuServer({ pendingTimeoutMs: -1 }), /pendingTimeoutMs/);
  t.throws(() => new SfuServer({ router: { maxRateLimitedSeconds: 0 } }), TypeError);
});

t.test('sessions per room and in all: 503 room-full / server-full, no state', async (t) => {
  const { sfu, url } = await startSfu(t, { maxSessions: 3, maxSessionsPerRoom: 2 });
  t.equal((await postSdp(`${url}/whip/a`, await publish(1))).status, 201);
  const viewer = await postSdp(`${url}/whep/a`, await view());
  t.equal(viewer.status, 201);
  const full = await refused(t, await postSdp(`${url}/whep/a`, await view()), 503, 'room-full');
  t.equal(full.headers.get('retry-after'), '5');
  t.equal(sfu.router.getRoom('a')?.participants.size, 2, 'the refused viewer did not join');
  t.equal((await postSdp(`${url}/whip/b`, await publish(2))).status, 201);
  await refused(t, await postSdp(`${url}/whip/c`, await publish(3)), 503, 'server-full');
  t.equal(sfu.router.getRoom('c'), undefined, 'no room for the refused publisher');
  t.equal(sfu.resources.size, 3);
  const sessionsBefore = sfu.media().mux.counters().sessions;
  t.equal(sessionsBefore, 3, 'one ICE session per accepted session only');
  const del = await fetch(`${url}${viewer.headers.get('location')}`, { method: 'DELETE' });
  t.equal(del.status, 200);
  t.equal((await postSdp(`${url}/whip/c`, await publish(3))).status, 201, 'room again');
  t.same(sfu.stats().http.errors, { 'room-full': 1, 'server-full': 1 });
});

t.test('requests per second per address: 429 rate-limited with Retry-After', async (t) => {
  // One token per 100 s: the refill (unit-tested below on a fake clock) cannot race the test.
  const { sfu, url } = await startSfu(t, { requestsPerSecond: 0.01, requestBurst: 3 });
  for (let i = 0; i < 3; i++) {
    t.equal((await fetch(`${url}/whip/x`, { method: 'OPTIONS' })).status, 204, `burst ${i}`);
  }
  const res = await refused(
    t,
    await postSdp(`${url}/whip/x`, await publish(1)),
    429,
    'rate-limited',
  );
  t.ok(Number(res.headers.get('retry-after')) >= 90, 'Retry-After: when the next token comes');
  t.equal(sfu.router.getRoom('x'), undefined, 'the refused offer made nothing');
  t.equal((await fetch(`${url}/metrics`)).status, 200, 'metrics are not rate limited');
  t.equal(sfu.stats().http.errors['rate-limited'], 1);
});

t.test('clientAddress: behind a proxy, each client has its own budget', async (t) => {
  const { url } = await startSfu(t, {
    requestsPerSecond: 0.01,
    requestBurst: 1,
    clientAddress: (req) => String(req.headers['x-client'] ?? 'proxy'),
  });
  const from = (who: string) =>
    fetch(`${url}/whip/y`, { method: 'OPTIONS', headers: { 'x-client': who } });
  t.equal((await from('192.0.2.1')).status, 204);
  t.equal((await from('192.0.2.1')).status, 429, 'the same client: over its budget');
  t.equal((await from('192.0.2.2')).status, 204, 'another client behind the same proxy: its own');
});

t.test('the limiter keys IPv6 by /64, refills, and bounds its table', async (t) => {
  t.equal(addressKey('192.0.2.7'), '192.0.2.7');
  t.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(addressKey('::1'), '0:0:0:0::/64');
  const l = new AddressRateLimiter(2, 2, 3);
  t.equal(l.take('2001:db8:1:2::1', 0), 0);
  t.equal(l.take('2001:db8:1:2::2', 0), 0, 'same /64: same bucket');
  t.equal(l.take('2001:db8:1:2::3', 0), 500, 'empty: wait 500 ms at 2/s');
  t.equal(l.take('2001:db8:1:2::3', 500), 0, 'refilled');
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) l.take(a, 600);
  t.equal(l.size, 3, 'at most maxAddresses buckets');
  l.sweep(600 + 1000);
  t.equal(l.size, 0, 'full buckets are forgotten');
});

t.test('tracks per publisher: the router limit refuses with 422, no state', async (t) => {
  const { sfu, url } = await startSfu(t, { router: { maxProducersPerParticipant: 2 } });
  const three = await peerOffer('sendonly', [
    { kind: 'audio', ssrc: 1 },
    { kind: 'video', ssrc: 2 },
    { kind: 'video', ssrc: 3 },
  ]);
  await refused(t, await postSdp(`${url}/whip/t`, three), 422, 'SFU_ERR_LIMIT');
  t.equal(sfu.router.getRoom('t'), undefined, 'no room left');
  t.equal(sfu.resources.size, 0);
  t.equal(sfu.media().mux.counters().sessions, 0, 'no ICE session left');
  const two = await peerOffer('sendonly', [
    { kind: 'audio', ssrc: 1 },
    { kind: 'video', ssrc: 2 },
  ]);
  t.equal((await postSdp(`${url}/whip/t`, two)).status, 201);
});

t.test('the default track limit (16) holds for a 17-section offer', async (t) => {
  const { sfu, url } = await startSfu(t);
  const sections = Array.from({ length: 17 }, (_, i) => ({ kind: 'video' as const, ssrc: i + 1 }));
  const res = await postSdp(`${url}/whip/many`, await peerOffer('sendonly', sections));
  await refused(t, res, 422, 'SFU_ERR_LIMIT');
  t.equal(sfu.router.rooms.size, 0);
});

t.test('a session whose client never does ICE/DTLS ends after pendingTimeoutMs', async (t) => {
  const { sfu, url } = await startSfu(t, { pendingTimeoutMs: 400 });
  const mux = sfu.media().mux;
  const res = await postSdp(`${url}/whip/p`, await publish(5));
  t.equal(res.status, 201);
  t.equal(sfu.resources.size, 1);
  t.equal(sfu.stats().pendingEndpoints, 1);
  t.equal(mux.counters().sessions, 1);
  t.ok(await until(() => sfu.resources.size === 0, 3000), 'the session is gone');
  t.equal(sfu.router.getRoom('p'), undefined, 'with its room');
  t.equal(mux.counters().sessions, 0, 'and its ICE session');
  t.equal(sfu.stats().pendingEndpoints, 0);
  t.equal(sfu.stats().closed['endpoint-connect-timeout'], 1);
});

t.test('ICE without DTLS also ends after pendingTimeoutMs; a full connect does not', async (t) => {
  const { sfu, url, udp } = await startSfu(t, { pendingTimeoutMs: 3000 });
  const res = await postSdp(`${url}/whip/q`, await publish(6));
  const answer = await res.text();
  const peer = await NodePeer.open(udp);
  t.teardown(() => peer.close());
  await peer.nominate({
    localUfrag: /a=ice-ufrag:(\S+)/.exec(answer)![1]!,
    localPwd: /a=ice-pwd:(\S+)/.exec(answer)![1]!,
  });
  const connected: Session = await connectSession(url, '/whip/q', udp, [
    { kind: 'audio', ssrc: 7 },
  ]);
  t.teardown(() => connected.peer.close());
  t.equal(sfu.resources.size, 2);
  t.ok(await until(() => sfu.resources.size === 1, 8000), 'the half-done session ended');
  t.ok(sfu.resources.has(connected.location.replace('/resource/', '')), 'the connected stays');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sfu.resources.size, 1, 'still there past the timeout');
});

t.test('a request trickling its body is cut off after requestTimeoutMs (408)', async (t) => {
  const { sfu, url } = await startSfu(t, { requestTimeoutMs: 400 });
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  t.teardown(() => socket.destroy());
  const reply: Buffer[] = [];
  socket.on('data', (d) => reply.push(d));
  const closed = once(socket, 'close');
  const started = performance.now();
  socket.write(
    'POST /whip/slow HTTP/1.1\r\nhost: x\r\ncontent-type: application/sdp\r\n' +
      'content-length: 1000\r\n\r\nv=0\r\n',
  );
  await closed;
  const elapsed = performance.now() - started;
  t.match(Buffer.concat(reply).toString(), /^HTTP\/1\.1 408/, '408 Request Timeout');
  t.ok(elapsed < 3000, `closed after ${Math.round(elapsed)} ms`);
  t.equal(sfu.router.getRoom('slow'), undefined);
});

t.test('HTTP connections beyond maxConnections are refused at accept', async (t) => {
  const { url } = await startSfu(t, { maxConnections: 2 });
  const { port } = new URL(url);
  const sockets = [0, 1, 2].map(() => connect(Number(port), '127.0.0.1'));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
  });
  await Promise.all(sockets.map((s) => once(s, 'connect')));
  const third = sockets[2]!;
  const ended = await Promise.race([
    once(third, 'close').then(() => true),
    new Promise((r) => setTimeout(() => r(false), 2000)),
  ]);
  t.ok(ended, 'the third connection is closed by the server');
  t.notOk(sockets[0]!.destroyed, 'the first two stay open');
});
