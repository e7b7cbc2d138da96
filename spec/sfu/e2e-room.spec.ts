/**
 * Multi-party rooms through `rtcd signal` (issue 7), in headless Chromium: the call page in
 * SFU mode (`/?room=x&mode=sfu`, web/app/sfu-page.ts on the SDK's SfuRoom) against a real
 * SignalServer whose room service is the SFU (`SfuRoomService` over an `SfuServer`), all in
 * this process. Three participants each publish a fake camera and microphone and each decodes
 * the other two's video and receives their audio; then one leaves, and the other two get
 * `peer-left`, that peer's tracks end (SDK `trackended`) and its video elements go. A screen
 * share is a second published track; with `relay=1` both connections go through `rtcd turn`.
 */
import t from 'tap';
import { TurnServer } from '../../lib/turn/server.js';
import type { InboundView } from '../../web/app/test-state.js';
import { fileChromium, startRoomStack } from '../helpers/sfu-room-page.js';
import { BROWSER_TOOLS, openParticipant, type Participant } from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

/** One Chromium for the file. */
const chromium = fileChromium(t);

async function inbound(p: Participant): Promise<InboundView[]> {
  return p.page.evaluate<InboundView[]>('window.rtcdTest.inbound()');
}

/** Polls until every remote video decodes and every remote audio receives packets. */
async function untilMediaFlows(p: Participant, from: readonly string[]): Promise<InboundView[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const views = await inbound(p);
    const ok = from.every(
      (peer) =>
        views.some((v) => v.peerId === peer && v.kind === 'video' && v.framesDecoded > 0) &&
        views.some((v) => v.peerId === peer && v.kind === 'audio' && v.packetsReceived > 0),
    );
    if (ok) return views;
    if (Date.now() > deadline) {
      const s = await p.state();
      throw new Error(
        `media from ${from.join(', ')}: timed out; inbound ${JSON.stringify(views)}; ` +
          `state ${JSON.stringify(s.sfu)}; errors ${s.errors.join(' | ')}; logs ${p.logs.join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const SFU_PAGE = { mode: 'sfu', audio: '1' };

t.test(
  'three participants each receive the other two; one leaves and its tracks end for the others',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const { sfu, site } = await startRoomStack(t);
    const browser = await chromium();
    const people: Participant[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await openParticipant(browser, site.origin, 'trio', SFU_PAGE);
      t.teardown(() => p.close());
      people.push(p);
    }
    const ids = await Promise.all(people.map(async (p) => (await p.state()).peerId));
    t.equal(new Set(ids).size, 3, 'three distinct peer ids');
    t.same(
      [...(sfu.router.getRoom('trio')?.producers() ?? [])].map((p) => p.kind).sort(),
      ['audio', 'audio', 'audio', 'video', 'video', 'video'],
      'the SFU room has a camera and a microphone from each participant',
    );

    for (const [i, p] of people.entries()) {
      const others = ids.filter((_, j) => j !== i);
      const views = await untilMediaFlows(p, others);
      for (const peer of others) {
        const video = views.find((v) => v.peerId === peer && v.kind === 'video');
        const audio = views.find((v) => v.peerId === peer && v.kind === 'audio');
        t.ok((video?.framesDecoded ?? 0) > 0, `${i}: decodes ${peer}'s video`);
        t.ok((audio?.packetsReceived ?? 0) > 0, `${i}: receives ${peer}'s audio`);
      }
      const s = await p.state();
      t.same([...(s.sfu?.peers ?? [])].sort(), [...others].sort(), `${i}: knows the other two`);
      t.equal(s.sfu?.videoElements, 2, `${i}: shows two remote videos`);
      t.ok(
        s.sfu?.tracks.every((tr) => tr.shown),
        `${i}: every remote track is in the page`,
      );
      t.same(s.errors, [], `${i}: no errors`);
    }

    // RFC 6464: Chromium's fake microphone beeps with audio levels; the SFU names a speaker.
    for (const [i, p] of people.entries()) {
      const s = await p.until(`${i} hears an active speaker`, (s) => s.sfu?.speaker !== undefined);
      t.ok(ids.includes(s.sfu?.speaker ?? ''), `${i}: active speaker ${s.sfu?.speaker}`);
    }

    // The third leaves with the page's Leave button.
    const [a, b, c] = people as [Participant, Participant, Participant];
    const gone = ids[2] as string;
    await c.page.click('#leave');
    for (const [name, p] of [
      ['first', a],
      ['second', b],
    ] as const) {
      const s = await p.until(
        `${name} sees ${gone} leave`,
        (s) =>
          (s.sfu?.left.includes(gone) ?? false) &&
          (s.sfu?.ended.filter((e) => e.peerId === gone).length ?? 0) === 2 &&
          s.sfu?.videoElements === 1,
      );
      t.ok(s.sfu?.left.includes(gone), `${name}: peer-left for the leaver`);
      t.same(
        s.sfu?.ended
          .filter((e) => e.peerId === gone)
          .map((e) => e.kind)
          .sort(),
        ['audio', 'video'],
        `${name}: the leaver's audio and video tracks ended`,
      );
      t.notOk(
        s.sfu?.tracks.some((tr) => tr.peerId === gone),
        `${name}: none of the leaver's tracks is live`,
      );
      t.equal(s.sfu?.videoElements, 1, `${name}: one remote video left in the page`);
    }
    // The two who stay still receive each other.
    await untilMediaFlows(a, [ids[1] as string]);
    await untilMediaFlows(b, [ids[0] as string]);
    t.same(
      [...(sfu.router.getRoom('trio')?.producers() ?? [])].map((p) => p.kind).sort(),
      ['audio', 'audio', 'video', 'video'],
      "the leaver's producers are closed",
    );
  },
);

t.test(
  'a screen share is a second published video: it arrives as a second tile and goes when stopped',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const { site } = await startRoomStack(t);
    const browser = await chromium();
    const alice = await openParticipant(browser, site.origin, 'share', SFU_PAGE);
    t.teardown(() => alice.close());
    const bob = await openParticipant(browser, site.origin, 'share', SFU_PAGE);
    t.teardown(() => bob.close());
    const a = (await alice.state()).peerId;
    await untilMediaFlows(bob, [a]);

    await alice.page.click('#share');
    const sharing = await bob.until('a second video from alice', (s) => s.sfu?.videoElements === 2);
    t.equal(
      sharing.sfu?.tracks.filter((tr) => tr.peerId === a && tr.kind === 'video').length,
      2,
      'bob has two live video tracks from alice',
    );
    t.ok((await bob.waitFrames(a, 'screen', 1)) > 0, 'bob decodes the screen share');
    // The SDK said which is which (`publish` sources): the page lays the screen out as one.
    const videos = sharing.sfu?.tracks.filter((tr) => tr.peerId === a && tr.kind === 'video');
    t.same(
      videos?.map((v) => [v.source, v.screenTile]).sort(),
      [
        ['camera', false],
        ['screen', true],
      ],
      'the camera and the screen arrive labelled; only the screen gets a screen tile',
    );
    t.equal(
      videos?.find((v) => v.source === 'screen')?.caption,
      `${a} (screen)`,
      'the screen tile says so',
    );
    t.same(
      sharing.sfu?.tracks.filter((tr) => tr.kind === 'audio').map((tr) => tr.source),
      ['microphone'],
      'the microphone too',
    );
    t.equal((await alice.state()).sfu?.published.length, 3, 'alice publishes three tracks');

    await alice.page.click('#share');
    const stopped = await bob.until('the share ends', (s) => s.sfu?.videoElements === 1);
    t.equal(stopped.sfu?.ended.length, 1, 'one track ended: the screen');
    t.equal(stopped.sfu?.ended[0]?.kind, 'video', 'a video');
    t.same(stopped.sfu?.left, [], 'alice did not leave');
    const camera = await bob.framesDecoded(a, 'camera');
    t.ok((await bob.waitFrames(a, 'camera', camera + 5)) > camera, 'alice’s camera plays on');
    t.same((await bob.state()).errors, [], 'no errors');
  },
);

t.test(
  'relay only: both connections of each page go through rtcd turn, media still flows',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'e2e-room-relay';
    const turn = new TurnServer({
      listen: [{ host: '127.0.0.1', port: 0 }],
      relayIps: ['127.0.0.1'],
      realm: 'rtcd.e2e-room',
      authSecrets: [secret],
      // Its own relay port range, apart from the other TURN specs that may run alongside.
      minPort: 35000,
      maxPort: 35999,
      // The SFU listens on 127.0.0.1.
      allowLoopbackPeers: true,
      drainTimeoutMs: 0,
    });
    await turn.start();
    t.teardown(() => turn.close({ drainTimeoutMs: 0 }));
    const port = turn.addresses.udp[0]?.port;
    const { site } = await startRoomStack(t, {
      turnSecret: secret,
      turnUrls: [`turn:127.0.0.1:${port}?transport=udp`],
    });
    const browser = await chromium();
    const query = { ...SFU_PAGE, relay: '1' };
    const alice = await openParticipant(browser, site.origin, 'relay', query);
    t.teardown(() => alice.close());
    const bob = await openParticipant(browser, site.origin, 'relay', query);
    t.teardown(() => bob.close());
    const [a, b] = [(await alice.state()).peerId, (await bob.state()).peerId];
    await untilMediaFlows(alice, [b]);
    await untilMediaFlows(bob, [a]);
    for (const [name, p] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      const s = await p.until(
        `${name}: both pairs known`,
        (s) => s.sfu?.pairs.publish !== undefined && s.sfu?.pairs.subscribe !== undefined,
      );
      for (const which of ['publish', 'subscribe'] as const) {
        const pair = s.sfu?.pairs[which];
        t.equal(
          pair?.local,
          'relay',
          `${name}: the ${which} connection's local candidate is relayed`,
        );
        t.equal(pair?.relayProtocol, 'udp', `${name}: spoke TURN over UDP`);
        t.equal(pair?.remote, 'host', `${name}: to the SFU's host candidate`);
      }
    }
  },
);
