/**
 * The first end-to-end SFU path, in headless Chromium: page A publishes its fake camera and
 * microphone with one WHIP request (RFC 9725: POST application/sdp → 201, answer, Location),
 * page B views the room with one WHEP request; the SfuServer forwards through the Router
 * (SSRCs rewritten per consumer) and B decodes video frames and receives audio; a late viewer
 * C does too, on SSRCs of its own. A DELETE of A's resource ends the publisher: the room's
 * producers close and the viewers' packets stop (their tracks do not end: no renegotiation).
 */

import t from 'tap';
import { loopbackChromium, pollPage } from '../helpers/chromium-pages.js';
import {
  INBOUND,
  type Inbound,
  type PostResult,
  whepView,
  whipPublish,
} from '../helpers/chromium-sfu-page.js';
import { startSfu } from '../helpers/sfu-fixture.js';

const { openPage } = loopbackChromium(t);

const mediaFlows = (s: Inbound) => s.framesDecoded > 0 && s.audioPackets > 10;

t.test('WHIP publisher → router → WHEP viewer: B decodes video and receives audio', async (t) => {
  const { sfu, url } = await startSfu(t);

  const a = await openPage(t);
  const pub = await a.evaluate<PostResult>(whipPublish(`${url}/whip/room1`));
  t.equal(pub.status, 201, 'WHIP POST → 201 Created');
  t.match(pub.location, /^\/resource\/[0-9a-f-]{36}$/, 'with a Location for the session');
  t.match(pub.sdp, /a=ice-lite/, 'the answer is ICE-lite');
  t.match(pub.sdp, /a=recvonly/, 'the publisher sections are answered recvonly');
  const room = sfu.router.getRoom('room1');
  t.ok(room, 'the room exists');
  const producers = [...(room?.producers() ?? [])];
  t.same(producers.map((p) => p.kind).sort(), ['audio', 'video'], 'two producers published');

  const b = await openPage(t);
  const view = await b.evaluate<PostResult>(whepView(`${url}/whep/room1`));
  t.equal(view.status, 201, 'WHEP POST → 201 Created');
  t.match(view.sdp, /a=sendonly/, 'the viewer sections are answered sendonly');
  t.match(view.sdp, /a=ssrc-group:FID \d+ \d+/, 'video carries an RTX SSRC');

  const got = await pollPage(b, INBOUND, mediaFlows, 20_000);
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
  const late = await c.evaluate<PostResult>(whepView(`${url}/whep/room1`));
  t.equal(late.status, 201, 'a second WHEP viewer → 201');
  const gotC = await pollPage(c, INBOUND, mediaFlows, 20_000);
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
