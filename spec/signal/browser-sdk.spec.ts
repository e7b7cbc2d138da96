/**
 * The browser SDK (`/sdk.js`) driven directly in Chromium against a real SignalServer:
 * perfect negotiation through an offer collision, join refusals with the server's error codes,
 * and a resume that the server no longer honours (a fresh join with a new peer id, after which
 * the call is re-established).
 */
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import t from 'tap';
import {
  BROWSER_TOOLS,
  closeChromium,
  openSdkPage,
  sharedChromium,
  startSignal,
} from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

t.teardown(async () => {
  await closeChromium();
});

/** Page-side helpers: a joined client as `window.call`, remote tracks in `window.tracks`. */
const JOIN = `window.joinRoom = async (room, extra = {}) => {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 160, height: 120, frameRate: 10 } });
  window.tracks = [];
  window.rejoins = [];
  window.states = [];
  window.messages = [];
  window.errors = [];
  window.call = await sdk.RtcdClient.join({ url: '/ws', room, localStream: stream, ...extra,
    listeners: { track: (e) => tracks.push(e.track.id),
                 rejoined: (e) => rejoins.push(e), state: (s) => states.push(s),
                 message: (m) => messages.push(m), error: (e) => errors.push(e) } });
  return call.peerId;
};
window.connectedTo = () => [...call.peers.values()]
  .filter((p) => p.pc.connectionState === 'connected').map((p) => p.id);
window.joinError = async (room, token) => {
  try {
    const c = await sdk.RtcdClient.join({ url: '/ws', room, token });
    c.leave();
    return 'joined';
  } catch (e) { return e.code; }
};`;

async function poll<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: timed out at ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

t.test(
  'an offer collision is settled by perfect negotiation',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const site = await startSignal();
    t.teardown(() => site.close());
    const pages = [
      await openSdkPage(await sharedChromium(), site.origin),
      await openSdkPage(await sharedChromium(), site.origin),
    ];
    t.teardown(() => Promise.all(pages.map((p) => p.context.close())));
    const [a, b] = pages.map((p) => p.page) as [
      (typeof pages)[0]['page'],
      (typeof pages)[0]['page'],
    ];
    for (const p of [a, b]) await p.evaluate(JOIN);
    const idA = await a.evaluate<string>(`joinRoom('sdk-glare')`);
    const idB = await b.evaluate<string>(`joinRoom('sdk-glare')`);
    await poll(
      'a connected',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v[0] === idB,
    );
    await poll(
      'b connected',
      () => b.evaluate<string[]>('connectedTo()'),
      (v) => v[0] === idA,
    );

    // Both add a second track at the same wall-clock instant: both offer, the offers cross.
    const at = Date.now() + 400;
    const addAt = `(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ video: { width: 160, height: 120 } });
    await new Promise((r) => setTimeout(r, ${at} - Date.now()));
    call.addTrack(s.getVideoTracks()[0], s);
  })()`;
    await Promise.all([a.evaluate(addAt), b.evaluate(addAt)]);
    for (const [name, p] of [
      ['a', a],
      ['b', b],
    ] as const) {
      await poll(
        `${name} receives two tracks`,
        () => p.evaluate<number>('tracks.length'),
        (n) => n === 2,
      );
    }
    const stats = async (p: typeof a) =>
      p.evaluate<{ polite: boolean; rollbacks: number; ignoredOffers: number; state: string }>(
        `(() => { const p = [...call.peers.values()][0];
        return { polite: p.polite, ...p.stats, state: p.pc.signalingState }; })()`,
      );
    const [sa, sb] = [await stats(a), await stats(b)];
    t.not(sa.polite, sb.polite, 'exactly one side is polite', { sa, sb });
    const impolite = sa.polite ? sb : sa;
    t.ok(impolite.ignoredOffers >= 1, 'the offers collided and the impolite side ignored one', {
      sa,
      sb,
    });
    t.same([sa.state, sb.state], ['stable', 'stable'], 'both settled');
    t.same(await a.evaluate<string[]>('connectedTo()'), [idB], 'a still connected');
    t.same(await b.evaluate<string[]>('connectedTo()'), [idA], 'b still connected');

    // Application data relayed by the server, no data channel involved.
    await a.evaluate(`call.sendMessage(${JSON.stringify(idB)}, { hello: [1, 2] })`);
    const got = await poll(
      'relayed message',
      () => b.evaluate<unknown[]>('messages'),
      (v) => v.length > 0,
    );
    t.same(got, [{ from: idA, data: { hello: [1, 2] } }], 'sendMessage reaches the peer');
  },
);

t.test(
  'joins refused by the server reject with its error code',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'sdk-jwt-secret-0123456789';
    const site = await startSignal({ jwtSecret: secret });
    t.teardown(() => site.close());
    const { context, page } = await openSdkPage(await sharedChromium(), site.origin);
    t.teardown(() => context.close());
    await page.evaluate(JOIN);
    const token = await new SignJWT({ rooms: ['sdk-auth'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    const attempt = (room: string, tok: string | undefined) =>
      page.evaluate<string>(`joinError(${JSON.stringify(room)}, ${JSON.stringify(tok)})`);
    t.equal(await attempt('sdk-auth', undefined), 'unauthorized', 'no token');
    t.equal(await attempt('sdk-auth', `${token}x`), 'unauthorized', 'a forged token');
    t.equal(await attempt('elsewhere', token), 'forbidden-room', 'a room the token does not name');
    t.equal(await attempt('sdk-auth', token), 'joined', 'the room it names');
  },
);

t.test(
  'a resume the server has forgotten becomes a fresh join',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    // No grace: a dropped peer leaves at once, so the resume token is unknown on return.
    const site = await startSignal({ resumeGraceMs: 0 });
    t.teardown(() => site.close());
    const pages = [
      await openSdkPage(await sharedChromium(), site.origin),
      await openSdkPage(await sharedChromium(), site.origin),
    ];
    t.teardown(() => Promise.all(pages.map((p) => p.context.close())));
    const [a, b] = pages.map((p) => p.page) as [
      (typeof pages)[0]['page'],
      (typeof pages)[0]['page'],
    ];
    for (const p of [a, b]) await p.evaluate(JOIN);
    const idA = await a.evaluate<string>(`joinRoom('sdk-rejoin')`);
    const idB = await b.evaluate<string>(`joinRoom('sdk-rejoin')`);
    await poll(
      'a connected',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v[0] === idB,
    );

    await a.evaluate('call.dropSignaling()');
    const [rejoin] = await poll(
      'a rejoins',
      () => a.evaluate<{ resumed: boolean; peerId: string }[]>('rejoins'),
      (v) => v.length > 0,
    );
    t.equal(rejoin?.resumed, false, 'not resumed');
    t.not(rejoin?.peerId, idA, 'a new peer id');
    const newA = rejoin?.peerId ?? '';
    await poll(
      'b connected to the new a',
      () => b.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(newA),
    );
    await poll(
      'a connected to b again',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(idB),
    );
    t.notOk(
      (await b.evaluate<string[]>('[...call.peers.keys()]')).includes(idA),
      'b let the old a go',
    );
  },
);

t.test(
  'clients reconnect with backoff when the server restarts, and call again',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    let site = await startSignal();
    t.teardown(() => site.close());
    const port = site.server.address?.port ?? 0;
    const pages = [
      await openSdkPage(await sharedChromium(), site.origin),
      await openSdkPage(await sharedChromium(), site.origin),
    ];
    t.teardown(() => Promise.all(pages.map((p) => p.context.close())));
    const [a, b] = pages.map((p) => p.page) as [Page, Page];
    for (const p of [a, b]) await p.evaluate(JOIN);
    const idA = await a.evaluate<string>(`joinRoom('sdk-restart')`);
    const idB = await b.evaluate<string>(`joinRoom('sdk-restart')`);
    await poll(
      'a connected',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v[0] === idB,
    );

    // The server goes away (close 1001) and comes back on the same port with no memory.
    await site.close();
    await poll(
      'a reconnecting',
      () => a.evaluate<string[]>('states'),
      (v) => v.includes('reconnecting'),
    );
    await new Promise((r) => setTimeout(r, 600));
    site = await startSignal({ listen: { host: '127.0.0.1', port } });
    const rejoined = async (p: Page) =>
      (
        await poll(
          'rejoined',
          () => p.evaluate<{ peerId: string }[]>('rejoins'),
          (v) => v.length > 0,
        )
      )[0]?.peerId ?? '';
    const [newA, newB] = [await rejoined(a), await rejoined(b)];
    t.not(newA, idA, 'a joined afresh');
    t.not(newB, idB, 'b joined afresh');
    await poll(
      'a calls the new b',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(newB),
    );
    await poll(
      'b calls the new a',
      () => b.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(newA),
    );
    t.same(await a.evaluate<string[]>('[...call.peers.keys()]'), [newB], 'a has only the new b');
    t.equal(await a.evaluate<string>('call.state'), 'joined', 'a is joined');
    t.same(await a.evaluate('errors'), [], 'no error surfaced on a');
    t.same(await b.evaluate('errors'), [], 'no error surfaced on b');
  },
);

t.test(
  'a peer that joined while we were away calls us once we resume',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const site = await startSignal();
    t.teardown(() => site.close());
    const pages = [
      await openSdkPage(await sharedChromium(), site.origin),
      await openSdkPage(await sharedChromium(), site.origin),
    ];
    t.teardown(() => Promise.all(pages.map((p) => p.context.close())));
    const [a, b] = pages.map((p) => p.page) as [Page, Page];
    for (const p of [a, b]) await p.evaluate(JOIN);
    // A's first reconnect comes 1-2 s after a drop: time for B to join meanwhile.
    const idA = await a.evaluate<string>(
      `joinRoom('sdk-away', { reconnect: { minDelayMs: 2000 } })`,
    );
    await a.evaluate('call.dropSignaling()');
    await poll(
      'a away',
      () => a.evaluate<string[]>('states'),
      (v) => v.includes('reconnecting'),
    );
    // B's `joined` lists A (still a member during the grace period): B offers, the server
    // holds the offer for A until A resumes.
    const idB = await b.evaluate<string>(`joinRoom('sdk-away')`);
    t.equal(await a.evaluate<string>('call.state'), 'reconnecting', 'a was away when b joined');
    const [rejoin] = await poll(
      'a resumes',
      () => a.evaluate<{ resumed: boolean }[]>('rejoins'),
      (v) => v.length > 0,
    );
    t.equal(rejoin?.resumed, true, 'a resumed');
    await poll(
      'a connected to b',
      () => a.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(idB),
    );
    await poll(
      'b connected to a',
      () => b.evaluate<string[]>('connectedTo()'),
      (v) => v.includes(idA),
    );
    const collisions = `(() => { const s = [...call.peers.values()][0].stats;
      return s.rollbacks + s.ignoredOffers; })()`;
    t.equal(await a.evaluate<number>(collisions), 0, 'no offer collision on a: it waited for b');
    t.equal(await b.evaluate<number>(collisions), 0, 'nor on b');
    t.same(await a.evaluate('errors'), [], 'no error surfaced on a');
  },
);
