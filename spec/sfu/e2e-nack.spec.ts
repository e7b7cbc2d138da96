/**
 * Loss repair through the SFU, in headless Chromium (RFC 4585 §6.2.1 Generic NACK, RFC 4588
 * RTX): page A publishes its fake camera via WHIP, page B views via WHEP, and the SfuServer's
 * test-only `testIngressDrop` discards 5% of A's video RTP before the router sees it. The router
 * finds the gaps and NACKs upstream; A retransmits (its outbound-rtp `nackCount` and
 * `retransmittedPacketsSent` rise), the repaired packets are forwarded, and B keeps decoding
 * with few freezes. B NACKs the SFU too when a repair arrives after its own gap detection; the
 * SFU answers those from its packet cache.
 */

import type { Page } from 'playwright-core';
import t from 'tap';
import { ingressDropFilter } from '../../lib/sfu/endpoint-leg.js';
import { loopbackChromium, pollPage } from '../helpers/chromium-pages.js';
import { type PostResult, whepView, whipPublish } from '../helpers/chromium-sfu-page.js';
import { startSfu } from '../helpers/sfu-fixture.js';
import { OPUS, rtp, setup, VP8 } from './harness.js';

const { openPage } = loopbackChromium(t);

/** The page's video stats: inbound-rtp on a viewer, outbound-rtp on a publisher. */
const VIDEO = `(async () => {
  const out = { framesDecoded: 0, freezeCount: 0, nackIn: 0, packetsLost: 0, packetsReceived: 0,
    nackOut: 0, retransmitted: 0, packetsSent: 0 };
  for (const s of (await window.pc.getStats()).values()) {
    if (s.kind !== 'video') continue;
    if (s.type === 'inbound-rtp') {
      out.framesDecoded += s.framesDecoded ?? 0;
      out.freezeCount += s.freezeCount ?? 0;
      out.nackIn += s.nackCount ?? 0;
      out.packetsLost += s.packetsLost ?? 0;
      out.packetsReceived += s.packetsReceived ?? 0;
    } else if (s.type === 'outbound-rtp') {
      out.nackOut += s.nackCount ?? 0;
      out.retransmitted += s.retransmittedPacketsSent ?? 0;
      out.packetsSent += s.packetsSent ?? 0;
    }
  }
  return out;
})()`;

interface Video {
  framesDecoded: number;
  freezeCount: number;
  nackIn: number;
  packetsLost: number;
  packetsReceived: number;
  nackOut: number;
  retransmitted: number;
  packetsSent: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const video = (page: Page) => page.evaluate<Video>(VIDEO);

t.test(
  'testIngressDrop: seeded share of media packets; never RTX, never other kinds',
  async (t) => {
    const { join } = setup();
    const alice = join('alice').participant;
    alice.publish({ ...VP8, encodings: [{ ssrc: 1111, rtxSsrc: 1112 }] });
    alice.publish({ ...OPUS, encodings: [{ ssrc: 42 }] });
    const count = (pt: number, seed = 7) => {
      const drop = ingressDropFilter({ ratio: 0.05, seed }, alice);
      let n = 0;
      for (let i = 0; i < 2000; i++) if (drop(rtp({ ssrc: 1111, seq: i, ts: 0, pt }))) n++;
      return n;
    };
    const video = count(VP8.payloadType);
    t.ok(video >= 60 && video <= 140, `about 5% of 2,000 video packets dropped (${video})`);
    t.equal(count(VP8.payloadType), video, 'the same seed drops the same packets');
    t.equal(count(VP8.rtxPayloadType), 0, 'retransmissions (RTX) are never dropped');
    t.equal(count(OPUS.payloadType), 0, 'audio is kept by default (kinds: video)');
    const all = ingressDropFilter({ ratio: 1, kinds: ['audio'] }, alice);
    t.ok(all(rtp({ ssrc: 42, seq: 1, ts: 0, pt: OPUS.payloadType })), 'kinds: audio drops audio');
    t.notOk(all(Buffer.alloc(8)), 'a runt is left to the router');
    t.throws(() => ingressDropFilter({ ratio: 1.5 }, alice), RangeError, 'ratio beyond 0-1');
  },
);

t.test(
  '5% video loss at the SFU ingress is repaired by NACK upstream and retransmission',
  async (t) => {
    const { sfu, url } = await startSfu(t, {
      testIngressDrop: { ratio: 0.05, seed: 7, kinds: ['video'] },
    });

    const a = await openPage(t);
    const published = await a.evaluate<PostResult>(whipPublish(`${url}/whip/room1`));
    t.equal(published.status, 201, 'WHIP → 201');
    const b = await openPage(t);
    const viewing = await b.evaluate<PostResult>(whepView(`${url}/whep/room1`));
    t.equal(viewing.status, 201, 'WHEP → 201');

    // Wait for B's first decoded frames, then measure over a window of several seconds.
    const start = await pollPage<Video>(b, VIDEO, (s) => s.framesDecoded >= 5, 20_000);
    t.ok(start.framesDecoded >= 5, `B decodes video (${start.framesDecoded} frames)`);
    const pubStart = await video(a);
    const samples: number[] = [start.framesDecoded];
    for (let i = 0; i < 6; i++) {
      await sleep(1000);
      samples.push((await video(b)).framesDecoded);
    }
    const end = await video(b);
    const pubEnd = await video(a);
    t.comment(`viewer ${JSON.stringify(end)}; publisher ${JSON.stringify(pubEnd)}`);

    t.ok(
      samples.every((n, i) => i === 0 || n > samples[i - 1]!),
      `B's framesDecoded rises every second (${samples.join(' → ')})`,
    );
    t.ok(end.framesDecoded - start.framesDecoded >= 40, 'about 15 fps over 6 s, not a trickle');
    t.ok(pubEnd.nackOut > pubStart.nackOut, `the SFU NACKs A upstream (${pubEnd.nackOut} NACKs)`);
    t.ok(
      pubEnd.retransmitted > pubStart.retransmitted,
      `A retransmits (${pubEnd.retransmitted} packets)`,
    );
    // B sees each gap as soon as the SFU does (the SFU NACKs on the packet after the gap, which
    // it forwards at once), so B NACKs the SFU too; the SFU answers from its cache, or misses if
    // A's repair has not arrived yet (then the forwarded repair fills B's gap).
    const consumers = [...(sfu.router.getRoom('room1')?.participants.values() ?? [])].flatMap((p) =>
      [...p.consumers.values()].filter((c) => c.producer.kind === 'video'),
    );
    const answered = consumers.reduce((n, c) => n + c.retransmissionsSent + c.nackMisses, 0);
    t.comment(
      `SFU → B: ${consumers.map((c) => `${c.retransmissionsSent} resent, ${c.nackMisses} missed`)}`,
    );
    t.ok(end.nackIn > 0, `B NACKs the SFU's gaps (${end.nackIn} NACKs)`);
    t.ok(answered > 0, 'the SFU handles B’s NACKs (resent from its cache or missed)');
    // Unrepaired, 5% loss breaks several frames a second; a few freezes are Chromium's own
    // when the machine is loaded (4 under a 4-job stress run, with every frame repaired).
    const froze = end.freezeCount - start.freezeCount;
    t.ok(froze <= 5, `few freezes (${froze} in the window)`);
    t.ok(end.packetsLost <= 10, `B's net loss stays small (${end.packetsLost} packets)`);
  },
);
