/**
 * Debian's Chromium driven by playwright-core, for interop tests with a real libwebrtc. One
 * browser per test file (launch in the file, close in teardown); each test opens its own pages.
 *
 * `RTCD_CHROMIUM` overrides the executable (default `/usr/bin/chromium`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.RTCD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * - `--no-sandbox`: tests may run as root in containers, where the setuid sandbox cannot start.
 * - `--disable-gpu`, the `--disable-*` background services and `--no-first-run`: no GPU and no
 *   network traffic of Chromium's own (update checks, sync) in a test.
 * - `--disable-quic`: keep Chromium's UDP sockets to WebRTC only.
 * - `--use-fake-device-for-media-stream` / `--use-fake-ui-for-media-stream`: getUserMedia
 *   returns a synthetic camera (a moving pattern) without a permission prompt.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}

/**
 * A one-page HTTP server on 127.0.0.1. Pages need a secure context for getUserMedia and
 * RTCPeerConnection; `http://127.0.0.1` is one (a potentially trustworthy origin), `about:blank`
 * in a fresh tab is not.
 */
export async function servePage(
  html = '<!doctype html><title>rtcd</title>',
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
