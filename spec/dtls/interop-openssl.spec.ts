/**
 * DTLS 1.2 against OpenSSL (`openssl s_server` / `s_client -dtls1_2 -use_srtp …`), a peer
 * nobody here wrote: both roles, every cipher suite OpenSSL offers with an ECDSA certificate
 * and the ECDHE_RSA ones with an RSA certificate, application data both ways, and the
 * exported EXTRACTOR-dtls_srtp material equal byte for byte.
 */
import t from 'tap';
import { generateCertificate, loadCertificate } from '../../lib/dtls/certificate.js';
import { CipherSuiteId } from '../../lib/dtls/cipher-suites.js';
import type { DtlsCloseReason, DtlsConnection } from '../../lib/dtls/connection.js';
import { AlertDescription } from '../../lib/dtls/constants.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import { SrtpProtectionProfile } from '../../lib/dtls/srtp-keys.js';
import { DtlsSocket, DtlsUdpServer } from '../../lib/dtls/udp-adapter.js';
import {
  type OpensslCredentials,
  opensslCredentials,
  startOpensslClient,
  startOpensslServer,
} from '../helpers/openssl-dtls.js';

const ID = CipherSuiteId;
const SUITES: { openssl: string; id: number; cert: 'ec' | 'rsa' }[] = [
  {
    openssl: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    id: ID.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    cert: 'ec',
  },
  {
    openssl: 'ECDHE-ECDSA-AES256-GCM-SHA384',
    id: ID.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    cert: 'ec',
  },
  {
    openssl: 'ECDHE-ECDSA-CHACHA20-POLY1305',
    id: ID.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    cert: 'ec',
  },
  {
    openssl: 'ECDHE-RSA-AES128-GCM-SHA256',
    id: ID.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    cert: 'rsa',
  },
  {
    openssl: 'ECDHE-RSA-AES256-GCM-SHA384',
    id: ID.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    cert: 'rsa',
  },
  {
    openssl: 'ECDHE-RSA-CHACHA20-POLY1305',
    id: ID.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    cert: 'rsa',
  },
];
const EXPORTER = 'EXTRACTOR-dtls_srtp';

const creds: Partial<Record<'ec' | 'rsa', OpensslCredentials>> = {};
t.before(async () => {
  creds.ec = await opensslCredentials('ec');
  creds.rsa = await opensslCredentials('rsa');
});
t.teardown(async () => {
  await creds.ec?.dispose();
  await creds.rsa?.dispose();
});

const nextData = (s: DtlsSocket): Promise<Buffer> =>
  new Promise((resolve) => s.once('data', (d) => resolve(d)));

t.test('our client, OpenSSL server', async (t) => {
  const ours = await generateCertificate();
  for (const suite of SUITES) {
    await t.test(suite.openssl, async (t) => {
      const peer = creds[suite.cert]!;
      const server = await startOpensslServer({ credentials: peer, cipher: suite.openssl });
      t.teardown(() => server.stop());
      const client = await DtlsSocket.connect(
        { address: '127.0.0.1', port: server.port },
        { certificate: ours, remoteFingerprints: [{ algorithm: 'sha-256', value: peer.sha256 }] },
      );
      t.teardown(() => client.close());
      t.equal(client.connection.cipherSuite, suite.id);
      t.equal(await server.cipher(), suite.openssl);
      t.equal(client.connection.srtpProfile, SrtpProtectionProfile.AEAD_AES_128_GCM);
      t.same(client.exportKeyingMaterial(EXPORTER, 60), await server.keyingMaterial());
      t.same(client.connection.remoteCertificate, peer.der);
      const got = nextData(client);
      server.write('from-openssl\n');
      t.equal(String(await got), 'from-openssl\n');
      client.send(Buffer.from('from-rtcd\n'));
      await server.waitFor(/from-rtcd/);
      // OpenSSL verified our certificate as the client one it asked for.
      await server.waitFor(/Client certificate/);
    });
  }
});

t.test('OpenSSL client, our server (stateless cookie exchange first)', async (t) => {
  const ec = await generateCertificate();
  const rsa = loadCertificate(creds.rsa!.certPem, creds.rsa!.keyPem);
  for (const suite of SUITES) {
    await t.test(suite.openssl, async (t) => {
      const peer = creds[suite.cert]!;
      const server = await DtlsUdpServer.listen({
        certificate: suite.cert === 'ec' ? ec : rsa,
        cookieJar: new CookieJar(),
        remoteFingerprints: [{ algorithm: 'sha-256', value: peer.sha256 }],
      });
      t.teardown(() => server.close());
      const connected = new Promise<DtlsConnection>((resolve) =>
        server.once('connect', (c) => resolve(c)),
      );
      server.on('data', (c, d) => c.send(Buffer.from(`echo:${d}`)));
      const client = await startOpensslClient(server.port, {
        credentials: peer,
        cipher: suite.openssl,
      });
      t.teardown(() => client.stop());
      const conn = await connected;
      t.equal(conn.cipherSuite, suite.id);
      t.equal(await client.cipher(), suite.openssl);
      t.same(conn.exportKeyingMaterial(EXPORTER, 60), await client.keyingMaterial());
      t.same(conn.remoteCertificate, peer.der, 'the client certificate was required and received');
      t.equal(server.listener.counters.helloVerifyRequests, 1);
      client.write('ping\n');
      await client.waitFor(/echo:ping/);
    });
  }
});

t.test('SRTP profile: OpenSSL offering only AES128_CM_SHA1_80 gets it', async (t) => {
  const ec = await generateCertificate();
  const server = await DtlsUdpServer.listen({ certificate: ec, cookieJar: new CookieJar() });
  t.teardown(() => server.close());
  const connected = new Promise<DtlsConnection>((resolve) =>
    server.once('connect', (c) => resolve(c)),
  );
  const client = await startOpensslClient(server.port, {
    credentials: creds.ec!,
    srtp: 'SRTP_AES128_CM_SHA1_80',
  });
  t.teardown(() => client.stop());
  const conn = await connected;
  t.equal(conn.srtpProfile, SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80);
  await client.waitFor(/SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80/);
});

t.test('a small MTU fragments our flight and OpenSSL reassembles it', async (t) => {
  const ec = await generateCertificate();
  const server = await startOpensslServer({
    credentials: creds.rsa!,
    cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
  });
  t.teardown(() => server.stop());
  const client = await DtlsSocket.connect(
    { address: '127.0.0.1', port: server.port },
    { certificate: ec, mtu: 300 },
  );
  t.teardown(() => client.close());
  t.same(client.exportKeyingMaterial(EXPORTER, 60), await server.keyingMaterial());
});

t.test('renegotiation is refused both ways (RFC 5746: no_renegotiation)', async (t) => {
  const ec = await generateCertificate();
  // OpenSSL client asks to renegotiate ('R' on s_client's stdin): a ClientHello in epoch 1.
  const server = await DtlsUdpServer.listen({ certificate: ec, cookieJar: new CookieJar() });
  t.teardown(() => server.close());
  const connected = new Promise<DtlsConnection>((resolve) => server.once('connect', resolve));
  const closed = new Promise<DtlsCloseReason>((resolve) =>
    server.once('close', (_c, r) => resolve(r)),
  );
  const client = await startOpensslClient(server.port, { credentials: creds.ec! });
  t.teardown(() => client.stop());
  const conn = await connected;
  await client.keyingMaterial();
  client.write('R\n');
  await client.waitFor(/no renegotiation/);
  t.equal(conn.drops.get('renegotiation-refused'), 1);
  t.match(await closed, { alert: AlertDescription.handshakeFailure, remote: true });
  // OpenSSL server asks with a HelloRequest ('R' on s_server's stdin).
  const opensslServer = await startOpensslServer({ credentials: creds.ec! });
  t.teardown(() => opensslServer.stop());
  const ours = await DtlsSocket.connect(
    { address: '127.0.0.1', port: opensslServer.port },
    { certificate: ec },
  );
  t.teardown(() => ours.close());
  const oursClosed = new Promise<DtlsCloseReason>((resolve) => ours.once('close', resolve));
  opensslServer.write('R\n');
  await opensslServer.waitFor(/no renegotiation/);
  t.equal(ours.connection.drops.get('renegotiation-refused'), 1);
  t.match(await oursClosed, { alert: AlertDescription.handshakeFailure, remote: true });
});

t.test(
  'a client without a certificate is refused: handshake_failure (WebRTC default)',
  async (t) => {
    const ec = await generateCertificate();
    const server = await DtlsUdpServer.listen({ certificate: ec, cookieJar: new CookieJar() });
    t.teardown(() => server.close());
    const closed = new Promise<DtlsCloseReason>((resolve) =>
      server.once('close', (_c, r) => resolve(r)),
    );
    const client = await startOpensslClient(server.port, {
      credentials: creds.ec!,
      noCertificate: true,
    });
    t.teardown(() => client.stop());
    t.match(await closed, {
      error: DtlsErrorCode.badCertificate,
      alert: AlertDescription.handshakeFailure,
      remote: false,
    });
    await client.waitFor(/alert handshake failure/);
  },
);
