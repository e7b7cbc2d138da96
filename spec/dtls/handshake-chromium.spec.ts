/**
 * Chromium (libwebrtc, BoringSSL) as the DTLS client: a data-channel offer from a real page,
 * answered as an ICE-lite peer on 127.0.0.1 (Binding requests answered with lib/stun), then
 * our DtlsConnection in the server role. Chromium offers DTLS 1.3 and a post-quantum key
 * share in a ClientHello that spans two fragments; we negotiate DTLS 1.2 with it, both sides
 * check each other's fingerprint, and Chromium's RTCDtlsTransport reports 'connected'.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { Browser } from 'playwright-core';
import t, { type Test } from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { CipherSuiteId } from '../../lib/dtls/cipher-suites.js';
import { type DtlsCloseReason, DtlsConnection } from '../../lib/dtls/connection.js';
import { ContentType, DTLS1_3, ExtensionType, HandshakeType } from '../../lib/dtls/constants.js';
import { decodeSupportedVersions, findExtension } from '../../lib/dtls/extensions.js';
import { type HandshakeFragment, readHandshakeFragments } from '../../lib/dtls/handshake.js';
import { decodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { isDtlsDatagram, readRecords } from '../../lib/dtls/record.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { shortTermKey } from '../../lib/stun/integrity.js';
import { decodeStunMessage, isStunMessage } from '../../lib/stun/message.js';
import { launchChromium, servePage } from '../helpers/browser.js';

let browser: Browser;
t.before(async () => {
  browser = await launchChromium(); // one Chromium for the file
});
t.teardown(() => browser.close());

async function handshakeWithChromium(t: Test, role: 'client' | 'server'): Promise<DtlsConnection> {
  const site = await servePage();
  t.teardown(() => site.close());
  const page = await browser.newPage();
  await page.goto(site.url);
  const offer = await page.evaluate<string>(`(async () => {
    window.pc = new RTCPeerConnection();
    window.pc.createDataChannel('probe');
    await window.pc.setLocalDescription(await window.pc.createOffer());
    return window.pc.localDescription.sdp;
  })()`);
  const theirUfrag = /a=ice-ufrag:(\S+)/.exec(offer)![1]!;
  const fingerprint = /a=fingerprint:(\S+) (\S+)/.exec(offer)!;
  const mid = /a=mid:(\S+)/.exec(offer)![1]!;

  const certificate = await generateCertificate();
  const ufrag = randomBytes(4).toString('hex');
  const pwd = randomBytes(16).toString('hex');
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const port = socket.address().port;

  let remote: { address: string; port: number } | undefined;
  const closed: DtlsCloseReason[] = [];
  const dtlsDatagrams: number[] = [];
  let connected!: () => void;
  const connectedP = new Promise<void>((resolve) => {
    connected = resolve;
  });
  const conn = new DtlsConnection(
    {
      role,
      certificate,
      remoteFingerprints: [
        { algorithm: fingerprint[1]!.toLowerCase() as 'sha-256', value: fingerprint[2]! },
      ],
    },
    {
      send: (d) => {
        if (remote !== undefined) socket.send(d, remote.port, remote.address);
      },
      connected: () => connected(),
      closed: (r) => closed.push(r),
    },
  );
  socket.on('message', (msg, rinfo) => {
    if (isStunMessage(msg)) {
      const r = decodeStunMessage(msg);
      if (!r.ok || r.message.method !== StunMethod.binding) return;
      if (r.message.messageClass !== StunClass.request) return;
      const user = r.message.value(AttributeType.USERNAME)?.toString();
      if (user !== `${ufrag}:${theirUfrag}`) return;
      if (remote === undefined) {
        remote = { address: rinfo.address, port: rinfo.port };
        if (role === 'client') setImmediate(() => conn.start(performance.now()));
      }
      const reply = StunMessageBuilder.responseTo(r.message, StunClass.success)
        .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, { family: 4, ...remote })
        .addMessageIntegrity(shortTermKey(pwd))
        .addFingerprint()
        .toBuffer();
      socket.send(reply, rinfo.port, rinfo.address);
    } else if (msg.length > 0 && isDtlsDatagram(msg[0]!)) {
      dtlsDatagrams.push(msg.length);
      collectHello(msg);
      conn.receive(msg, performance.now());
    }
  });
  // Chromium's first ClientHello, reassembled from its fragments, to show what it offered.
  const helloFragments: HandshakeFragment[] = [];
  const collectHello = (msg: Buffer): void => {
    for (const r of readRecords(msg)) {
      if (r.epoch !== 0 || r.type !== ContentType.handshake) continue;
      for (const f of readHandshakeFragments(r.fragment) ?? []) {
        if (f.msgType === HandshakeType.clientHello && f.messageSeq === 0) {
          helloFragments.push({ ...f, body: Buffer.from(f.body) });
        }
      }
    }
  };
  const tick = setInterval(() => {
    const due = conn.nextTimeout();
    if (due !== undefined && due <= performance.now()) conn.handleTimeout(performance.now());
  }, 20);
  t.teardown(() => clearInterval(tick));

  const answer = [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'a=ice-lite',
    `m=application ${port} UDP/DTLS/SCTP webrtc-datachannel`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${mid}`,
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    `a=fingerprint:sha-256 ${certificate.fingerprint('sha-256')}`,
    `a=setup:${role === 'server' ? 'passive' : 'active'}`,
    'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
  await page.evaluate(
    `window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} })`,
  );

  await Promise.race([
    connectedP,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no DTLS: ${JSON.stringify(closed)}`)), 20_000),
    ),
  ]);
  t.equal(conn.state, 'connected');
  t.equal(conn.cipherSuite, CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
  t.ok(conn.remoteCertificate, 'Chromium sent its certificate and it matched the offer');
  if (role === 'server') {
    const first = helloFragments[0]!;
    t.ok(first.fragmentLength < first.length, `the ClientHello (${first.length} B) was fragmented`);
    const body = Buffer.alloc(first.length);
    for (const f of helloFragments) f.body.copy(body, f.fragmentOffset);
    const hello = decodeClientHello(body);
    const versions = findExtension(hello?.extensions ?? [], ExtensionType.supportedVersions);
    t.ok(
      versions !== undefined && decodeSupportedVersions(versions.data)?.includes(DTLS1_3),
      'it offered DTLS 1.3',
    );
  }
  const state = await page.evaluate<string | undefined>(`(async () => {
    for (let i = 0; i < 100; i++) {
      const s = window.pc.sctp?.transport.state;
      if (s === 'connected' || s === 'failed') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    return window.pc.sctp?.transport.state;
  })()`);
  t.equal(state, 'connected', "Chromium's RTCDtlsTransport is connected");
  return conn;
}

t.test('Chromium as DTLS client against our server (ICE-lite answer)', async (t) => {
  await handshakeWithChromium(t, 'server');
});

t.test('our client against Chromium as DTLS server (a=setup:active)', async (t) => {
  await handshakeWithChromium(t, 'client');
});
