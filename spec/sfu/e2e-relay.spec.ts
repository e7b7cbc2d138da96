/**
 * The WHIP/WHEP room forced through `rtcd turn`: the publisher page and the viewer page both
 * create their RTCPeerConnection with `iceServers` pointing at an in-process TurnServer and
 * `iceTransportPolicy: 'relay'`, so Chromium may use relayed candidates only. The SFU is
 * ICE-lite on 127.0.0.1 and the relays are on 127.0.0.1 too, hence `allowLoopbackPeers`. The
 * viewer decodes video and receives audio, both pages' selected pairs have a local `relay`
 * candidate, and the TurnServer's observer saw both allocations relay bytes both ways.
 */

import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { TurnServer } from '../../lib/turn/server.js';
import { launchChromium, servePage } from '../helpers/browser.js';
import { RecordingObserver } from '../interop/targets.js';

const USER = 'sfu-relay';
const PASS = 'sfu-relay-password';
// Its own relay port range, apart from the other TURN specs that may run alongside.
const RELAY = { minPort: 34000, maxPort: 34999 };

const observer = new RecordingObserver();
const turn = new TurnServer(
  {
    listen: [{ host: '127.0.0.1', port: 0 }],
    relayIps: ['127.0.0.1'],
    realm: 'rtcd.sfu-e2e',
    users: { [USER]: PASS },
    ...RELAY,
    allowLoopbackPeers: true,
    drainTimeoutMs: 0,
  },
  { observer },
);
const turnUrl: Promise<string> = turn
  .start()
  .then(() => `turn:127.0.0.1:${turn.addresses.udp[0]?.port}?transport=udp`);

type Launched = Awaited<ReturnType<typeof launchChromium>>;
const browser: Promise<Launched> = launchChromium(['--allow-loopback-in-peer-connection']);
const site = servePage();
t.teardown(async () => {
  await (await browser.catch(() => undefined))?.close();
  await (await site).close();
  await turn.close({ drainTimeoutMs: 0 });
});

interface PostResult {
  status: number;
  location: string | null;
  /** The answer. */
  sdp: string;
  /** The page's offer, with its gathered candidates. */
  offer: string;
}

/**
 * Creates the page's relay-only pc (`window.pc`), waits for ICE gathering to finish (the
 * WHIP/WHEP offer carries the relay candidates; the SFU is ICE-lite and trickles nothing),
 * POSTs the offer to `url`, applies the answer.
 */
const post = (url: string, turnUrl: string, publish: boolean) => `(async () => {
  const pc = new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceTransportPolicy: 'relay',
    iceServers: [{ urls: ${JSON.stringify(turnUrl)}, username: ${JSON.stringify(USER)},
      credential: ${JSON.stringify(PASS)} }],
  });
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
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 5000);
    });
  }
  const res = await fetch(${JSON.stringify(url)}, {
    method: 'POST', headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp });
  const sdp = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp });
  return { status: res.status, location: res.headers.get('location'), sdp,
    offer: pc.localDescription.sdp };
})()`;

const INBOUND = `(async () => {
  const out = { framesDecoded: 0, audioPackets: 0 };
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type !== 'inbound-rtp') continue;
    if (s.kind === 'video') out.framesDecoded += s.framesDecoded ?? 0;
    else out.audioPackets += s.packetsReceived ?? 0;
  }
  return out;
})()`;

interface Inbound {
  framesDecoded: number;
  audioPackets: number;
}

/** transport.selectedCandidatePairId → candidate-pair → local/remote candidate. */
const SELECTED = `(async () => {
  const stats = await window.pc.getStats();
  for (const s of stats.values()) {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
    const pair = stats.get(s.selectedCandidatePairId);
    const local = pair && stats.get(pair.localCandidateId);
    const remote = pair && stats.get(pair.remoteCandidateId);
    return {
      state: pair?.state, localType: local?.candidateType, relayProtocol: local?.relayProtocol,
      localPort: local?.port, remoteType: remote?.candidateType,
    };
  }
  return null;
})()`;

interface Selected {
  state?: string;
  localType?: string;
  relayProtocol?: string;
  localPort?: number;
  remoteType?: string;
}

async function pollUntil<T>(page: Page, expr: string, ok: (s: T) => boolean, ms: number) {
  const until = Date.now() + ms;
  let last = await page.evaluate<T>(expr);
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    last = await page.evaluate<T>(expr);
  }
  return last;
}

async function openPage(t: Test): Promise<Page> {
  const page = await (await browser).newPage();
  t.teardown(() => page.close());
  await page.goto((await site).url);
  return page;
}

t.test('WHIP publisher and WHEP viewer, relay-only through rtcd turn', async (t) => {
  const sfu = new SfuServer();
  const { url } = await sfu.listen();
  t.teardown(() => sfu.close());
  const turnAt = await turnUrl;

  const a = await openPage(t);
  const pub = await a.evaluate<PostResult>(post(`${url}/whip/relay-room`, turnAt, true));
  t.equal(pub.status, 201, 'WHIP POST → 201 Created');
  t.match(pub.offer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ relay/, 'offer has relay');
  t.notMatch(pub.offer, /typ (host|srflx)/, 'and only relay candidates');

  const b = await openPage(t);
  const view = await b.evaluate<PostResult>(post(`${url}/whep/relay-room`, turnAt, false));
  t.equal(view.status, 201, 'WHEP POST → 201 Created');
  t.match(view.sdp, /a=ice-lite/, 'the SFU answers ICE-lite');
  t.notMatch(view.offer, /typ (host|srflx)/, 'the viewer offers relay candidates only');

  const got = await pollUntil<Inbound>(
    b,
    INBOUND,
    (s) => s.framesDecoded > 0 && s.audioPackets > 10,
    20_000,
  );
  const diag = { got, turn: observer.summary() };
  t.ok(got.framesDecoded > 0, `viewer decodes relayed video (${got.framesDecoded} frames)`, diag);
  t.ok(got.audioPackets > 10, `viewer receives relayed audio (${got.audioPackets} pkts)`, diag);

  for (const [name, page] of [
    ['publisher', a],
    ['viewer', b],
  ] as const) {
    const sel = await pollUntil<Selected | null>(page, SELECTED, (s) => !!s?.localType, 10_000);
    t.equal(sel?.localType, 'relay', `${name}: selected local candidate is relayed`, { sel });
    t.equal(sel?.relayProtocol, 'udp', `${name}: spoke TURN over UDP`, { sel });
    t.ok(
      (sel?.localPort ?? 0) >= RELAY.minPort && (sel?.localPort ?? 0) <= RELAY.maxPort,
      `${name}: the relayed port (${sel?.localPort}) is one of rtcd turn's`,
    );
    t.equal(sel?.remoteType, 'host', `${name}: the remote is the SFU's host candidate`, { sel });
  }

  t.ok(observer.peakAllocations >= 2, `rtcd turn held both allocations (${observer.summary()})`);
  t.ok(observer.relayedBytes['client-to-peer'] > 0, 'rtcd turn relayed client → SFU');
  t.ok(observer.relayedBytes['peer-to-client'] > 0, 'rtcd turn relayed SFU → client');
  t.same([...observer.authFailures], [], 'no authentication failures');
});
