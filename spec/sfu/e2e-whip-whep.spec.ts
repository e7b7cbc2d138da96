/**
 * The first end-to-end SFU path, in headless Chromium: page A publishes its fake camera and
 * microphone with one WHIP request (RFC 9725: POST application/sdp → 201, answer, Location),
 * page B views the room with one WHEP request; the SfuServer forwards through the Router
 * (SSRCs rewritten per consumer) and B decodes video frames and receives audio; a late viewer
 * C does too, on SSRCs of its own. A DELETE of A's resource ends the publisher: the room's
 * producers close and the viewers' packets stop (their tracks do not end: no renegotiation).
 */

import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { launchChromium, servePage } from '../helpers/browser.js';

type Launched = Awaited<ReturnType<typeof launchChromium>>;
const browser: Promise<Launched> = launchChromium(['--allow-loopback-in-peer-connection']);
const site = servePage();
t.teardown(async () => {
  await (await browser.catch(() => undefined))?.close();
  await (await site).close();
});

interface PostResult {
  status: number;
  location: string | null;
  sdp: string;
}

/** Creates the page's pc (`window.pc`), POSTs its offer to `url`, applies the answer. */
const post = (url: string, publish: boolean) => `(async () => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  if (${publish}) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 320, height: 240, frameRate: 15 } });
    for (const track of stream.getTracks()) {
      pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    }
  } else {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
  }
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(${JSON.stringify(url)}, {
    method: 'POST', headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp });
  const sdp = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp });
  return { status: res.status, location: res.headers.get('location'), sdp };
})()`;

const INBOUND = `(async () => {
  const out = { framesDecoded: 0, videoPackets: 0, audioPackets: 0, ssrcs: [] };
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type !== 'inbound-rtp') continue;
    out.ssrcs.push(s.ssrc);
    if (s.kind === 'video') {
      out.framesDecoded += s.framesDecoded ?? 0;
      out.videoPackets += s.packetsReceived ?? 0;
    } else out.audioPackets += s.packetsReceived ?? 0;
  }
  return out;
})()`;

interface Inbound {
  framesDecoded: number;
  videoPackets: number;
  audioPackets: number;
  ssrcs: number[];
}

async function poll(page: Page, ok: (s: Inbound) => boolean, ms: number): Promise<Inbound> {
  const until = Date.now() + ms;
  let last = await page.evaluate<Inbound>(INBOUND);
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    last = await page.evaluate<Inbound>(INBOUND);
  }
  return last;
}

async function openPage(t: Test): Promise<Page> {
  const page = await (await browser).newPage();
  t.teardown(() => page.close());
  await page.goto((await site).url);
  return page;
}

t.test('WHIP publisher → router → WHEP viewer: B decodes video and receives audio', async (t) => {
  const sfu = new SfuServer();
  const { url } = await sfu.listen();
  t.teardown(() => sfu.close());

  const a = await openPage(t);
  const pub = await a.evaluate<PostResult>(post(`${url}/whip/room1`, true));
  t.equal(pub.status, 201, 'WHIP POST → 201 Created');
  t.match(pub.location, /^\/resource\/[0-9a-f-]{36}$/, 'with a Location for the session');
  t.match(pub.sdp, /a=ice-lite/, 'the answer is ICE-lite');
  t.match(pub.sdp, /a=recvonly/, 'the publisher sections are answered recvonly');
  const room = sfu.router.getRoom('room1');
  t.ok(room, 'the room exists');
  const producers = [...(room?.producers() ?? [])];
  t.same(producers.map((p) => p.kind).sort(), ['audio', 'video'], 'two producers published');

  const b = await openPage(t);
  const view = await b.evaluate<PostResult>(post(`${url}/whep/room1`, false));
  t.equal(view.status, 201, 'WHEP POST → 201 Created');
  t.match(view.sdp, /a=sendonly/, 'the viewer sections are answered sendonly');
  t.match(view.sdp, /a=ssrc-group:FID \d+ \d+/, 'video carries an RTX SSRC');

  const got = await poll(b, (s) => s.framesDecoded > 0 && s.audioPackets > 10, 20_000);
  t.ok(got.framesDecoded > 0, `B decodes forwarded video (${got.framesDecoded} frames)`);
  t.ok(got.audioPackets > 10, `B receives forwarded audio (${got.audioPackets} packets)`);
  const published = new Set(producers.flatMap((p) => p.layers.map((l) => l.ssrc)));
  t.ok(got.ssrcs.length >= 2, 'B has inbound audio and video streams');
  t.notOk(
    got.ssrcs.some((s) => published.has(s)),
    'B receives on its own SSRCs, not the publisher’s',
  );

  // A late viewer C gets its own subscription, and a key frame (PLI upstream) to start from.
  const c = await openPage(t);
  const late = await c.evaluate<PostResult>(post(`${url}/whep/room1`, false));
  t.equal(late.status, 201, 'a second WHEP viewer → 201');
  const gotC = await poll(c, (s) => s.framesDecoded > 0 && s.audioPackets > 10, 20_000);
  t.ok(gotC.framesDecoded > 0, `C decodes too (${gotC.framesDecoded} frames)`);
  t.ok(gotC.audioPackets > 10, `C receives audio (${gotC.audioPackets} packets)`);
  t.notOk(
    gotC.ssrcs.some((s) => got.ssrcs.includes(s)),
    'C’s SSRCs differ from B’s (rewritten per consumer)',
  );
  t.equal(room?.participants.size, 3, 'one publisher and two viewers in the room');

  // DELETE the publisher's resource: its producers close, the viewers' packets stop.
  const del = await fetch(`${url}${pub.location}`, { method: 'DELETE' });
  t.equal(del.status, 200, 'DELETE of the WHIP resource → 200');
  t.ok(
    producers.every((p) => p.closed),
    'the publisher’s producers are closed',
  );
  t.equal([...(room?.producers() ?? [])].length, 0, 'the room has no producers left');
  await new Promise((r) => setTimeout(r, 500));
  const before = [await b.evaluate<Inbound>(INBOUND), await c.evaluate<Inbound>(INBOUND)];
  await new Promise((r) => setTimeout(r, 1500));
  const after = [await b.evaluate<Inbound>(INBOUND), await c.evaluate<Inbound>(INBOUND)];
  for (const [i, name] of ['B', 'C'].entries()) {
    t.equal(after[i]?.videoPackets, before[i]?.videoPackets, `no more video reaches ${name}`);
    t.equal(after[i]?.audioPackets, before[i]?.audioPackets, `no more audio reaches ${name}`);
  }
  t.equal(room?.participants.size, 2, 'the viewers stay in the room');
  // A viewer that closes its RTCPeerConnection (DTLS close_notify) leaves the room by itself.
  t.equal(sfu.resources.size, 2, 'two viewer sessions remain');
  await c.evaluate('window.pc.close()');
  const until = Date.now() + 10_000;
  while (sfu.resources.size > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  t.equal(sfu.resources.size, 1, 'C’s session ended when its page closed the connection');
  t.equal(room?.participants.size, 1, 'C left the room');
  const again = await fetch(`${url}${pub.location}`, { method: 'DELETE' });
  t.equal(again.status, 404, 'the resource is gone');
  t.same(await again.json(), { error: 'no-such-resource', message: 'unknown resource' });
});
