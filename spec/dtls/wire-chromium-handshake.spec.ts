import t from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { AlertDescription } from '../../lib/dtls/constants.js';
import { launchChromium } from '../helpers/browser.js';
import {
  CHROMIUM_LOOPBACK_ARG,
  type Peer,
  withChromium,
} from '../helpers/dtls-chromium-capture.js';

/**
 * Our DtlsConnection completes a real DTLS 1.2 handshake with Chromium 156 in both roles,
 * over a bare UDP socket that answers Chromium's ICE as a lite peer, with fingerprints
 * checked both ways (ours in the answer SDP, Chromium's from its offer). Chromium's side is
 * judged by its RTCDtlsTransport reaching 'connected'. No SCTP follows, so the data channel
 * itself never opens.
 */
const browser = await launchChromium([CHROMIUM_LOOPBACK_ARG]);
t.teardown(() => browser.close());
const certificate = await generateCertificate();

function offeredFingerprint(sdp: string): { algorithm: 'sha-256'; value: string } {
  const m = /a=fingerprint:sha-256 ([0-9A-F:]+)/i.exec(sdp);
  if (!m) throw new Error('no sha-256 fingerprint in the offer');
  return { algorithm: 'sha-256', value: m[1]! };
}

for (const role of ['server', 'client'] as const) {
  t.test(`our ${role} handshakes with Chromium (DTLS 1.2, fingerprints checked)`, async (t) => {
    let conn: DtlsConnection | undefined;
    let peer: Peer | undefined;
    const failures: string[] = [];
    const tick = setInterval(() => {
      const due = conn?.nextTimeout();
      if (conn && due !== undefined && Date.now() >= due) conn.handleTimeout(Date.now());
    }, 20);
    t.teardown(() => clearInterval(tick));
    const dtlsState = await withChromium(browser, {
      setup: role === 'server' ? 'passive' : 'active',
      fingerprint: certificate.fingerprint('sha-256'),
      timeoutMs: 20_000,
      onOffer: (sdp) => {
        conn = new DtlsConnection(
          { role, certificate, remoteFingerprints: [offeredFingerprint(sdp)] },
          {
            send: (d) => peer?.send(d),
            closed: (r) => failures.push(JSON.stringify(r)),
          },
        );
      },
      onChecked: (p) => {
        peer = p;
        if (role === 'client') conn!.start(Date.now());
      },
      onDtls: (d, p) => {
        peer = p;
        conn!.receive(d, Date.now());
        return conn!.state === 'connected' || conn!.state === 'failed' ? conn!.state : undefined;
      },
      finish: async (tab, state) => {
        if (state !== 'connected') return;
        // Chromium's DTLS transport state, polled for up to 5 s after ours connected.
        const chromium = await tab.evaluate<string>(`(async () => {
          const transport = window.pc.sctp && window.pc.sctp.transport;
          for (let i = 0; i < 100; i++) {
            if (transport && transport.state !== 'new' && transport.state !== 'connecting') break;
            await new Promise((r) => setTimeout(r, 50));
          }
          return transport ? transport.state : 'no-transport';
        })()`);
        t.equal(chromium, 'connected', "Chromium's RTCDtlsTransport is connected");
      },
    });
    t.equal(dtlsState, 'connected', `our ${role} connected`);
    t.same(failures, [], 'no alert either way');
    t.ok(conn!.remoteCertificate, 'Chromium certificate received');
    t.ok(conn!.srtpProfile !== undefined, `SRTP profile negotiated: ${conn!.srtpProfile}`);
    t.equal(conn!.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60).length, 60);
  });
}

t.test(
  'a fingerprint that does not match Chromium’s certificate fails with bad_certificate',
  async (t) => {
    let conn: DtlsConnection | undefined;
    let peer: Peer | undefined;
    const reasons: { alert?: number; error?: string }[] = [];
    const wrong = { algorithm: 'sha-256' as const, value: certificate.fingerprint('sha-256') };
    const state = await withChromium(browser, {
      setup: 'passive',
      fingerprint: certificate.fingerprint('sha-256'),
      onOffer: () => {
        conn = new DtlsConnection(
          { role: 'server', certificate, remoteFingerprints: [wrong] },
          { send: (d) => peer?.send(d), closed: (r) => reasons.push(r) },
        );
      },
      onDtls: (d, p) => {
        peer = p;
        conn!.receive(d, Date.now());
        return conn!.state === 'connected' || conn!.state === 'failed' ? conn!.state : undefined;
      },
    });
    t.equal(state, 'failed');
    t.equal(reasons[0]?.alert, AlertDescription.badCertificate);
  },
);
