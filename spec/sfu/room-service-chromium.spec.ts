/**
 * Headless Chromium as a room peer of `SfuRoomService` beside a @roamhq/wrtc peer: the page
 * publishes its fake camera and microphone (`publish`), answers the SFU's subscribe offer
 * (`subscribe-offer` → `subscribe-answer`) and decodes the wrtc peer's video and receives its
 * audio; the wrtc peer decodes the page's video. When the wrtc peer leaves, the page gets a new
 * offer whose sections for those tracks are inactive, and the receivers' tracks mute.
 * Messages go through playwright (page → `exposeFunction`, service → `evaluate`).
 */
import t from 'tap';
import type { SfuClientMessage, SfuServerMessage } from '../../lib/signal/room-service.js';
import { loopbackChromium, pollPage } from '../helpers/chromium-pages.js';
import { type Inbound, inboundStats, sendCamera } from '../helpers/chromium-sfu-page.js';
import { exitAfterTests, RoomHarness, waitFor } from '../helpers/wrtc-client.js';

exitAfterTests(t);
const { openPage } = loopbackChromium(t);

/** The page's room client: two RTCPeerConnections, as rooms-contract.md describes. */
const CLIENT = `(async () => {
  const st = { offers: 0, muted: [], tracks: {}, errors: [] };
  window.st = st;
  const pub = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const sub = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pub = pub; window.sub = sub;
  sub.ontrack = (e) => {
    const mid = e.transceiver.mid;
    e.track.onmute = () => st.muted.push(mid);
  };
  let chain = Promise.resolve();
  window.deliver = (m) => {
    if (m.type === 'error') { st.errors.push(m); return; }
    if (m.type === 'publish-answer') {
      chain = chain.then(() => pub.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
      return;
    }
    if (m.type !== 'subscribe-offer') return; // e.g. active-speaker
    chain = chain.then(async () => {
      st.offers++;
      st.tracks = m.tracks;
      await sub.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      await sub.setLocalDescription(await sub.createAnswer());
      st.answer = sub.localDescription.sdp;
      await window.toSfu({ type: 'subscribe-answer', sdp: st.answer });
    });
  };
  ${sendCamera('pub')}
  await pub.setLocalDescription(await pub.createOffer());
  await window.toSfu({ type: 'publish', sdp: pub.localDescription.sdp });
})()`;

const INBOUND = inboundStats('window.sub');

t.test('a Chromium page and a wrtc peer in one room see each other', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const page = await openPage(t);
  await page.exposeFunction('toSfu', (m: SfuClientMessage) => {
    h.service.message('r', 'p_page', m);
  });
  h.others.set('p_page', (m: SfuServerMessage) => {
    page.evaluate(`window.deliver(${JSON.stringify(m)})`).catch(() => {});
  });
  h.service.join('r', 'p_page');
  const w = h.join('r', 'p_wrtc');
  w.addTrack('video');
  w.addTrack('audio');
  await w.publish();
  await page.evaluate(CLIENT);

  const got = await pollPage<Inbound>(
    page,
    INBOUND,
    (s) => s.framesDecoded > 5 && s.audioPackets > 10,
    25_000,
  );
  t.ok(got.framesDecoded > 5, `the page decodes the wrtc peer's video (${got.framesDecoded})`);
  t.ok(got.audioPackets > 10, `the page receives its audio (${got.audioPackets} packets)`);
  await waitFor(() => w.framesFrom('p_page', 'video') > 5, 20_000, 'wrtc decoding the page');
  t.ok(w.framesFrom('p_page', 'audio') > 5, 'the wrtc peer receives the page’s audio');

  const mids = await page.evaluate<string[]>('window.st.tracks.map((x) => x.mid)');
  t.equal(mids.length, 2, 'the page is offered two tracks');
  w.close();
  h.clients.delete('p_wrtc');
  let st = { offers: 0, tracks: [] as unknown[], muted: [] as string[], answer: '', errors: [] };
  for (let i = 0; i < 60; i++) {
    st = await page.evaluate<typeof st>('window.st');
    if (st.tracks.length === 0 && mids.every((m) => st.muted.includes(m))) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.same(st.tracks, [], 'the new offer lists no tracks');
  t.same([...st.muted].sort(), [...mids].sort(), 'both receivers’ tracks muted');
  t.equal((st.answer.match(/a=inactive/g) ?? []).length, 2, 'both sections answered inactive');
  t.same(st.errors, []);
});
