/**
 * WebRtcEndpoint against a Node peer built from rtcd's own ICE check, DTLS and SRTP (see
 * node-peer.ts), over real UDP on 127.0.0.1: both DTLS roles from `a=setup` (RFC 5763 §5),
 * every SRTP profile keyed from the exporter with the client/server key order of RFC 5764
 * §4.2, and the lifecycle (new → connecting → connected → closed/failed) with its causes.
 */
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { encodeRtcp } from '../../lib/rtcp/index.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import type { WebRtcState } from '../../lib/webrtc/endpoint-events.js';
import { delay, within } from '../helpers/raw-stun.js';
import { NodePeer, peerRemoteParameters, rtpPacket } from './node-peer.js';

const certificate = await generateCertificate();

async function setup(t: Test, muxOptions: Parameters<typeof IceLiteMux.bind>[0] = {}) {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1', ...muxOptions });
  t.teardown(() => mux.close());
  const peer = await NodePeer.open(mux.address);
  t.teardown(() => peer.close());
  return { mux, peer };
}

const ROLES = [
  { remoteSetup: 'actpass', preferred: 'server', role: 'server', localSetup: 'passive' },
  { remoteSetup: 'actpass', preferred: 'client', role: 'client', localSetup: 'active' },
  { remoteSetup: 'active', preferred: 'client', role: 'server', localSetup: 'passive' },
  { remoteSetup: 'passive', preferred: 'server', role: 'client', localSetup: 'active' },
] as const;

for (const c of ROLES) {
  t.test(
    `peer setup:${c.remoteSetup}, preferring ${c.preferred}: we are DTLS ${c.role} (setup:${c.localSetup})`,
    async (t) => {
      const { mux, peer } = await setup(t);
      const ep = new WebRtcEndpoint({
        mux,
        certificate,
        remote: await peerRemoteParameters(c.remoteSetup),
        preferredDtlsRole: c.preferred,
      });
      t.teardown(() => ep.close());
      const states: WebRtcState[] = [];
      ep.on('state', (s) => states.push(s));
      t.equal(ep.localSetup, c.localSetup);
      t.equal(ep.dtlsRole, c.role);
      t.equal(ep.state, 'new');
      const connected = once(ep, 'connected');
      await peer.nominate(ep);
      await within(peer.connect(ep), 5000, 'peer DTLS');
      await within(connected, 5000, 'endpoint connected');
      t.same(states, ['connecting', 'connected']);
      t.equal(ep.srtpProfile, 'AEAD_AES_128_GCM');
    },
  );
}

const PROFILES: SrtpProfileName[] = [
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
];

for (const profile of PROFILES) {
  for (const role of ['server', 'client'] as const) {
    t.test(`${profile}, endpoint as DTLS ${role}: RTP and RTCP both ways`, async (t) => {
      const { mux, peer } = await setup(t);
      const ep = new WebRtcEndpoint({
        mux,
        certificate,
        remote: await peerRemoteParameters(),
        preferredDtlsRole: role,
      });
      t.teardown(() => ep.close());
      const rtp: Buffer[] = [];
      const rtcp: Buffer[] = [];
      ep.on('rtp', (p) => rtp.push(Buffer.from(p)));
      ep.on('rtcp', (p) => rtcp.push(Buffer.from(p)));
      await peer.nominate(ep);
      await peer.connect(ep, [profile]);
      if (ep.state !== 'connected') await once(ep, 'connected');
      t.equal(ep.srtpProfile, profile);
      const sent = [0, 1, 2].map((i) => rtpPacket(0xa1, 1000 + i, 111, 50 + i, i));
      for (const p of sent) peer.sendRtp(p);
      const rr = encodeRtcp([{ kind: 'rr', ssrc: 0xa1, reports: [] }]);
      peer.sendRtcp(rr);
      const back = rtpPacket(0xb2, 7, 96, 300, 0x5a);
      t.ok(ep.sendRtp(back));
      t.ok(ep.sendRtcp(encodeRtcp([{ kind: 'rr', ssrc: 0xb2, reports: [] }])));
      for (let i = 0; i < 50 && (rtp.length < 3 || peer.rtp.length < 1); i++) await delay(10);
      t.same(rtp, sent, 'the peer’s RTP arrives decrypted, byte for byte');
      t.same(rtcp, [rr], 'and its RTCP');
      t.same(peer.rtp, [back], 'our RTP decrypts with the peer’s keys');
      t.equal(peer.rtcp.length, 1, 'and our RTCP');
      const s = ep.stats();
      t.equal(s.rtpPacketsReceived, 3);
      t.equal(s.rtcpPacketsReceived, 1);
      t.equal(s.rtpPacketsSent, 1);
      t.equal(s.rtcpPacketsSent, 1);
      t.ok(s.rtpBytesSent > back.length, 'bytes out are counted protected');
    });
  }
}

for (const role of ['client', 'server'] as const) {
  t.test(`as DTLS ${role}, the endpoint retransmits a lost flight on its timer`, async (t) => {
    const { mux, peer } = await setup(t);
    const ep = new WebRtcEndpoint({
      mux,
      certificate,
      remote: await peerRemoteParameters(),
      preferredDtlsRole: role,
    });
    t.teardown(() => ep.close());
    // Client: its ClientHello is lost. Server: its first flight (ServerHello…Done) is lost.
    // The peer's own timer is slow (5 s), so only the endpoint's (400 ms) can recover in time.
    peer.loseIncomingDtls = 1;
    await peer.nominate(ep);
    const started = performance.now();
    await within(peer.connect(ep, ['AEAD_AES_128_GCM'], 5000), 4000, 'DTLS after a lost flight');
    if (ep.state !== 'connected') await within(once(ep, 'connected'), 2000, 'connected');
    const took = performance.now() - started;
    t.equal(peer.loseIncomingDtls, 0, 'a flight was lost');
    t.ok(took >= 300 && took < 4000, `recovered by the endpoint's retransmission (${took | 0} ms)`);
    t.equal(ep.state, 'connected');
  });
}

t.test('DTLS application data both ways (the path SCTP will take)', async (t) => {
  const { mux, peer } = await setup(t);
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  t.teardown(() => ep.close());
  t.equal(ep.sendData(Buffer.from('early')), false, 'not before connected');
  await peer.nominate(ep);
  await peer.connect(ep);
  if (ep.state !== 'connected') await once(ep, 'connected');
  peer.dtls!.send(Buffer.from('unheard'));
  for (let i = 0; i < 50 && (ep.stats().drops['dtls-application-data'] ?? 0) === 0; i++) {
    await delay(10);
  }
  t.equal(ep.stats().drops['dtls-application-data'], 1, 'without a listener: dropped, counted');
  const got = once(ep, 'data');
  peer.dtls!.send(Buffer.from('hello endpoint'));
  t.same((await within(got, 2000, 'data'))[0], Buffer.from('hello endpoint'));
  t.ok(ep.sendData(Buffer.from('hello peer')));
  for (let i = 0; i < 50 && peer.data.length === 0; i++) await delay(10);
  t.same(peer.data, [Buffer.from('hello peer')]);
});

t.test('close() sends close_notify, closes the ICE session and is idempotent', async (t) => {
  const { mux, peer } = await setup(t);
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  await peer.nominate(ep);
  await peer.connect(ep);
  const closed: unknown[] = [];
  ep.on('closed', (r) => closed.push(r));
  ep.close();
  ep.close();
  t.same(closed, [{ reason: 'closed' }], 'closed once');
  t.equal(ep.state, 'closed');
  t.equal(mux.sessionCount, 0);
  for (let i = 0; i < 50 && peer.dtlsClosed === undefined; i++) await delay(10);
  t.equal(peer.dtls?.state, 'closed', 'the peer got close_notify');
  t.equal(ep.sendRtp(rtpPacket(1, 1)), false);
  t.equal(ep.stats().sendFailures, 1);
});

t.test('the peer’s close_notify closes the endpoint (dtls-closed)', async (t) => {
  const { mux, peer } = await setup(t);
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  await peer.nominate(ep);
  await peer.connect(ep);
  const closed = once(ep, 'closed');
  peer.dtls!.close();
  const [reason] = await within(closed, 2000, 'closed');
  t.equal(reason.reason, 'dtls-closed');
  t.equal(ep.state, 'closed');
  t.equal(mux.sessionCount, 0);
});

t.test('consent loss (RFC 7675) closes the endpoint', async (t) => {
  const { mux, peer } = await setup(t, { consentTimeoutMs: 800, sweepIntervalMs: 50 });
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  await peer.nominate(ep);
  await peer.connect(ep);
  const [reason] = await within(once(ep, 'closed'), 3000, 'closed');
  t.equal(reason.reason, 'consent-lost');
  t.equal(ep.state, 'closed');
  t.equal(mux.sessionCount, 0);
});

t.test('no nomination within connectTimeoutMs fails the endpoint', async (t) => {
  const { mux } = await setup(t);
  const ep = new WebRtcEndpoint({
    mux,
    certificate,
    remote: await peerRemoteParameters(),
    connectTimeoutMs: 100,
  });
  const [reason] = await within(once(ep, 'closed'), 2000, 'closed');
  t.equal(reason.reason, 'connect-timeout');
  t.equal(ep.state, 'failed');
  t.equal(mux.sessionCount, 0, 'its ICE session is gone');
});

t.test('closing the mux closes its endpoints (ice-closed)', async (t) => {
  const { mux } = await setup(t);
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  const closed = once(ep, 'closed');
  await mux.close();
  t.same((await closed)[0], { reason: 'ice-closed' });
});

t.test('remote parameters set late: DTLS before them is dropped, then it connects', async (t) => {
  const { mux, peer } = await setup(t);
  const ep = new WebRtcEndpoint({ mux, certificate, preferredDtlsRole: 'server' });
  t.teardown(() => ep.close());
  t.equal(ep.localSetup, 'actpass', 'we would offer actpass');
  t.equal(ep.dtlsRole, undefined);
  await peer.nominate(ep);
  t.equal(ep.state, 'connecting', 'nominated: connecting, DTLS waits for the parameters');
  // The peer is DTLS client (we will be passive): its first flight finds no DTLS yet.
  const peerDone = peer.connect({ dtlsRole: 'server', localFingerprint: ep.localFingerprint });
  for (let i = 0; i < 50 && (ep.stats().drops['dtls-no-remote'] ?? 0) === 0; i++) await delay(10);
  t.ok((ep.stats().drops['dtls-no-remote'] ?? 0) >= 1, 'the early ClientHello is dropped');
  const connected = once(ep, 'connected');
  ep.setRemoteParameters(await peerRemoteParameters('active'));
  const again = await peerRemoteParameters('active');
  t.throws(() => ep.setRemoteParameters(again), { code: 'WEBRTC_BAD_OPTION' }, 'only once');
  await within(peerDone, 5000, 'peer DTLS (after its retransmission)');
  await within(connected, 2000, 'connected');
  t.equal(ep.state, 'connected');
});
