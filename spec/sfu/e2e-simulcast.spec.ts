/**
 * rid simulcast from a real publisher (RFC 8853, RFC 8851, RFC 8852), in headless Chromium:
 * page A publishes a 1280x720 fake camera with three VP8 encodings (rids l/m/h scaled down
 * by 4, 2, 1) in one WHIP request; the SFU answers `a=simulcast:recv l;m;h`, makes one
 * producer with three layers (lowest first) and binds each layer's SSRC by its rid header
 * extension. Two WHEP viewers ask for `?layer=0` and `?layer=2`: both decode, and the first
 * gets the 320-wide layer while the second gets the full 1280 once Chromium's bandwidth
 * estimate has ramped up to send it (loopback has the bandwidth for all three layers). Then
 * the second viewer's consumer switches down to layer 0 and up to layer 1 mid-stream.
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
  sdp: string;
  offer: string;
}

/** A's pc: the fake camera at 1280x720 as three rid encodings, low → high, published by WHIP. */
const publish = (url: string) => `(async () => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 1280, height: 720, frameRate: 15 } });
  const { sender } = pc.addTransceiver(stream.getVideoTracks()[0], {
    direction: 'sendonly', streams: [stream], sendEncodings: [
      { rid: 'l', scaleResolutionDownBy: 4 },
      { rid: 'm', scaleResolutionDownBy: 2 },
      { rid: 'h' }] });
  // A loaded test machine must not make Chromium scale the layers down (CPU adaptation).
  const params = sender.getParameters();
  params.degradationPreference = 'maintain-resolution';
  await sender.setParameters(params);
  await pc.setLocalDescription(await pc.createOffer());
  const offer = pc.localDescription.sdp;
  const res = await fetch(${JSON.stringify(url)}, {
    method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  const sdp = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp });
  return { status: res.status, sdp, offer };
})()`;

const view = (url: string) => `(async () => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(${JSON.stringify(url)}, {
    method: 'POST', headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp });
  const sdp = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp });
  return { status: res.status, sdp, offer: '' };
})()`;

interface Received {
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
}

const RECEIVED = `(async () => {
  const out = { framesDecoded: 0, frameWidth: 0, frameHeight: 0 };
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type !== 'inbound-rtp' || s.kind !== 'video') continue;
    out.framesDecoded = s.framesDecoded ?? 0;
    out.frameWidth = s.frameWidth ?? 0;
    out.frameHeight = s.frameHeight ?? 0;
  }
  return out;
})()`;

interface Sent {
  rid: string;
  frameWidth: number;
  bytesSent: number;
  limitation: string;
}

const SENT = `(async () => {
  const out = [];
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type !== 'outbound-rtp') continue;
    out.push({ rid: s.rid, frameWidth: s.frameWidth ?? 0, bytesSent: s.bytesSent ?? 0,
      limitation: s.qualityLimitationReason ?? '' });
  }
  return out.sort((a, b) => a.rid < b.rid ? -1 : 1);
})()`;

async function openPage(t: Test): Promise<Page> {
  const page = await (await browser).newPage();
  t.teardown(() => page.close());
  await page.goto((await site).url);
  return page;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a three-layer rid publisher and viewers of layer 0 and layer 2', async (t) => {
  const sfu = new SfuServer();
  const { url } = await sfu.listen();
  t.teardown(() => sfu.close());

  const a = await openPage(t);
  const pub = await a.evaluate<PostResult>(publish(`${url}/whip/sim`));
  t.equal(pub.status, 201, 'WHIP POST → 201 Created');
  t.match(pub.offer, /a=simulcast:send l;m;h\r\n/, 'Chromium offers the three rids');
  t.match(pub.sdp, /a=simulcast:recv l;m;h\r\n/, 'answered recv in the offer’s order');
  t.match(pub.sdp, /a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\n/);
  t.match(pub.sdp, /a=extmap:\d+ urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n/);
  t.match(pub.sdp, /a=extmap:\d+ urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n/);
  const producers = [...(sfu.router.getRoom('sim')?.producers() ?? [])];
  t.equal(producers.length, 1, 'one producer for the three encodings');
  const video = producers[0]!;
  t.same(
    video.layers.map((l) => l.rid),
    ['l', 'm', 'h'],
    'layers lowest first',
  );

  const low = await openPage(t);
  const high = await openPage(t);
  t.equal((await low.evaluate<PostResult>(view(`${url}/whep/sim?layer=0`))).status, 201);
  t.equal((await high.evaluate<PostResult>(view(`${url}/whep/sim?layer=2`))).status, 201);

  // Chromium starts low and ramps up on our transport-cc feedback; the top layer comes last.
  const started = Date.now();
  let lo: Received = await low.evaluate<Received>(RECEIVED);
  let hi: Received = await high.evaluate<Received>(RECEIVED);
  while (Date.now() - started < 45_000) {
    lo = await low.evaluate<Received>(RECEIVED);
    hi = await high.evaluate<Received>(RECEIVED);
    if (lo.framesDecoded > 10 && hi.framesDecoded > 10 && hi.frameWidth >= 1280) break;
    await sleep(500);
  }
  const sent = await a.evaluate<Sent[]>(SENT);
  t.comment(`after ${Date.now() - started} ms: ${JSON.stringify({ lo, hi, sent })}`);
  t.ok(lo.framesDecoded > 10, `the layer-0 viewer decodes (${lo.framesDecoded} frames)`);
  t.ok(hi.framesDecoded > 10, `the layer-2 viewer decodes (${hi.framesDecoded} frames)`);
  t.ok(lo.frameWidth > 0 && lo.frameWidth <= 320, `layer 0 is 320 wide (${lo.frameWidth})`);
  t.ok(hi.frameWidth > lo.frameWidth, `layer 2 is wider (${hi.frameWidth})`);
  t.ok(hi.frameWidth > 640, 'layer 2 is the top layer (1280 wide, wider than layer 1)');
  t.ok(
    video.layers.every((l) => l.ssrc !== 0),
    'every layer’s SSRC was bound from its rid',
  );

  // Mid-stream switches of the high viewer's consumer (what room peers' `set-layer` does):
  // down to layer 0, then up to layer 1, each at that layer's next key frame, on the same
  // SSRC with continuous sequence numbers and timestamps, so Chromium keeps decoding. Chromium
  // leaves some of these PLIs unanswered: the producer asks again until the switch happens.
  const viewers = [...sfu.resources.values()].filter((r) => r.kind === 'whep');
  const consumer = [...(viewers[1]?.participant.consumers.values() ?? [])][0];
  for (const [layer, width] of [
    [0, 320],
    [1, 640],
  ] as const) {
    const before = await high.evaluate<Received>(RECEIVED);
    consumer?.setPreferredLayer(layer);
    const until = Date.now() + 15_000;
    let now = before;
    while (
      Date.now() < until &&
      (now.frameWidth !== width || now.framesDecoded < before.framesDecoded + 10)
    ) {
      await sleep(250);
      now = await high.evaluate<Received>(RECEIVED);
    }
    t.comment(`switch to layer ${layer}: ${Date.now() - (until - 15_000)} ms`);
    t.equal(
      now.frameWidth,
      width,
      `setPreferredLayer(${layer}): the viewer now decodes ${width} wide`,
    );
    t.ok(now.framesDecoded >= before.framesDecoded + 10, 'and keeps decoding across the switch');
    t.equal(consumer?.currentLayer, layer);
  }
});

t.test('RTX of each rid layer is bound by repaired rid; NACKed losses are filled', async (t) => {
  const sfu = new SfuServer({ testIngressDrop: { ratio: 0.03, seed: 11, kinds: ['video'] } });
  const { url } = await sfu.listen();
  t.teardown(() => sfu.close());
  const a = await openPage(t);
  t.equal((await a.evaluate<PostResult>(publish(`${url}/whip/lossy`))).status, 201);
  const video = [...(sfu.router.getRoom('lossy')?.producers() ?? [])][0]!;
  const viewer = await openPage(t);
  t.equal((await viewer.evaluate<PostResult>(view(`${url}/whep/lossy?layer=1`))).status, 201);

  // 3% of each layer's media is lost at the SFU's ingress; the SFU NACKs that layer's SSRC and
  // Chromium resends on the layer's RTX SSRC, which the router binds by the
  // repaired-rtp-stream-id extension (RFC 8852 §3.2) and decapsulates into the layer.
  const bound = () => video.layers.filter((l) => l.rtxSsrc !== 0 && l.retransmissionsReceived > 0);
  const started = Date.now();
  while (Date.now() - started < 30_000 && (bound().length < 2 || Date.now() - started < 6000)) {
    await sleep(500);
  }
  const layers = video.layers.map((l) => ({
    rid: l.rid,
    packets: l.packetsReceived,
    lost: l.tracker.lost,
    rtx: l.retransmissionsReceived,
  }));
  const publisher = video.participant;
  t.comment(`after ${Date.now() - started} ms: ${JSON.stringify(layers)}`);
  t.ok(bound().length >= 2, 'at least two layers got RTX on an SSRC bound by repaired rid');
  for (const l of video.layers) {
    if (l.rtxSsrc !== 0) t.not(l.rtxSsrc, l.ssrc, `layer ${l.rid}: its RTX SSRC is its own`);
  }
  t.ok(
    publisher.stats.nacksSent > 0,
    `the SFU NACKed the publisher (${publisher.stats.nacksSent})`,
  );
  for (const l of video.layers.filter((x) => x.packetsReceived > 100)) {
    t.ok(
      l.tracker.lost <= 0.01 * l.packetsReceived,
      `layer ${l.rid}: ${l.tracker.lost} of ${l.packetsReceived} still missing after repair`,
    );
  }
  const before = await viewer.evaluate<Received>(RECEIVED);
  await sleep(2000);
  const after = await viewer.evaluate<Received>(RECEIVED);
  t.ok(
    after.framesDecoded > before.framesDecoded + 10,
    `the viewer keeps decoding (${before.framesDecoded} → ${after.framesDecoded})`,
  );
});
