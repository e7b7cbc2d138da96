/**
 * The call page (web/) as a test participant: the web client is bundled once per test process
 * into a temp dir, a real `SignalServer` serves it on 127.0.0.1 (port 0), and each participant
 * is a Chromium browser context with its own page. Page state is read from `window.rtcdTest`
 * (web/app/test-state.ts), never scraped from text.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SignalServer, type SignalServerOptions } from '../../lib/signal/index.js';
import { buildWeb } from '../../scripts/build-web.js';
import type { PageState } from '../../web/app/test-state.js';
import { CHROMIUM_PATH, launchChromium } from './browser.js';

export type { PageState } from '../../web/app/test-state.js';

/** What the browser specs need installed (see spec/interop/tools.ts: skip locally, fail in CI). */
export const BROWSER_TOOLS: readonly string[] = [CHROMIUM_PATH];

let chromium: Promise<Browser> | undefined;

/** The spec file's one Chromium, launched on first use; `closeChromium` in its teardown. */
export function sharedChromium(): Promise<Browser> {
  chromium ??= launchChromium();
  return chromium;
}

export async function closeChromium(): Promise<void> {
  const launched = chromium;
  chromium = undefined;
  // A launch that failed has already failed its test; closing must not throw again.
  await (await launched?.catch(() => undefined))?.close();
}

let built: Promise<{ dir: string }> | undefined;

/** Bundles web/ into a fresh temp dir, once per process; removed when the process exits. */
export function webRoot(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtcd-web-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildWeb(dir);
    return { dir };
  })();
  return built.then((b) => b.dir);
}

export interface SignalSite {
  server: SignalServer;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  close(): Promise<void>;
}

/** A SignalServer on 127.0.0.1:0 serving the freshly built page; no auth unless asked. */
export async function startSignal(options: SignalServerOptions = {}): Promise<SignalSite> {
  const server = new SignalServer({
    listen: { host: '127.0.0.1', port: 0 },
    ...(options.jwtSecret === undefined && options.jwksUrl === undefined ? { noAuth: true } : {}),
    drainTimeoutMs: 0,
    webRoot: await webRoot(),
    ...options,
  });
  const { port } = await server.listen();
  return { server, origin: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export interface Participant {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors, for failure diagnostics. */
  logs: string[];
  state(): Promise<PageState>;
  /** Polls the page state until `test` holds; rejects with the last state after `timeoutMs`. */
  until(what: string, test: (s: PageState) => boolean, timeoutMs?: number): Promise<PageState>;
  framesDecoded(peerId: string, which: 'camera' | 'screen'): Promise<number>;
  /** Polls framesDecoded until it reaches `min`; returns the last count. */
  waitFrames(peerId: string, which: 'camera' | 'screen', min: number): Promise<number>;
  close(): Promise<void>;
}

/** Opens `origin/?room=ROOM&…query` in a new browser context and waits until it has joined. */
export async function openParticipant(
  browser: Browser,
  origin: string,
  room: string,
  query: Record<string, string> = {},
): Promise<Participant> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const params = new URLSearchParams({ room, audio: '0', ...query });
  await page.goto(`${origin}/?${params}`);
  const state = () => page.evaluate<PageState>('window.rtcdTest.state()');
  const until = async (what: string, test: (s: PageState) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await state();
      if (test(s)) return s;
      if (Date.now() > deadline) {
        throw new Error(`${what}: timed out; state ${JSON.stringify(s)}; logs ${logs.join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const framesDecoded = (peerId: string, which: 'camera' | 'screen') =>
    page.evaluate<number>(
      `window.rtcdTest.framesDecoded(${JSON.stringify(peerId)}, ${JSON.stringify(which)})`,
    );
  const waitFrames = async (peerId: string, which: 'camera' | 'screen', min: number) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const frames = await framesDecoded(peerId, which);
      if (frames >= min || Date.now() > deadline) return frames;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await until('join', (s) => s.clientState === 'joined' && s.peerId !== '');
  return {
    context,
    page,
    logs,
    state,
    until,
    framesDecoded,
    waitFrames,
    close: () => context.close(),
  };
}

/** Waits until `a` and `b` have each other as a connected peer; returns both peer ids. */
export async function connected(a: Participant, b: Participant): Promise<[string, string]> {
  const [sa, sb] = [await a.state(), await b.state()];
  const up = (peer: string) => (s: PageState) =>
    s.peers.some((p) => p.peerId === peer && p.connectionState === 'connected');
  try {
    await a.until(`connected to ${sb.peerId}`, up(sb.peerId));
    await b.until(`connected to ${sa.peerId}`, up(sa.peerId));
  } catch (err) {
    // Say what the other side saw too: a stuck negotiation has two halves.
    const other = JSON.stringify({ a: await a.state(), b: await b.state(), logsB: b.logs });
    throw new Error(`${err instanceof Error ? err.message : String(err)}; both: ${other}`);
  }
  return [sa.peerId, sb.peerId];
}

/**
 * A page of `origin` with the SDK bundle loaded as `window.sdk` (from `/sdk.js`, as a page of
 * one's own would), for driving RtcdClient directly with `page.evaluate('…')`. It opens
 * `/style.css` as an inert same-origin document so the call page itself does not run.
 */
export async function openSdkPage(
  browser: Browser,
  origin: string,
): Promise<{ context: BrowserContext; page: Page; logs: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${origin}/style.css`);
  await page.evaluate(`import('/sdk.js').then((m) => { window.sdk = m; })`);
  return { context, page, logs };
}
