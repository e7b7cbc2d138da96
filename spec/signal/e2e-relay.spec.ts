/**
 * The call forced through `rtcd turn`: both pages join with `relay=1`
 * (`iceTransportPolicy: 'relay'`), so Chromium may use relayed candidates only. The TURN
 * credentials come from the signaling server, minted with the TURN REST shared secret that
 * the TurnServer verifies: one page takes them from `joined`, the other from
 * `POST /api/v1/turn-credentials`. Relay addresses are 127.0.0.1 (the server relays on
 * loopback), hence `allowLoopbackPeers`; Chromium reaches a TURN server on 127.0.0.1 with no
 * extra flag, and relay candidates are exempt from its loopback filter.
 */
import t from 'tap';
import { TurnServer } from '../../lib/turn/server.js';
import {
  BROWSER_TOOLS,
  closeChromium,
  connected,
  openParticipant,
  sharedChromium,
  startSignal,
} from '../helpers/signal-page.js';
import { RecordingObserver } from '../interop/targets.js';
import { requireTools, toolOptions } from '../interop/tools.js';

const SECRET = 'e2e-relay-secret';
// Its own relay port range, apart from the other TURN specs that may run alongside.
const RELAY = { minPort: 32000, maxPort: 32999 };

const observer = new RecordingObserver();
const turn = new TurnServer(
  {
    listen: [{ host: '127.0.0.1', port: 0 }],
    relayIps: ['127.0.0.1'],
    realm: 'rtcd.e2e',
    authSecrets: [SECRET],
    ...RELAY,
    allowLoopbackPeers: true,
    drainTimeoutMs: 0,
  },
  { observer },
);
const site = turn.start().then(() => {
  const port = turn.addresses.udp[0]?.port;
  return startSignal({
    turnSecret: SECRET,
    turnUrls: [`turn:127.0.0.1:${port}?transport=udp`],
  });
});
t.teardown(async () => {
  await closeChromium();
  await (await site.catch(() => undefined))?.close();
  await turn.close({ drainTimeoutMs: 0 });
});

t.test(
  'relay-only call through rtcd turn with credentials from rtcd signal',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const { origin } = await site;
    const room = 'e2e-relay';
    const alice = await openParticipant(await sharedChromium(), origin, room, { relay: '1' });
    t.teardown(() => alice.close());
    const bob = await openParticipant(await sharedChromium(), origin, room, {
      relay: '1',
      turn: 'http',
    });
    t.teardown(() => bob.close());
    const [a, b] = await connected(alice, bob);

    for (const [name, p, other] of [
      ['alice', alice, b],
      ['bob', bob, a],
    ] as const) {
      const s = await p.until(`${name}: selected pair`, (s) =>
        s.peers.some((x) => x.peerId === other && x.localCandidateType !== undefined),
      );
      const view = s.peers.find((x) => x.peerId === other);
      const diag = { view, turn: observer.summary() };
      t.equal(view?.localCandidateType, 'relay', `${name}: local candidate is relayed`, diag);
      t.equal(view?.remoteCandidateType, 'relay', `${name}: remote candidate is relayed`, diag);
      t.equal(view?.relayProtocol, 'udp', `${name}: spoke TURN over UDP`, diag);
      t.ok((await p.waitFrames(other, 'camera', 1)) > 0, `${name} decodes video over TURN`);
    }
    t.ok(observer.peakAllocations >= 2, `rtcd turn held both allocations (${observer.summary()})`);
    t.ok(observer.relayedBytes['client-to-peer'] > 0, 'rtcd turn relayed client → peer');
    t.ok(observer.relayedBytes['peer-to-client'] > 0, 'rtcd turn relayed peer → client');
    t.same([...observer.authFailures], [], 'every credential minted by rtcd signal verified');
  },
);
