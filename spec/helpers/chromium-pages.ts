/**
 * The spec file's one Chromium for talking to rtcd servers on 127.0.0.1, and the page its tests
 * open (see browser.ts: a secure context for getUserMedia and RTCPeerConnection).
 */
import type { Browser, Page } from 'playwright-core';
import type { Test } from 'tap';
import { launchChromium, servePage } from './browser.js';

export interface ChromiumPages {
  browser: Promise<Browser>;
  /** A new page on the served origin, closed in `t`'s teardown. */
  openPage(t: Test): Promise<Page>;
}

/**
 * Launches Chromium with `--allow-loopback-in-peer-connection` (without it Chromium gathers no
 * 127.0.0.1 candidates, and our servers listen there only) and serves the page; `t`'s teardown
 * (the file's root `t`) closes both. Launching starts at once, so it overlaps the file's setup.
 */
export function loopbackChromium(t: Test): ChromiumPages {
  const browser = launchChromium(['--allow-loopback-in-peer-connection']);
  const site = servePage();
  t.teardown(async () => {
    await (await browser.catch(() => undefined))?.close();
    await (await site).close();
  });
  return {
    browser,
    openPage: async (t) => {
      const page = await (await browser).newPage();
      t.teardown(() => page.close());
      await page.goto((await site).url);
      return page;
    },
  };
}

/** Evaluates `expr` in `page` every `everyMs` until `ok` or `ms` pass; returns the last value. */
export async function pollPage<T>(
  page: Page,
  expr: string,
  ok: (value: T) => boolean,
  ms: number,
  everyMs = 250,
): Promise<T> {
  const until = Date.now() + ms;
  let last = await page.evaluate<T>(expr);
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await page.evaluate<T>(expr);
  }
  return last;
}
