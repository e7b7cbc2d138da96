/**
 * The WHIP/WHEP room forced through `rtcd turn`: the publisher page and the viewer page both
 * create their RTCPeerConnection with `iceServers` pointing at an in-process TurnServer and
 * `iceTransportPolicy: 'relay'`, so Chromium may use relayed candidates only. The SFU is
 * ICE-lite on 127.0.0.1 and the relays are on 127.0.0.1 too, hence `allowLoopbackPeers`. The
 * viewer decodes video and receives audio, both pages' selected pairs have a local `relay`
 * candidate, and the TurnServer's observer saw both allocations relay bytes both ways.
 */

import t from 'tap';
import { TurnServer } from '../../lib/turn/server.js';
import { loopbackChromium, pollPage } from '../helpers/chromium-pages.js';
import {
  INBOUND,
  type Inbound,
  type PostOfferOptions,
  type PostResult,
  whepView,
  whipPublish,
} from '../helpers/chromium-sfu-page.js';
import { startSfu } from '../helpers/sfu-fixture.js';
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

t.teardown(() => turn.close({ drainTimeoutMs: 0 }));
const { openPage } = loopbackChromium(t);

/**
 * A relay-only pc: the offer waits for ICE gathering, so it carries the relay candidates (the
 * SFU is ICE-lite and trickles nothing).
 */
const relayOnly = (turnUrl: string): PostOfferOptions => ({
  config: {
    iceTransportPolicy: 'relay',
    iceServers: [{ urls: turnUrl, username: USER, credential: PASS }],
  },
  gatherFirst: true,
});

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

t.test('WHIP publisher and WHEP viewer, relay-only through rtcd turn', async (t) => {
  const { url } = await startSfu(t);
  const relay = relayOnly(await turnUrl);

  const a = await openPage(t);
  const pub = await a.evaluate<PostResult>(whipPublish(`${url}/whip/relay-room`, relay));
  t.equal(pub.status, 201, 'WHIP POST → 201 Created');
  t.match(pub.offer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ relay/, 'offer has relay');
  t.notMatch(pub.offer, /typ (host|srflx)/, 'and only relay candidates');

  const b = await openPage(t);
  const view = await b.evaluate<PostResult>(whepView(`${url}/whep/relay-room`, relay));
  t.equal(view.status, 201, 'WHEP POST → 201 Created');
  t.match(view.sdp, /a=ice-lite/, 'the SFU answers ICE-lite');
  t.notMatch(view.offer, /typ (host|srflx)/, 'the viewer offers relay candidates only');

  const got = await pollPage<Inbound>(
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
    const sel = await pollPage<Selected | null>(page, SELECTED, (s) => !!s?.localType, 10_000);
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
