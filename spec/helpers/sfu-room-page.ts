/**
 * The web SDK's `SfuRoom` in a Chromium page for the SFU room specs: page-side helpers
 * (`joinSfu`, `inboundOf`, `framesOf`, `startCanvas`; events recorded in `window.log`), a page
 * per participant, polling, and an SfuServer linked to a signal server like `rtcd sfu
 * --signal-url` does.
 */
import type { Browser, Page } from 'playwright-core';
import type { Test } from 'tap';
import { SfuRoomService } from '../../lib/sfu/room-service.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import type { SignalServerOptions } from '../../lib/signal/index.js';
import { connectRoomService } from '../../lib/signal/room-service-link.js';
import { launchChromium } from './browser.js';
import { openSdkPage, type SignalSite, startSignal } from './signal-page.js';

/**
 * One Chromium per spec file, launched on first use with loopback candidates allowed (the SFU
 * is on 127.0.0.1) and closed in `t`'s teardown (pass the file's root tap).
 */
export function fileChromium(t: Test): () => Promise<Browser> {
  let browser: Promise<Browser> | undefined;
  t.teardown(async () => {
    await (await browser?.catch(() => undefined))?.close();
  });
  return () => {
    browser ??= launchChromium(['--allow-loopback-in-peer-connection']);
    return browser;
  };
}

/** A signal server whose room service is an in-process SFU; all closed in `t`'s teardown. */
export async function startRoomStack(t: Test, options: SignalServerOptions = {}) {
  const sfu = new SfuServer();
  await sfu.listen();
  const service = new SfuRoomService(sfu);
  const site = await startSignal({ roomService: service, ...options });
  t.teardown(async () => {
    await site.close();
    service.close();
    await sfu.close();
  });
  return { sfu, site };
}

/** Page-side helpers: `window.room` joined, events recorded in `window.log`. */
const HELPERS = `
window.log = { tracks: [], ended: [], rejoins: [], errors: [], lost: [], restored: [],
  subscribeRestarts: 0 };
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
    'sfu-restored': (e) => log.restored.push(e),
    'subscribe-restarted': () => log.subscribeRestarts++ } });
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
/**
 * Prefers \`layer\` of \`peerId\`'s video as soon as the first subscribe-answer went out with it
 * (checked every 0 ms timer): the SFU then has the answer, but the subscribe connection is
 * normally still doing ICE/DTLS. Start it before \`joinSfu\`; resolves with the browser's
 * connection state at that moment.
 */
window.setLayerOnAnswer = (peerId, layer) => new Promise((resolve) => {
  const check = () => {
    const t = window.room?.tracks.find((t) => t.peerId === peerId && t.kind === 'video');
    if (t === undefined || room.negotiations.subscribe < 1) return void setTimeout(check, 0);
    room.setLayer(t.trackId, layer);
    resolve(room.subscribeConnection.connectionState);
  };
  check();
});
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

/** A page of `origin` with the SDK loaded and the helpers above; closed in `t`'s teardown. */
export async function sdkPage(t: Test, browser: Browser, origin: string): Promise<Page> {
  const { context, page } = await openSdkPage(browser, origin);
  t.teardown(() => context.close());
  await page.evaluate(HELPERS);
  return page;
}

/** Reads until `ok` holds; throws with the last value after 20 s. */
export async function poll<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: timed out at ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a page recorded (`window.log`). */
export interface Logged {
  tracks: { peerId: string; trackId: string; kind: string }[];
  ended: { peerId: string; trackId: string; kind: string }[];
  rejoins: { resumed: boolean; peerId: string }[];
  errors: { code: string; message: string }[];
  lost: { message: string }[];
  restored: { attempts: number }[];
  /** `subscribe-restarted` events. */
  subscribeRestarts: number;
}
export const logOf = (page: Page) => page.evaluate<Logged>('window.log');

/** An SfuServer + SfuRoomService linked to a signal server's `/sfu`; resolves once linked. */
export async function linkedSfu(url: string, secret: string) {
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

/**
 * A signal server taking SFU links with `secret` and one SFU linked to it. `site` and `link`
 * may be replaced as a test restarts either; whichever are current are closed in `t`'s teardown.
 */
export async function linkedStack(t: Test, secret: string) {
  const site: SignalSite = await startSignal({ sfuSecret: secret });
  const port = site.server.address?.port ?? 0;
  const url = `ws://127.0.0.1:${port}/sfu`;
  const stack = { site, port, url, link: await linkedSfu(url, secret) };
  t.teardown(async () => {
    await stack.link.close();
    await stack.site.close();
  });
  return stack;
}
