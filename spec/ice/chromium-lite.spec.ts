/**
 * Chromium (libwebrtc) reaches iceConnectionState 'connected' against our ICE-lite endpoint
 * (RFC 8445 §2.5): the page offers a data channel; the answer is built here with `a=ice-lite`,
 * a session's ufrag/pwd, the mux's host candidate, `a=setup:passive` and a made-up DTLS
 * fingerprint. DTLS cannot complete (nobody answers the ClientHello), and need not: ICE
 * connects first, and the ClientHello reaching the session as a `dtls` packet shows the
 * address-based demultiplexing after nomination.
 *
 * The mux binds 127.0.0.1, which Chromium only pairs with when it may gather loopback
 * (`--allow-loopback-in-peer-connection`). The second test offers only the ICE-TCP passive
 * candidate (RFC 6544), so Chromium must connect over TCP with RFC 4571 framing.
 */
import { once } from 'node:events';
import t, { type Test } from 'tap';
import type { IceLiteSession } from '../../lib/ice/lite-session.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { loopbackChromium } from '../helpers/chromium-pages.js';

const { openPage } = loopbackChromium(t);

/** A fingerprint of the right shape; no certificate has it. */
const FAKE_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7 + 1).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

function answerSdp(
  offer: string,
  s: Pick<IceLiteSession, 'localUfrag' | 'localPwd'>,
  candidates: readonly string[],
): string {
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0';
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mid}`,
    'a=msid-semantic: WMS',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'c=IN IP4 0.0.0.0',
    `a=mid:${mid}`,
    `a=ice-ufrag:${s.localUfrag}`,
    `a=ice-pwd:${s.localPwd}`,
    `a=fingerprint:sha-256 ${FAKE_FINGERPRINT}`,
    'a=setup:passive',
    'a=sctp-port:5000',
    ...candidates.map((c) => `a=${c}`),
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

const OFFER = `(async () => {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  window.states = [];
  pc.addEventListener('iceconnectionstatechange', () => window.states.push(pc.iceConnectionState));
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
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

async function connect(t: Test, mux: IceLiteMux, candidates: readonly string[]) {
  const page = await openPage(t);
  const offer = await page.evaluate<string>(OFFER);
  const remoteUfrag = /^a=ice-ufrag:(\S+)/m.exec(offer)?.[1];
  t.ok(remoteUfrag, 'the offer has an ice-ufrag');
  const session = mux.createSession({ remoteUfrag });
  const connected = once(session, 'connected');
  const dtls = new Promise<string>((resolve) =>
    session.on('data', (_b, cls) => {
      if (cls === 'dtls') resolve(cls);
    }),
  );
  await page.evaluate(
    `window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answerSdp(offer, session, candidates))} })`,
  );
  const state = await page.evaluate<string>(WAIT_CONNECTED);
  return { state, session, connected, dtls, page };
}

t.test('Chromium connects to the ICE-lite mux over UDP', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const { state, session, connected, dtls } = await connect(t, mux, mux.candidates);
  t.equal(state, 'connected', "iceConnectionState reaches 'connected'");
  const [remote] = await connected;
  t.same(session.remoteAddress, remote, 'the nominated address is the one Chromium checked from');
  t.equal(remote.family, 4);
  t.equal(session.transport, 'udp');
  t.equal(await dtls, 'dtls', 'the ClientHello arrives by remote address after nomination');
  const c = mux.counters();
  t.ok(c.checksAnswered >= 1);
  t.equal(c.drops['bad-integrity'] ?? 0, 0);
});

t.test(
  'Chromium connects over ICE-TCP when only the passive TCP candidate is offered',
  async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1', tcpPort: 0 });
    t.teardown(() => mux.close());
    const tcpOnly = mux.localCandidates.filter((c) => c.transport === 'tcp');
    t.equal(tcpOnly.length, 1);
    const { state, session, connected, dtls } = await connect(
      t,
      mux,
      mux.candidates.filter((c) => c.includes(' tcp ')),
    );
    t.equal(state, 'connected', "iceConnectionState reaches 'connected' over TCP");
    await connected;
    t.equal(session.transport, 'tcp');
    t.equal(await dtls, 'dtls', 'DTLS arrives in RFC 4571 frames');
  },
);

t.test(
  'with a wrong password in the answer, every check is refused 401 and ICE does not connect',
  async (t) => {
    const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
    t.teardown(() => mux.close());
    const page = await openPage(t);
    const offer = await page.evaluate<string>(OFFER);
    const session = mux.createSession();
    const lie = { localUfrag: session.localUfrag, localPwd: 'WrongPasswordWrongPassword' };
    await page.evaluate(
      `window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answerSdp(offer, lie, mux.candidates))} })`,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const state = await page.evaluate<string>('window.pc.iceConnectionState');
    t.not(state, 'connected');
    t.not(state, 'completed');
    t.equal(session.state, 'new');
    t.ok((mux.counters().drops['bad-integrity'] ?? 0) >= 1, 'the checks failed integrity');
    t.equal(mux.counters().checksAnswered, 0);
  },
);
