/**
 * Chromium (libwebrtc) against our full agent, in both roles. The page's RTCPeerConnection
 * has a data channel so that it runs ICE; the other description is built here from our
 * agent's ufrag/pwd and candidates with a made-up DTLS fingerprint: DTLS cannot complete and
 * need not, iceConnectionState 'connected' is the check.
 *
 * No loopback: our agent gathers the machine's interface addresses and so does Chromium,
 * whose host candidates may arrive as `<uuid>.local` mDNS names. Those we try to resolve; in
 * any case Chromium's checks teach us its address as a peer-reflexive candidate.
 */
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { IceAgent } from '../../lib/ice/agent.js';
import { formatCandidate, type IceCandidate, parseCandidate } from '../../lib/ice/candidate.js';
import { launchChromium, servePage } from '../helpers/browser.js';

type Launched = Awaited<ReturnType<typeof launchChromium>>;
const browser: Promise<Launched> = launchChromium();
const site = servePage();
t.teardown(async () => {
  await (await browser.catch(() => undefined))?.close();
  await (await site).close();
});

const FAKE_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 5 + 3).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

function description(agent: IceAgent, mid: string, setup: 'actpass' | 'active'): string {
  const p = agent.localParameters;
  return [
    'v=0',
    'o=- 1 2 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=mid:${mid}`,
    `a=ice-ufrag:${p.ufrag}`,
    `a=ice-pwd:${p.pwd}`,
    `a=fingerprint:sha-256 ${FAKE_FINGERPRINT}`,
    `a=setup:${setup}`,
    'a=sctp-port:5000',
    ...agent.localCandidates.map((c) => `a=${formatCandidate(c)}`),
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

const PAGE_SETUP = `(() => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.states = [];
  pc.addEventListener('iceconnectionstatechange', () => window.states.push(pc.iceConnectionState));
  window.gathered = new Promise((resolve) => {
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve(pc.localDescription.sdp);
    });
  });
})()`;

const WAIT_CONNECTED = `new Promise((resolve) => {
  const done = () => {
    const s = window.pc.iceConnectionState;
    if (s === 'connected' || s === 'completed' || s === 'failed') resolve(s);
  };
  window.pc.addEventListener('iceconnectionstatechange', done);
  done();
  setTimeout(() => resolve('timeout:' + window.pc.iceConnectionState), 15000);
})`;

/** Feeds the candidates and credentials of a Chromium description to our agent. */
function applyRemote(agent: IceAgent, sdp: string, mdns = false): IceCandidate[] {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  if (ufrag === undefined || pwd === undefined) throw new Error('no ICE credentials in SDP');
  agent.setRemoteParameters({ ufrag, pwd });
  const candidates = sdp
    .split(/\r?\n/)
    .map((l) => parseCandidate(l))
    .filter((c): c is IceCandidate => c !== undefined)
    // What Chromium signals when it hides host IPs (its default with no media permission).
    .map((c) => (mdns ? { ...c, address: `${randomUUID()}.local` } : c));
  for (const c of candidates) agent.addRemoteCandidate(c);
  agent.addRemoteCandidate(null);
  return candidates;
}

async function openPage(t: Test) {
  const page = await (await browser).newPage();
  t.teardown(() => page.close());
  await page.goto((await site).url);
  await page.evaluate(PAGE_SETUP);
  return page;
}

for (const mdns of [false, true]) {
  const how = mdns ? ' with its host candidates as unresolvable .local names' : '';
  t.test(`Chromium offers (controlling)${how}, our full agent answers (controlled)`, async (t) => {
    const agent = new IceAgent({ controlling: false, ipv6: false, taMs: 20 });
    t.teardown(() => agent.close());
    const page = await openPage(t);
    await page.evaluate(`(async () => {
    window.pc.createDataChannel('probe');
    await window.pc.setLocalDescription(await window.pc.createOffer());
  })()`);
    const offer = await page.evaluate<string>('window.gathered');
    await agent.gather();
    t.ok(agent.localCandidates.length > 0, 'we gathered interface addresses');
    t.notOk(
      agent.localCandidates.some((c) => c.address === '127.0.0.1'),
      'loopback is not gathered by default',
    );
    const remote = applyRemote(agent, offer, mdns);
    t.ok(remote.length > 0, 'Chromium offered candidates');
    const connected = agent.connect();
    const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0';
    await page.evaluate(
      `window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(description(agent, mid, 'active'))} })`,
    );
    t.equal(await page.evaluate<string>(WAIT_CONNECTED), 'connected');
    await connected;
    t.ok(agent.selectedPair?.nominated, 'Chromium nominated a pair we accepted');
    t.equal(agent.role, 'controlled');
    if (mdns) {
      t.equal(agent.selectedPair?.remote.type, 'prflx', 'reached through the peer-reflexive path');
    } else {
      t.equal(agent.selectedPair?.remote.type, 'host');
    }
  });
}

t.test('our full agent offers (controlling), Chromium answers (controlled)', async (t) => {
  const agent = new IceAgent({ controlling: true, ipv6: false, taMs: 20 });
  t.teardown(() => agent.close());
  const page = await openPage(t);
  await agent.gather();
  await page.evaluate(`(async () => {
    await window.pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(description(agent, '0', 'actpass'))} });
    await window.pc.setLocalDescription(await window.pc.createAnswer());
  })()`);
  const answer = await page.evaluate<string>('window.gathered');
  applyRemote(agent, answer);
  await agent.connect();
  t.equal(await page.evaluate<string>(WAIT_CONNECTED), 'connected');
  t.equal(agent.role, 'controlling');
  t.ok(agent.selectedPair?.nominated, 'we nominated with USE-CANDIDATE');
  t.ok(['connected', 'completed'].includes(agent.state));
});
