/**
 * The HTTP side: an SSE client (events + POSTs) talks with a WebSocket client; the web client's
 * files are served with their content types and nothing outside the root; /healthz, /metrics
 * and JSON errors on unknown routes and wrong methods.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { joined, startSignal } from './fixture.js';

/** Reads server-sent events from `url` as `{event, data}` as they come. */
async function sse(url: string) {
  const res = await fetch(url);
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const waiters: (() => void)[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        for (const w of waiters.splice(0)) w();
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  const next = async (event: string) => {
    for (;;) {
      const i = events.findIndex((e) => e.event === event);
      if (i >= 0) return events.splice(i, 1)[0]!.data;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${event} event`)), 3000);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { res, next, cancel: () => reader.cancel() };
}

t.test('an SSE + POST client and a WebSocket client negotiate', async (t) => {
  const { server, url, http } = await startSignal();
  t.teardown(() => server.close());
  const [ws, jw] = await joined(url, 'mixed');
  const stream = await sse(`${http}/api/v1/signaling/events?room=mixed`);
  t.equal(stream.res.headers.get('content-type'), 'text/event-stream');
  const j = await stream.next('joined');
  t.same(j.peers, [jw.peerId]);
  t.same(await ws.next('peer-joined'), { type: 'peer-joined', peerId: j.peerId });

  const post = (type: string, body: object) =>
    fetch(`${http}/api/v1/signaling/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  let r = await post('offer', { type: 'offer', sdp: 'o', session_id: j.sessionId, to: jw.peerId });
  t.equal(r.status, 200);
  t.same(await ws.next('offer'), { type: 'offer', from: j.peerId, sdp: 'o' });
  ws.send({ type: 'answer', to: j.peerId, sdp: 'a' });
  t.same(await stream.next('answer'), { type: 'answer', from: jw.peerId, sdp: 'a' });
  const candidate = { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' };
  r = await post('candidate', { candidate, session_id: j.sessionId, to: jw.peerId });
  t.same(await ws.next('candidate'), { type: 'candidate', from: j.peerId, candidate });

  r = await post('offer', { sdp: 'o', session_id: j.sessionId, to: 'p_nobody' });
  t.equal(r.status, 404);
  t.match(await r.json(), { error: { code: 'unknown-peer' } });
  r = await post('offer', { sdp: 'o', session_id: 's_nobody', to: jw.peerId });
  t.match(await r.json(), { error: { code: 'unknown-session' } });
  r = await post('offer', { session_id: j.sessionId, to: jw.peerId });
  t.equal(r.status, 400);
  t.match(await r.json(), { error: { code: 'bad-message' } });
  r = await post('answer', { type: 'offer', sdp: 'x', session_id: j.sessionId, to: jw.peerId });
  t.equal(r.status, 400, 'type must match the path');

  // Re-attaching the stream with session_id is a resume.
  await stream.cancel();
  await new Promise((r) => setTimeout(r, 100));
  ws.send({ type: 'offer', to: j.peerId, sdp: 'queued' });
  const again = await sse(`${http}/api/v1/signaling/events?session_id=${j.sessionId}`);
  t.match(await again.next('joined'), { peerId: j.peerId, resumed: true });
  t.same(await again.next('offer'), { type: 'offer', from: jw.peerId, sdp: 'queued' });

  r = await post('session-state', { session_id: j.sessionId, state: 'connected' });
  t.equal(r.status, 200);
  const record = await (await fetch(`${http}/api/v1/sessions/${j.sessionId}`)).json();
  t.match(record, { status: 'connected' }, 'an HTTP client reports its state too');
  r = await post('session-state', { session_id: j.sessionId, state: 'sideways' });
  t.equal(r.status, 400);
  r = await post('leave', { session_id: j.sessionId });
  t.equal(r.status, 200);
  t.same(await ws.next('peer-left'), { type: 'peer-left', peerId: j.peerId });
  await again.cancel();
  ws.close();
});

t.test('static files: index for / and /r/NAME, types, no traversal', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rtcd-web-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>rtcd</title>');
  writeFileSync(join(root, 'sdk.js'), 'export {};');
  writeFileSync(join(root, '.secret'), 'no');
  const { server, http } = await startSignal({ webRoot: root });
  t.teardown(() => server.close());
  for (const path of ['/', '/?room=abc', '/r/abc', '/index.html']) {
    const r = await fetch(`${http}${path}`);
    t.equal(r.status, 200, path);
    t.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', path);
    t.match(await r.text(), /<title>rtcd/);
  }
  const js = await fetch(`${http}/sdk.js`);
  t.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const port = server.address!.port;
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/.secret', '/%00', '/nope.js']) {
    // fetch would normalize the dots away: send the raw path.
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    t.equal(status, 404, path);
  }
  const post = await fetch(`${http}/index.html`, { method: 'POST' });
  t.equal(post.status, 404);
});

t.test('healthz, metrics, unknown routes and methods', async (t) => {
  const { server, http, url } = await startSignal();
  t.teardown(() => server.close());
  const [c] = await joined(url, 'm');
  const h = await fetch(`${http}/healthz`);
  t.same(await h.json(), { status: 'ok', store: 'memory' });
  const m = await (await fetch(`${http}/metrics`)).text();
  t.match(m, /rtcd_signal_connections 1/);
  t.match(m, /rtcd_signal_rooms 1/);
  t.match(m, /rtcd_signal_peers 1/);
  const nf = await fetch(`${http}/api/v1/nope`);
  t.equal(nf.status, 404);
  t.match(await nf.json(), { error: { code: 'not-found' } });
  const wrong = await fetch(`${http}/api/v1/turn-credentials`);
  t.equal(wrong.status, 405);
  t.match(await wrong.json(), { error: { code: 'method-not-allowed' } });
  t.equal((await fetch(`${http}/`)).status, 404, 'no web root, no page');
  const big = await fetch(`${http}/api/v1/signaling/offer`, {
    method: 'POST',
    body: 'x'.repeat(70000),
  });
  t.equal(big.status, 413);
  c.close();
});
