/**
 * `SfuWorkerFront` over two real `SfuServer`s in this process (what `rtcd sfu --workers 2`
 * runs in three): WHIP/WHEP of a room reach the worker that holds it (its UDP port in the
 * answer), new rooms spread, DELETE follows the resource, and a room whose sessions all ended
 * on its worker (DELETE or a pending timeout, reported through `onSessionEnded`) is forgotten.
 * The limits that must see client addresses or all workers apply at the front (429, 503
 * `server-full`); a worker that is gone is a 503; errors keep SfuServer's JSON body; /metrics
 * sums the workers, /healthz follows them.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { SfuServerOptions } from '../../lib/sfu/options.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { SfuWorkerFront, type SfuWorkerFrontOptions } from '../../lib/sfu/worker-front.js';
import { cliOffer as offer, postSdp as post } from '../helpers/cli-sfu.js';

interface Stack {
  front: SfuWorkerFront;
  url: string;
  workers: SfuServer[];
  /** Each worker's own HTTP base URL (the internal listener the front proxies to). */
  direct: string[];
}

/** A front and two workers wired as the CLI wires them; all closed in `t`'s teardown. */
async function stack(
  t: Test,
  o: { front?: SfuWorkerFrontOptions; worker?: SfuServerOptions } = {},
): Promise<Stack> {
  const workers: SfuServer[] = [];
  const direct: string[] = [];
  const front = new SfuWorkerFront({
    ...o.front,
    workerMetrics: () => Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())),
  });
  const { url } = await front.listen();
  for (const slot of [0, 1]) {
    const w = new SfuServer({
      requestsPerSecond: 1e6,
      requestBurst: 1e6,
      ...o.worker,
      onSessionEnded: (resource) => front.sessionEnded(slot, resource),
    });
    w.router.on('room', (room) => {
      front.roomOpened(slot, room.id);
      room.on('close', () => front.roomOpened(slot, room.id, false));
    });
    const { port, url: own } = await w.listen();
    front.setWorker(slot, port);
    workers.push(w);
    direct.push(own);
  }
  t.teardown(async () => {
    await front.close();
    await Promise.all(workers.map((w) => w.close()));
  });
  return { front, url, workers, direct };
}

const candidatePort = (sdp: string) =>
  Number(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(sdp)?.[1]);

let n = 0;
const ufrag = () => `u${String(++n).padStart(3, '0')}`;

t.test('rooms spread over workers, follow them, and are forgotten when empty', async (t) => {
  const { front, url, workers } = await stack(t);
  const udp = workers.map((w) => w.udpAddress?.port);
  const a = await post(`${url}/whip/a`, offer('sendonly', ufrag()));
  t.equal(a.status, 201);
  const aLocation = a.headers.get('location') ?? '';
  t.match(aLocation, /^\/resource\/[0-9a-f-]{36}$/, 'the Location is the worker’s, unchanged');
  t.equal(a.headers.get('access-control-expose-headers'), 'location', 'CORS headers pass');
  t.equal(candidatePort(await a.text()), udp[0], 'room a is on worker 0');
  const b = await post(`${url}/whip/b`, offer('sendonly', ufrag()));
  t.equal(candidatePort(await b.text()), udp[1], 'room b, new, goes to the emptier worker 1');
  const view = await post(`${url}/whep/a`, offer('recvonly', ufrag()));
  t.equal(view.status, 201, 'WHEP of a finds its publisher');
  t.equal(candidatePort(await view.text()), udp[0], 'on worker 0');
  t.equal(workers[0]!.resources.size, 2);
  t.equal(workers[1]!.resources.size, 1);
  t.equal(front.placement.sessions, 3);

  // DELETE goes to the resource's worker; the room stays while it has a session.
  t.equal((await fetch(`${url}${aLocation}`, { method: 'DELETE' })).status, 200);
  t.equal(workers[0]!.resources.size, 1);
  t.equal(front.placement.slotOfRoom('a'), 0, 'a still has its viewer');
  const again = await fetch(`${url}${aLocation}`, { method: 'DELETE' });
  t.equal(again.status, 404);
  t.same(await again.json(), { error: 'no-such-resource', message: 'unknown resource' });
  const viewLocation = view.headers.get('location') ?? '';
  t.equal((await fetch(`${url}${viewLocation}`, { method: 'DELETE' })).status, 200);
  t.equal(front.placement.slotOfRoom('a'), undefined, 'a has no session left: forgotten');
  t.equal(workers[0]!.router.getRoom('a'), undefined, 'and closed on its worker');
  t.same(front.placement.loadOf(0), { sessions: 0, pending: 0 });

  // Worker 0 is emptier now: the next new room goes there.
  const c = await post(`${url}/whip/c`, offer('sendonly', ufrag()));
  t.equal(candidatePort(await c.text()), udp[0], 'room c goes to worker 0');
});

t.test('a session that ends on its worker (pending timeout) frees its room', async (t) => {
  const { front, url, workers } = await stack(t, { worker: { pendingTimeoutMs: 1500 } });
  const a = await post(`${url}/whip/lonely`, offer('sendonly', ufrag()));
  t.equal(a.status, 201);
  await a.text();
  t.equal(front.placement.slotOfRoom('lonely'), 0);
  for (let i = 0; i < 200 && front.placement.slotOfRoom('lonely') !== undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(workers[0]!.resources.size, 0, 'the worker ended the session that never connected');
  t.equal(front.placement.slotOfRoom('lonely'), undefined, 'the front forgot the room');
  t.equal(front.placement.sessions, 0);
});

t.test('per-address requests and total sessions are limited at the front', async (t) => {
  const { url, workers } = await stack(t, {
    front: {
      requestsPerSecond: 0.01,
      requestBurst: 3,
      maxSessions: 2,
      // A proxy in front of the front: the address it appends (the workers never see it).
      clientAddress: (req) => String(req.headers['x-client'] ?? ''),
    },
  });
  const from = (client: string, path: string, direction: 'sendonly' | 'recvonly') =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', 'x-client': client },
      body: offer(direction, ufrag()),
    });
  t.equal((await from('192.0.2.1', '/whip/one', 'sendonly')).status, 201);
  t.equal((await from('192.0.2.1', '/whip/two', 'sendonly')).status, 201);
  t.equal(workers[0]!.resources.size + workers[1]!.resources.size, 2, 'one session each');
  const full = await from('192.0.2.1', '/whip/three', 'sendonly');
  t.equal(full.status, 503, 'the third session of the server is refused');
  t.equal(full.headers.get('retry-after'), '5');
  t.same(await full.json(), { error: 'server-full', message: '2 sessions held' });
  const limited = await from('192.0.2.1', '/whip/one', 'sendonly');
  t.equal(limited.status, 429, 'the address used its burst');
  t.ok(Number(limited.headers.get('retry-after')) >= 1, 'with Retry-After');
  t.equal(limited.headers.get('access-control-allow-origin'), '*');
  t.same(await limited.json(), {
    error: 'rate-limited',
    message: 'too many requests from this address',
  });
  const other = await from('198.51.100.7', '/whep/one', 'recvonly');
  t.equal(other.status, 503, 'another address is not rate-limited (the total still counts)');
  await other.body?.cancel();
});

t.test('bad input gets the same answer as from one SfuServer', async (t) => {
  const { url, direct } = await stack(t);
  const directUrl = direct[1]!;
  const cases: [string, RequestInit][] = [
    ['/whip/a', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
    ['/whip/a', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'x' }],
    ['/whip/a', { method: 'PUT' }],
    ['/whep/a?layer=9', { method: 'POST', headers: { 'content-type': 'application/sdp' } }],
    ['/whip/bad%20room', { method: 'POST', headers: { 'content-type': 'application/sdp' } }],
    ['/elsewhere', { method: 'GET' }],
    [
      '/whip/a',
      {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: 'v=0\r\n'.repeat(20_000),
      },
    ],
  ];
  for (const [path, init] of cases) {
    const [viaFront, one] = await Promise.all([
      fetch(`${url}${path}`, init),
      fetch(`${directUrl}${path}`, init),
    ]);
    const what = `${init.method} ${path}`;
    t.equal(viaFront.status, one.status, `${what}: ${one.status}`);
    t.ok(viaFront.status >= 400 && viaFront.status < 500, `${what}: a 4xx`);
    t.same(await viaFront.json(), await one.json(), `${what}: the same JSON body`);
  }
  const options = await fetch(`${url}/whip/a`, { method: 'OPTIONS' });
  t.equal(options.status, 204, 'a CORS preflight is answered');
  t.equal(options.headers.get('access-control-allow-methods'), 'POST, DELETE, OPTIONS');
});

t.test('/metrics sums the workers; /healthz and 503 follow the workers', async (t) => {
  const { front, url, workers } = await stack(t);
  await (await post(`${url}/whip/a`, offer('sendonly', ufrag()))).text();
  await (await post(`${url}/whip/b`, offer('sendonly', ufrag()))).text();
  await (await post(`${url}/whep/nobody`, offer('recvonly', ufrag()))).text();
  const text = await (await fetch(`${url}/metrics`)).text();
  t.match(text, /^rtcd_sfu_workers 2$/m, 'workers up');
  t.match(text, /^rtcd_sfu_sessions 2$/m, 'one session on each worker, summed');
  t.match(text, /^rtcd_sfu_rooms 2$/m);
  t.match(text, /^rtcd_sfu_http_errors_total\{code="no-such-room"\} 1$/m, 'a worker’s error');
  t.same(await (await fetch(`${url}/healthz`)).json(), { status: 'ok', workers: 2 });

  // Worker 1 goes without the front being told yet: its room's requests are 503.
  await workers[1]!.close();
  const gone = await post(`${url}/whep/b`, offer('recvonly', ufrag()));
  t.equal(gone.status, 503, 'a worker that went away');
  t.same(await gone.json(), { error: 'worker-unavailable', message: 'the SFU worker went away' });
  front.setWorker(1, undefined);
  t.equal(front.placement.slotOfRoom('b'), undefined, 'its rooms are forgotten');
  const moved = await post(`${url}/whip/b`, offer('sendonly', ufrag()));
  t.equal(moved.status, 201, 'b starts again on the live worker');
  t.equal(candidatePort(await moved.text()), workers[0]!.udpAddress?.port);
  front.setWorker(0, undefined);
  const none = await post(`${url}/whip/z`, offer('sendonly', ufrag()));
  t.equal(none.status, 503, 'no worker up');
  t.equal(none.headers.get('retry-after'), '1');
  t.same(await none.json(), {
    error: 'worker-unavailable',
    message: 'no SFU worker is up for this request',
  });
  const health = await fetch(`${url}/healthz`);
  t.equal(health.status, 503);
  t.same(await health.json(), { status: 'down', workers: 0 });
  const down = await (await fetch(`${url}/metrics`)).text();
  t.match(down, /^rtcd_sfu_workers 0$/m);
  t.match(down, /^rtcd_sfu_worker_restarts_total 0$/m, 'none came back yet');
  front.setWorker(1, 1); // a replacement on slot 1 (port 1: nothing listens)
  t.match(await (await fetch(`${url}/metrics`)).text(), /^rtcd_sfu_worker_restarts_total 1$/m);
  front.setWorker(1, undefined);
  front.drain();
  t.same(await (await fetch(`${url}/healthz`)).json(), { status: 'draining', workers: 0 });
});

t.test('WHIP of a room a worker already holds (a linked room) goes to that worker', async (t) => {
  const { url, workers } = await stack(t);
  await (await post(`${url}/whip/first`, offer('sendonly', ufrag()))).text(); // worker 0
  const linked = workers[0]!.router.createRoom('shared'); // as SfuRoomService would
  const res = await post(`${url}/whip/shared`, offer('sendonly', ufrag()));
  t.equal(res.status, 201);
  t.equal(candidatePort(await res.text()), workers[0]!.udpAddress?.port, 'joined it on worker 0');
  t.equal(linked.participants.size, 1, 'the WHIP publisher is in the worker’s room');
  const other = await post(`${url}/whip/elsewhere`, offer('sendonly', ufrag()));
  t.equal(candidatePort(await other.text()), workers[1]!.udpAddress?.port, 'new rooms: worker 1');
});

t.test(
  'a worker that never answers gets a 503 after workerTimeoutMs, not a hung request',
  async (t) => {
    const hung = createServer((req) => req.resume()); // reads the request, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      hung.closeAllConnections();
      hung.close();
    });
    const front = new SfuWorkerFront({ workerTimeoutMs: 300 });
    const { url } = await front.listen();
    t.teardown(() => front.close());
    front.setWorker(0, (hung.address() as AddressInfo).port);
    const started = performance.now();
    const r = await post(`${url}/whip/hang`, offer('sendonly', ufrag()));
    const waited = performance.now() - started;
    t.equal(r.status, 503);
    t.same(await r.json(), { error: 'worker-unavailable', message: 'the SFU worker went away' });
    t.ok(waited >= 250 && waited < 5000, `answered after the timeout (${waited.toFixed(0)} ms)`);
    t.equal(front.placement.slotOfRoom('hang'), undefined, 'the room is not held by the request');
    t.throws(() => new SfuWorkerFront({ workerTimeoutMs: 0 }), TypeError);
  },
);
