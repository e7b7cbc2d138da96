/**
 * The web SDK's `SfuRoom` recovering from a lost SFU, in Chromium: a signal server with
 * `sfuSecret` and SFUs linked by `connectRoomService` as `rtcd sfu --signal-url` does. When the
 * link goes (`error sfu-unavailable`, no `ref`) the pages' remote tracks end and they keep
 * offering, refused, until a new SFU links in; then they publish again on new connections and
 * decode each other, never reloading or rejoining. A signal restart while no SFU is linked
 * (fresh joins refused with `sfu-unavailable`) is waited out the same way.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import {
  fileChromium,
  type Logged,
  linkedSfu,
  linkedStack,
  logOf,
  poll,
  sdkPage,
} from '../helpers/sfu-room-page.js';
import { BROWSER_TOOLS, startSignal } from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

const chromium = fileChromium(t);

t.test(
  'the SFU lost (link closed, SFU gone) and a new one linked: both pages publish again and ' +
    'decode each other without reloading',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'sfu-link-secret';
    const stack = await linkedStack(t, secret);
    const { site, url } = stack;
    const a = await sdkPage(t, await chromium(), site.origin);
    const b = await sdkPage(t, await chromium(), site.origin);
    const idA = await a.evaluate<string>(`joinSfu('lost')`);
    const idB = await b.evaluate<string>(`joinSfu('lost')`);
    const cameraOf = (l: Logged, peer: string, from = 0) =>
      l.tracks.slice(from).find((x) => x.peerId === peer && x.kind === 'video')?.trackId ?? '';
    const decodes = async (page: Page, trackId: string, what: string) =>
      poll(
        what,
        () => page.evaluate<number>(`framesOf('${trackId}')`),
        (f) => f > 0,
      );
    const twoEach = async () => {
      const la = await poll(
        'A gets B’s tracks',
        () => logOf(a),
        (l) => l.tracks.length === 2,
      );
      const lb = await poll(
        'B gets A’s tracks',
        () => logOf(b),
        (l) => l.tracks.length === 2,
      );
      return { la, lb };
    };
    const first = await twoEach();
    await decodes(a, cameraOf(first.la, idB), 'A decodes B');
    await decodes(b, cameraOf(first.lb, idA), 'B decodes A');
    await a.evaluate('window.oldPc = room.publishConnection');

    await stack.link.close();
    for (const [name, page] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const l = await poll(
        `${name} hears the SFU is lost and its remote tracks end`,
        () => logOf(page),
        (l) => l.lost.length === 1 && l.ended.length === 2,
      );
      t.same(
        l.ended.map((x) => x.trackId).sort(),
        (name === 'A' ? first.la : first.lb).tracks.map((x) => x.trackId).sort(),
        `${name}: exactly the old tracks ended`,
      );
    }
    // Publishing is refused while no SFU is linked: the pages keep retrying meanwhile.
    await new Promise((r) => setTimeout(r, 1500));
    t.same(await a.evaluate('room.tracks.length'), 0, 'no live remote tracks without an SFU');

    stack.link = await linkedSfu(url, secret);
    const la = await poll(
      'A gets B’s new tracks',
      () => logOf(a),
      (l) => l.tracks.length === 4,
    );
    const lb = await poll(
      'B gets A’s new tracks',
      () => logOf(b),
      (l) => l.tracks.length === 4,
    );
    t.same(
      la.tracks.slice(2).map((x) => x.peerId),
      [idB, idB],
      'A’s new tracks are B’s, same peer id (no reload, no rejoin)',
    );
    t.same(
      lb.tracks.slice(2).map((x) => x.peerId),
      [idA, idA],
      'B’s new tracks are A’s',
    );
    await decodes(a, cameraOf(la, idB, 2), 'A decodes B again');
    await decodes(b, cameraOf(lb, idA, 2), 'B decodes A again');
    t.equal(
      await a.evaluate<boolean>('window.oldPc !== room.publishConnection'),
      true,
      'A publishes on a new connection',
    );
    for (const [name, l] of [
      ['A', la],
      ['B', lb],
    ] as const) {
      const restored = await poll(
        `${name} restored`,
        () => logOf(name === 'A' ? a : b),
        (x) => x.restored.length === 1,
      );
      t.ok(
        (restored.restored[0]?.attempts ?? 0) >= 2,
        `${name} retried while refused (${restored.restored[0]?.attempts} offers)`,
      );
      t.same(
        l.errors.map((e) => e.code),
        ['sfu-unavailable'],
        `${name}: the loss was its only error`,
      );
      t.same(l.rejoins, [], `${name} never rejoined the signal room`);
    }
    t.same(
      [...(stack.link.sfu.router.getRoom('lost')?.producers() ?? [])]
        .map((p) => p.participant.id)
        .sort(),
      [idA, idA, idB, idB].sort(),
      'the new SFU holds both pages’ tracks',
    );
  },
);

t.test(
  'a signal restart while no SFU is linked: the refused fresh joins are retried until one links',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'sfu-link-secret';
    const stack = await linkedStack(t, secret);
    const { port, url } = stack;
    const a = await sdkPage(t, await chromium(), stack.site.origin);
    const b = await sdkPage(t, await chromium(), stack.site.origin);
    const idA = await a.evaluate<string>(`joinSfu('down')`);
    const idB = await b.evaluate<string>(`joinSfu('down')`);
    await poll(
      'B gets A’s tracks',
      () => logOf(b),
      (l) => l.tracks.length === 2,
    );
    await poll(
      'A gets B’s tracks',
      () => logOf(a),
      (l) => l.tracks.length === 2,
    );

    // The SFU goes, then the signal server; a new signal server forgets everyone and has no
    // SFU yet, so the pages' resumes are refused and their fresh joins get sfu-unavailable.
    await stack.link.close();
    await stack.site.close();
    await new Promise((r) => setTimeout(r, 300));
    stack.site = await startSignal({ sfuSecret: secret, listen: { host: '127.0.0.1', port } });
    await new Promise((r) => setTimeout(r, 2000));
    t.equal(await a.evaluate('room.state'), 'reconnecting', 'A is still trying, not failed');
    t.equal(await b.evaluate('room.state'), 'reconnecting', 'so is B');

    stack.link = await linkedSfu(url, secret);
    const la = await poll(
      'A joined afresh and gets the new B’s tracks',
      () => logOf(a),
      (l) => l.rejoins.length === 1 && l.tracks.length === 4,
    );
    const lb = await poll(
      'B joined afresh and gets the new A’s tracks',
      () => logOf(b),
      (l) => l.rejoins.length === 1 && l.tracks.length === 4,
    );
    t.same(
      [...la.rejoins, ...lb.rejoins].map((r) => r.resumed),
      [false, false],
      'both joined afresh',
    );
    const newA = await a.evaluate<string>('room.peerId');
    const newB = await b.evaluate<string>('room.peerId');
    t.not(newA, idA, 'A has a new peer id');
    t.not(newB, idB, 'B has a new peer id');
    const camera = (l: Logged, peer: string) =>
      l.tracks.slice(2).find((x) => x.peerId === peer && x.kind === 'video')?.trackId ?? '';
    const decodes = (page: Page, trackId: string, what: string) =>
      poll(
        what,
        () => page.evaluate<number>(`framesOf('${trackId}')`),
        (f) => f > 0,
      );
    await decodes(a, camera(la, newB), 'A decodes the new B');
    await decodes(b, camera(lb, newA), 'B decodes the new A');
    for (const [name, l] of [
      ['A', la],
      ['B', lb],
    ] as const) {
      t.same(
        [...new Set(l.errors.map((e) => e.code))],
        ['sfu-unavailable'],
        `${name}: only sfu-unavailable was reported`,
      );
    }
  },
);

t.test(
  'the SFU re-creates a dead subscribe leg (restart): the page answers on a new connection, ' +
    'its remote tracks end and arrive again, and it decodes without rejoining',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    // Through the link, as `rtcd sfu --signal-url`: the link frame keeps `restart`.
    const stack = await linkedStack(t, 'sfu-link-secret');
    const a = await sdkPage(t, await chromium(), stack.site.origin);
    const b = await sdkPage(t, await chromium(), stack.site.origin);
    const idA = await a.evaluate<string>(`joinSfu('restart')`);
    const idB = await b.evaluate<string>(`joinSfu('restart')`);
    const first = await poll(
      'A gets B’s tracks',
      () => logOf(a),
      (l) => l.tracks.length === 2,
    );
    const camera = first.tracks.find((x) => x.peerId === idB && x.kind === 'video')?.trackId;
    await poll(
      'A decodes B',
      () => a.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > 0,
    );
    await a.evaluate(
      'window.oldSub = room.subscribeConnection; window.oldPub = room.publishConnection',
    );

    // A's subscribe leg dies at the SFU (as on lost ICE consent); A stays in the room.
    const leg = stack.link.sfu.router.getRoom('restart')?.participants.get(`${idA}~sub`);
    t.ok(leg, 'A has a subscribe leg');
    leg?.close('endpoint-consent-lost');

    const l = await poll(
      'A’s tracks end and arrive again',
      () => logOf(a),
      (x) => x.subscribeRestarts === 1 && x.ended.length === 2 && x.tracks.length === 4,
    );
    t.same(
      l.ended.map((x) => x.trackId).sort(),
      first.tracks.map((x) => x.trackId).sort(),
      'the old tracks ended',
    );
    t.same(
      l.tracks
        .slice(2)
        .map((x) => x.trackId)
        .sort(),
      first.tracks.map((x) => x.trackId).sort(),
      'the same tracks arrive again',
    );
    t.equal(
      await a.evaluate<boolean>('window.oldSub !== room.subscribeConnection'),
      true,
      'a new subscribe connection',
    );
    t.equal(await a.evaluate<string>('window.oldSub.connectionState'), 'closed', 'old one closed');
    t.equal(
      await a.evaluate<boolean>('window.oldPub === room.publishConnection'),
      true,
      'the publish connection is kept',
    );
    await poll(
      'A decodes B on the new connection',
      () => a.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > 0,
    );
    await poll(
      'the new subscribe connection is connected',
      () => a.evaluate<string>('room.subscribeConnection.connectionState'),
      (s) => s === 'connected',
    );
    t.same(l.errors, [], 'no error at A');
    t.same(l.rejoins, [], 'A never rejoined');
    t.same((await logOf(b)).ended, [], 'B noticed nothing');
    t.equal(await a.evaluate<number>('room.tracks.length'), 2, 'two live remote tracks');
  },
);
