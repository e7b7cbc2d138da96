/**
 * The browser SDK's `SfuRoom` (`/sdk.js`) driven directly in Chromium against a real
 * SignalServer: joins the server refuses (no room service: `sfu-unavailable`; a P2P room:
 * `room-type-mismatch`) reject with the server's codes; and, with the SFU as the room
 * service, a second published track reaches the other participant as a new `track` and
 * `unpublish` ends it there (`trackended`, its section gone inactive) while the camera plays
 * on; a dropped signaling socket resumes with the same connections; an SFU that goes away
 * (its link to the signal server closed) and comes back is recovered from without a reload.
 */
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { SfuRoomService } from '../../lib/sfu/room-service.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { connectRoomService } from '../../lib/signal/room-service-link.js';
import { launchChromium } from '../helpers/browser.js';
import { BROWSER_TOOLS, openSdkPage, startSignal } from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

type Launched = Awaited<ReturnType<typeof launchChromium>>;
let browser: Promise<Launched> | undefined;
const chromium = () => {
  browser ??= launchChromium(['--allow-loopback-in-peer-connection']);
  return browser;
};
t.teardown(async () => {
  await (await browser?.catch(() => undefined))?.close();
});

/** Page-side helpers: `window.room` joined, events recorded in `window.log`. */
const HELPERS = `
window.log = { tracks: [], ended: [], rejoins: [], errors: [], lost: [], restored: [] };
window.joinSfu = async (room, media = true, width = 320, publishOptions = {}) => {
  const localStream = media
    ? await navigator.mediaDevices.getUserMedia({
        audio: true, video: { width, height: width * 3 / 4, frameRate: 15 } })
    : undefined;
  window.room = await sdk.SfuRoom.join({ url: '/ws', room, localStream, publishOptions,
    listeners: {
    track: (e) => log.tracks.push({ peerId: e.peerId, trackId: e.trackId, kind: e.kind }),
    trackended: (e) => log.ended.push({ peerId: e.peerId, trackId: e.trackId, kind: e.kind }),
    rejoined: (e) => log.rejoins.push(e),
    error: (e) => log.errors.push(e),
    'sfu-lost': (e) => log.lost.push(e),
    'sfu-restored': (e) => log.restored.push(e) } });
  return window.room.peerId;
};
window.joinError = async (room, sessionType) => {
  try {
    const c = sessionType === 'sfu'
      ? await sdk.SfuRoom.join({ url: '/ws', room })
      : await sdk.RtcdClient.join({ url: '/ws', room });
    c.leave();
    return 'joined';
  } catch (e) { return e.code; }
};
window.inboundOf = async (trackId) => {
  const t = room.tracks.find((t) => t.trackId === trackId);
  const out = { frames: -1, width: 0 };
  if (!t) return out;
  out.frames = 0;
  (await t.receiver.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    out.frames += s.framesDecoded ?? 0;
    out.width = s.frameWidth ?? 0;
  });
  return out;
};
window.framesOf = async (trackId) => (await inboundOf(trackId)).frames;
/** A second video track: a canvas that keeps changing, so its encoder keeps sending. */
window.startCanvas = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 120;
  const g = canvas.getContext('2d');
  let n = 0;
  window.canvasTimer = setInterval(() => {
    g.fillStyle = 'hsl(' + (n++ * 10) % 360 + ', 80%, 50%)';
    g.fillRect(0, 0, 160, 120);
  }, 50);
  const stream = canvas.captureStream(15);
  window.canvasTrack = stream.getVideoTracks()[0];
  return room.publish(window.canvasTrack, stream);
};
`;

async function sdkPage(t: Test, origin: string): Promise<Page> {
  const { context, page } = await openSdkPage(await chromium(), origin);
  t.teardown(() => context.close());
  await page.evaluate(HELPERS);
  return page;
}

async function poll<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: timed out at ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Logged {
  tracks: { peerId: string; trackId: string; kind: string }[];
  ended: { peerId: string; trackId: string; kind: string }[];
  rejoins: { resumed: boolean; peerId: string }[];
  errors: { code: string; message: string }[];
  lost: { message: string }[];
  restored: { attempts: number }[];
}
const logOf = (page: Page) => page.evaluate<Logged>('window.log');

t.test(
  'refused sfu joins reject with the server’s codes',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const plain = await startSignal();
    t.teardown(() => plain.close());
    const page = await sdkPage(t, plain.origin);
    t.equal(
      await page.evaluate(`joinError('r1', 'sfu')`),
      'sfu-unavailable',
      'no room service: sfu-unavailable',
    );

    const sfu = new SfuServer();
    await sfu.listen();
    const service = new SfuRoomService(sfu);
    const site = await startSignal({ roomService: service });
    t.teardown(async () => {
      await site.close();
      service.close();
      await sfu.close();
    });
    const a = await sdkPage(t, site.origin);
    const b = await sdkPage(t, site.origin);
    await a.evaluate(`sdk.RtcdClient.join({ url: '/ws', room: 'p2p-room' })`);
    t.equal(
      await b.evaluate(`joinError('p2p-room', 'sfu')`),
      'room-type-mismatch',
      'an sfu join of a P2P room: room-type-mismatch',
    );
    await a.evaluate(`joinSfu('sfu-room')`);
    t.equal(
      await b.evaluate(`joinError('sfu-room', 'p2p')`),
      'room-type-mismatch',
      'a P2P join of an sfu room: room-type-mismatch',
    );
  },
);

t.test(
  'publish adds a track the other side receives; unpublish ends it there; a drop resumes',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const sfu = new SfuServer();
    await sfu.listen();
    const service = new SfuRoomService(sfu);
    const site = await startSignal({ roomService: service });
    t.teardown(async () => {
      await site.close();
      service.close();
      await sfu.close();
    });
    const a = await sdkPage(t, site.origin);
    const b = await sdkPage(t, site.origin);
    const idA = await a.evaluate<string>(`joinSfu('pub')`);
    const idB = await b.evaluate<string>(`joinSfu('pub')`);
    t.not(idA, idB, 'two peers');

    const first = await poll(
      'B gets A’s camera and microphone',
      () => logOf(b),
      (l) => l.tracks.length === 2,
    );
    t.same(
      first.tracks.map((x) => x.peerId),
      [idA, idA],
      'both tracks are A’s',
    );
    t.same(first.tracks.map((x) => x.kind).sort(), ['audio', 'video'], 'audio and video');
    const ofA = await poll(
      'A gets B’s two tracks',
      () => logOf(a),
      (l) => l.tracks.length === 2,
    );
    t.same(
      ofA.tracks.map((x) => x.peerId),
      [idB, idB],
      'A receives B’s, not its own',
    );
    const camera = first.tracks.find((x) => x.kind === 'video')?.trackId ?? '';
    await poll(
      'B decodes A’s camera',
      () => b.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > 0,
    );

    await a.evaluate('startCanvas()');
    const second = await poll(
      'B gets the canvas',
      () => logOf(b),
      (l) => l.tracks.length === 3,
    );
    const canvas = second.tracks[2];
    t.equal(canvas?.kind, 'video', 'the new track is a video');
    t.equal(canvas?.peerId, idA, 'from A');
    await poll(
      'B decodes the canvas',
      () => b.evaluate<number>(`framesOf('${canvas?.trackId}')`),
      (f) => f > 0,
    );
    t.same(await b.evaluate('room.negotiations.publish'), 1, 'B published once');
    t.ok((await a.evaluate<number>('room.negotiations.publish')) >= 2, 'A re-offered');

    await a.evaluate('room.unpublish(canvasTrack)');
    const ended = await poll(
      'B sees the canvas end',
      () => logOf(b),
      (l) => l.ended.length >= 1,
    );
    t.same(ended.ended, [canvas], 'exactly the canvas track ended');
    t.match(
      await b.evaluate<string>('room.subscribeConnection.remoteDescription.sdp'),
      /a=inactive/,
      'its section went inactive in the SFU’s new offer',
    );
    t.same(
      (await b.evaluate<{ trackId: string }[]>('room.tracks.map((t) => ({ trackId: t.trackId }))'))
        .map((x) => x.trackId)
        .sort(),
      first.tracks.map((x) => x.trackId).sort(),
      'the camera and microphone are still live',
    );
    const before = await b.evaluate<number>(`framesOf('${camera}')`);
    await poll(
      'the camera keeps decoding',
      () => b.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > before + 5,
    );

    // A network drop of B's signaling socket: resumed, same connections, media still flowing.
    const pcBefore = await b.evaluate<string>('room.subscribeConnection.connectionState');
    await b.evaluate('room.dropSignaling()');
    const rejoined = await poll(
      'B resumes',
      () => logOf(b),
      (l) => l.rejoins.length === 1,
    );
    t.same(rejoined.rejoins, [{ resumed: true, peerId: idB }], 'resumed with the same peer id');
    t.equal(pcBefore, 'connected', 'the subscribe connection was up');
    t.equal(
      await b.evaluate<string>('room.subscribeConnection.connectionState'),
      'connected',
      'and still is, unchanged',
    );
    const after = await b.evaluate<number>(`framesOf('${camera}')`);
    await poll(
      'still decoding',
      () => b.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > after + 5,
    );
    await b.evaluate(`room.setLayer('${camera}', 0)`);
    await new Promise((r) => setTimeout(r, 300));
    t.same((await logOf(b)).errors, [], 'B saw no errors');
    t.same((await logOf(a)).errors, [], 'A saw no errors');
  },
);

t.test(
  'a participant with nothing to publish still joins and receives the room',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const sfu = new SfuServer();
    await sfu.listen();
    const service = new SfuRoomService(sfu);
    const site = await startSignal({ roomService: service });
    t.teardown(async () => {
      await site.close();
      service.close();
      await sfu.close();
    });
    const a = await sdkPage(t, site.origin);
    const viewer = await sdkPage(t, site.origin);
    const idA = await a.evaluate<string>(`joinSfu('watch')`);
    await viewer.evaluate(`joinSfu('watch', false)`);
    t.same(await viewer.evaluate('room.publishedTracks.length'), 0, 'the viewer publishes nothing');
    const got = await poll(
      'the viewer gets A’s tracks',
      () => logOf(viewer),
      (l) => l.tracks.length === 2,
    );
    t.same(
      got.tracks.map((x) => x.peerId),
      [idA, idA],
      'both from A',
    );
    const camera = got.tracks.find((x) => x.kind === 'video')?.trackId ?? '';
    await poll(
      'the viewer decodes',
      () => viewer.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > 0,
    );
    t.same(
      [...(sfu.router.getRoom('watch')?.producers() ?? [])].map((p) => p.participant.id),
      [idA, idA],
      'the room’s only producers are A’s',
    );
    t.same((await logOf(a)).tracks, [], 'A receives nothing');
    t.same((await logOf(viewer)).errors, [], 'no errors at the viewer');
  },
);

t.test(
  'after a signaling restart the rooms join afresh: new connections, tracks published again',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const sfu = new SfuServer();
    await sfu.listen();
    t.teardown(() => sfu.close());
    let service = new SfuRoomService(sfu);
    let site = await startSignal({ roomService: service });
    t.teardown(async () => {
      await site.close();
      service.close();
    });
    const port = site.server.address?.port ?? 0;
    const a = await sdkPage(t, site.origin);
    const b = await sdkPage(t, site.origin);
    const idA = await a.evaluate<string>(`joinSfu('restart')`);
    await b.evaluate(`joinSfu('restart')`);
    const before = await poll(
      'B gets A’s tracks',
      () => logOf(b),
      (l) => l.tracks.length === 2,
    );
    await b.evaluate('window.oldPc = room.subscribeConnection');

    // The signal server and its room service go away; a new pair comes back on the same port
    // with no memory of anyone, so the resume is refused and both pages join afresh.
    await site.close();
    service.close();
    await new Promise((r) => setTimeout(r, 600));
    service = new SfuRoomService(sfu);
    site = await startSignal({ roomService: service, listen: { host: '127.0.0.1', port } });

    const after = await poll(
      'B rejoined and gets A’s tracks again',
      () => logOf(b),
      (l) => l.rejoins.length === 1 && l.tracks.length === 4,
    );
    t.same(
      after.rejoins.map((r) => r.resumed),
      [false],
      'B joined afresh',
    );
    const newA = await a.evaluate<string>('room.peerId');
    t.not(newA, idA, 'A has a new peer id');
    t.same(
      after.ended.map((x) => x.trackId).sort(),
      before.tracks.map((x) => x.trackId).sort(),
      'the old tracks ended',
    );
    const fresh = after.tracks.slice(2);
    t.same(
      fresh.map((x) => x.peerId),
      [newA, newA],
      'the new tracks are the new A’s',
    );
    t.equal(
      await b.evaluate<boolean>('window.oldPc !== room.subscribeConnection'),
      true,
      'on a new subscribe connection',
    );
    const camera = fresh.find((x) => x.kind === 'video')?.trackId ?? '';
    await poll(
      'B decodes the new A',
      () => b.evaluate<number>(`framesOf('${camera}')`),
      (f) => f > 0,
    );
    t.same((await logOf(b)).errors, [], 'no errors at B');
  },
);

t.test(
  'setLayer picks a simulcast layer: two subscribers of one publisher get different widths',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const sfu = new SfuServer();
    await sfu.listen();
    const service = new SfuRoomService(sfu);
    const site = await startSignal({ roomService: service });
    t.teardown(async () => {
      await site.close();
      service.close();
      await sfu.close();
    });
    const a = await sdkPage(t, site.origin);
    const low = await sdkPage(t, site.origin);
    const high = await sdkPage(t, site.origin);
    // 1280x720 in three layers (Chromium sends fewer for small captures).
    await a.evaluate(`joinSfu('layers', true, 1280, { simulcast: true })`);
    await low.evaluate(`joinSfu('layers', true, 160)`);
    await high.evaluate(`joinSfu('layers', true, 160)`);
    const videoOf = async (page: Page, peer: string) => {
      const l = await poll(
        'A’s camera',
        () => logOf(page),
        (l) => l.tracks.some((x) => x.peerId === peer && x.kind === 'video'),
      );
      return l.tracks.find((x) => x.peerId === peer && x.kind === 'video')?.trackId ?? '';
    };
    const idA = await a.evaluate<string>('room.peerId');
    const lowTrack = await videoOf(low, idA);
    const highTrack = await videoOf(high, idA);
    await low.evaluate(`room.setLayer('${lowTrack}', 0)`);
    await high.evaluate(`room.setLayer('${highTrack}', 2)`);
    type In = { frames: number; width: number };
    const lowIn = await poll(
      'the low subscriber decodes the 320-wide layer',
      () => low.evaluate<In>(`inboundOf('${lowTrack}')`),
      (v) => v.frames > 0 && v.width === 320,
    );
    const highIn = await poll(
      'the high subscriber decodes a wider layer',
      () => high.evaluate<In>(`inboundOf('${highTrack}')`),
      (v) => v.frames > 0 && v.width > 320,
    );
    t.equal(lowIn.width, 320, 'layer 0: a quarter of 1280');
    t.ok(highIn.width > lowIn.width, `layer 2: ${highIn.width} wide`);
    t.same((await logOf(low)).errors, [], 'no errors at the low subscriber');
    t.same((await logOf(high)).errors, [], 'no errors at the high subscriber');
  },
);

/** An SfuServer + SfuRoomService linked to a signal server's `/sfu`; resolves once linked. */
async function linkedSfu(url: string, secret: string) {
  const sfu = new SfuServer();
  await sfu.listen();
  const service = new SfuRoomService(sfu);
  let up: () => void = () => {};
  const linked = new Promise<void>((resolve) => {
    up = resolve;
  });
  const link = connectRoomService(url, secret, service, {
    backoffMs: 100,
    onState: (s) => {
      if (s === 'up') up();
    },
  });
  await linked;
  return {
    sfu,
    close: async () => {
      await link.close();
      service.close();
      await sfu.close();
    },
  };
}

t.test(
  'the SFU lost (link closed, SFU gone) and a new one linked: both pages publish again and ' +
    'decode each other without reloading',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'sfu-link-secret';
    const site = await startSignal({ sfuSecret: secret });
    const url = `ws://127.0.0.1:${site.server.address?.port ?? 0}/sfu`;
    let current = await linkedSfu(url, secret);
    t.teardown(async () => {
      await current.close();
      await site.close();
    });
    const a = await sdkPage(t, site.origin);
    const b = await sdkPage(t, site.origin);
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

    await current.close();
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

    current = await linkedSfu(url, secret);
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
      [...(current.sfu.router.getRoom('lost')?.producers() ?? [])]
        .map((p) => p.participant.id)
        .sort(),
      [idA, idA, idB, idB].sort(),
      'the new SFU holds both pages’ tracks',
    );
  },
);
