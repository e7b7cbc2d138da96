/**
 * Bad input to a WebRtcEndpoint from its nominated peer (and from strangers): garbage in
 * every RFC 7983 class, forged and replayed SRTP/SRTCP, DTLS junk after the handshake. Each
 * is dropped and counted; nothing throws, the state stays `connected`, and genuine packets
 * sent afterwards still arrive. A listener that throws cannot break the endpoint either.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { encodeRtcp } from '../../lib/rtcp/index.js';
import { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import { prng } from '../helpers/prng.js';
import { delay } from '../helpers/raw-stun.js';
import { NodePeer, peerRemoteParameters, rtpPacket } from './node-peer.js';

const certificate = await generateCertificate();

async function connected(t: Test) {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const peer = await NodePeer.open(mux.address);
  t.teardown(() => peer.close());
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  t.teardown(() => ep.close());
  const rtp: Buffer[] = [];
  ep.on('rtp', (p) => rtp.push(Buffer.from(p)));
  await peer.nominate(ep);
  await peer.connect(ep);
  if (ep.state !== 'connected') await once(ep, 'connected');
  return { mux, peer, ep, rtp };
}

/** Waits until `cond()` or ~1 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await delay(10);
}

/** After the bad input, a genuine packet still gets through. */
async function stillWorks(t: Test, peer: NodePeer, ep: WebRtcEndpoint, rtp: Buffer[], seq: number) {
  const n = rtp.length;
  const good = rtpPacket(0x77, seq);
  peer.sendRtp(good);
  await until(() => rtp.length > n);
  t.same(rtp.at(-1), good, 'a genuine packet still arrives');
  t.equal(ep.state, 'connected');
}

t.test('forged SRTP (a valid header, random tag) is dropped as auth-failed', async (t) => {
  const { peer, ep, rtp } = await connected(t);
  for (let i = 0; i < 20; i++) {
    const forged = Buffer.concat([rtpPacket(0x77, 100 + i, 96, 40), randomBytes(16)]);
    peer.send(forged);
  }
  await until(() => (ep.stats().drops['srtp-auth-failed'] ?? 0) >= 20);
  t.equal(ep.stats().drops['srtp-auth-failed'], 20);
  t.equal(rtp.length, 0, 'nothing forged is delivered');
  await stillWorks(t, peer, ep, rtp, 100);
});

t.test('a tampered genuine packet fails auth; its replay is refused', async (t) => {
  const { peer, ep, rtp } = await connected(t);
  const genuine = peer.srtp!.protectRtp(rtpPacket(0x77, 5));
  if (typeof genuine === 'string') throw new Error(genuine);
  const tampered = Buffer.from(genuine);
  tampered[20]! ^= 0x01;
  peer.send(tampered);
  peer.send(genuine);
  peer.send(genuine);
  await until(() => (ep.stats().drops['srtp-replayed'] ?? 0) >= 1);
  const d = ep.stats().drops;
  t.equal(d['srtp-auth-failed'], 1, 'the flipped bit fails authentication');
  t.equal(d['srtp-replayed'], 1, 'the second copy is a replay');
  t.equal(rtp.length, 1, 'the genuine packet is delivered once');
  await stillWorks(t, peer, ep, rtp, 6);
});

t.test('forged SRTCP is dropped as srtcp-auth-failed', async (t) => {
  const { peer, ep, rtp } = await connected(t);
  const rtcp: Buffer[] = [];
  ep.on('rtcp', (p) => rtcp.push(p));
  const rr = encodeRtcp([{ kind: 'rr', ssrc: 0x77, reports: [] }]);
  peer.send(Buffer.concat([rr, Buffer.from([0x80, 0, 0, 1]), randomBytes(16)]));
  await until(() => (ep.stats().drops['srtcp-auth-failed'] ?? 0) >= 1);
  t.equal(ep.stats().drops['srtcp-auth-failed'], 1);
  t.equal(rtcp.length, 0);
  await stillWorks(t, peer, ep, rtp, 1);
});

t.test('random datagrams of every class from the peer: dropped, counted, no crash', async (t) => {
  const { mux, peer, ep, rtp } = await connected(t);
  const rand = prng(7);
  const dtlsBefore = ep.stats().dtlsPacketsReceived; // the peer's handshake flights
  let sent = 0;
  for (let i = 0; i < 600; i++) {
    const len = 1 + Math.floor(rand() * 300);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    // Spread the first byte over STUN, DTLS, TURN channels, RTP/RTCP and the unused ranges.
    b[0] = [1, 22, 23, 21, 64, 0x80, 0x90, 200, 255, 10][i % 10]!;
    if (b[0] >= 128 && len > 1 && i % 20 === 5) b[1] = 200; // RTCP packet types
    peer.send(b);
    sent++;
  }
  await delay(300);
  const s = ep.stats();
  const dropped = Object.values(s.drops).reduce((a, b) => a + (b ?? 0), 0);
  const dtlsDropped = Object.values(s.dtlsDrops).reduce((a, b) => a + b, 0);
  t.ok(dropped >= 100, `${dropped} SRTP/SRTCP drops counted by reason: ${JSON.stringify(s.drops)}`);
  // Random bytes after a DTLS first byte rarely form a record header: lib/dtls ignores a
  // datagram with none (uncounted), and drops what parses (counted in dtlsDrops).
  t.comment(`${dtlsDropped} DTLS records dropped: ${JSON.stringify(s.dtlsDrops)}`);
  t.equal(s.dtlsPacketsReceived - dtlsBefore, 180, 'all 180 DTLS-class datagrams were taken');
  t.ok((mux.counters().drops['unknown-class'] ?? 0) >= 100, 'the mux drops the unknown classes');
  t.equal(rtp.length, 0, `none of ${sent} random datagrams is delivered`);
  await stillWorks(t, peer, ep, rtp, 1);
});

t.test('DTLS junk after the handshake: dropped records, the connection lives', async (t) => {
  const { peer, ep, rtp } = await connected(t);
  const junk = (type: number, epoch: number): Buffer => {
    const body = randomBytes(48);
    const h = Buffer.from([type, 0xfe, 0xfd, 0, epoch, 0, 0, 0, 0, 0, 9, 0, body.length]);
    return Buffer.concat([h, body]);
  };
  peer.send(junk(23, 1)); // application data that does not authenticate
  peer.send(junk(21, 1)); // an alert that does not authenticate
  peer.send(junk(22, 0)); // an unauthenticated handshake fragment
  peer.send(junk(22, 7)); // an epoch that does not exist
  peer.send(Buffer.from([23, 0xfe])); // a truncated header
  await delay(200);
  const d = ep.stats().dtlsDrops;
  t.ok(
    (d['bad-record-mac'] ?? 0) >= 2,
    `forged epoch-1 records fail their MAC: ${JSON.stringify(d)}`,
  );
  t.ok((d['unknown-epoch'] ?? 0) >= 1, 'an unknown epoch is dropped');
  t.equal(ep.state, 'connected');
  await stillWorks(t, peer, ep, rtp, 1);
});

t.test('SRTP and DTLS from an address that was not nominated never reach it', async (t) => {
  const { mux, peer, ep, rtp } = await connected(t);
  const stranger = createSocket('udp4');
  stranger.bind(0, '127.0.0.1');
  await once(stranger, 'listening');
  t.teardown(() => stranger.close());
  const genuine = peer.srtp!.protectRtp(rtpPacket(0x77, 40));
  if (typeof genuine === 'string') throw new Error(genuine);
  stranger.send(genuine, mux.address.port, '127.0.0.1');
  stranger.send(Buffer.from([22, 0xfe, 0xfd, 0, 0]), mux.address.port, '127.0.0.1');
  await until(() => (mux.counters().drops['unknown-remote'] ?? 0) >= 2);
  t.equal(mux.counters().drops['unknown-remote'], 2);
  t.equal(rtp.length, 0);
  await stillWorks(t, peer, ep, rtp, 41);
});

t.test('SRTP before the handshake keyed SRTP is dropped as srtp-not-keyed', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const peer = await NodePeer.open(mux.address);
  t.teardown(() => peer.close());
  const ep = new WebRtcEndpoint({ mux, certificate, remote: await peerRemoteParameters() });
  t.teardown(() => ep.close());
  await peer.nominate(ep);
  peer.send(rtpPacket(1, 1));
  await until(() => (ep.stats().drops['srtp-not-keyed'] ?? 0) >= 1);
  t.equal(ep.stats().drops['srtp-not-keyed'], 1);
  t.equal(ep.state, 'connecting');
});

t.test('a listener that throws does not break delivery', async (t) => {
  const { peer, ep, rtp } = await connected(t);
  let threw = 0;
  ep.on('rtp', () => {
    threw++;
    throw new Error('listener bug');
  });
  peer.sendRtp(rtpPacket(0x77, 1));
  await until(() => threw >= 1);
  t.equal(threw, 1);
  await stillWorks(t, peer, ep, rtp, 2);
  t.equal(threw, 2, 'the next packet reaches every listener again');
});

t.test('options are validated once, naming the option, and leave no session', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const remote = await peerRemoteParameters();
  const cases: [string, Record<string, unknown>][] = [
    ['replayWindow', { replayWindow: 0 }],
    ['maxSrtpStreams', { maxSrtpStreams: 1.5 }],
    ['connectTimeoutMs', { connectTimeoutMs: -1 }],
    ['dtlsMtu', { dtlsMtu: 100 }],
    ['srtpProfiles', { srtpProfiles: [] }],
    ['srtpProfiles', { srtpProfiles: ['NULL_NULL'] }],
    ['preferredDtlsRole', { preferredDtlsRole: 'both' }],
    ['remote.setup', { remote: { ...remote, setup: 'holdconn' } }],
    ['remote.fingerprints', { remote: { ...remote, fingerprints: [] } }],
    ['remote.iceUfrag', { remote: { ...remote, iceUfrag: '' } }],
    ['certificate', { certificate: undefined }],
  ];
  for (const [option, bad] of cases) {
    t.throws(
      () => new WebRtcEndpoint(Object.assign({ mux, certificate }, bad)),
      { code: 'WEBRTC_BAD_OPTION', option },
      `${option}: ${JSON.stringify(bad).slice(0, 60)}`,
    );
  }
  t.equal(mux.sessionCount, 0, 'no ICE session was left behind');
});
