/**
 * DTLS 1.2 against werift 0.24 (the pure-TypeScript WebRTC stack) in both roles: handshake,
 * application data both ways, and the same exported SRTP keying material on both sides.
 */
import t from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { CipherSuiteId } from '../../lib/dtls/cipher-suites.js';
import type { DtlsConnection } from '../../lib/dtls/connection.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { SrtpProtectionProfile } from '../../lib/dtls/srtp-keys.js';
import { DtlsSocket, DtlsUdpServer } from '../../lib/dtls/udp-adapter.js';
import { type OpensslCredentials, opensslCredentials } from '../helpers/openssl-dtls.js';
import { startWeriftClient, startWeriftServer } from '../helpers/werift-dtls.js';

const EXPORTER = 'EXTRACTOR-dtls_srtp';
let creds: OpensslCredentials;
t.before(async () => {
  creds = await opensslCredentials('ec');
});
t.teardown(() => creds.dispose());

t.test('our client, werift server', async (t) => {
  const werift = await startWeriftServer({ certPem: creds.certPem, keyPem: creds.keyPem });
  t.teardown(() => werift.close());
  const client = await DtlsSocket.connect(
    { address: '127.0.0.1', port: werift.port },
    {
      certificate: await generateCertificate(),
      remoteFingerprints: [{ algorithm: 'sha-256', value: creds.sha256 }],
    },
  );
  t.teardown(() => client.close());
  await werift.connected;
  t.equal(client.connection.cipherSuite, CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
  t.equal(client.connection.srtpProfile, SrtpProtectionProfile.AEAD_AES_128_GCM);
  t.same(client.exportKeyingMaterial(EXPORTER, 60), werift.exportKeyingMaterial(EXPORTER, 60));
  const got = new Promise<Buffer>((resolve) => client.once('data', resolve));
  await werift.send(Buffer.from('from werift'));
  t.equal(String(await got), 'from werift');
  client.send(Buffer.from('from rtcd'));
  t.equal(String(await werift.nextData()), 'from rtcd');
});

t.test('werift client, our server', async (t) => {
  const server = await DtlsUdpServer.listen({
    certificate: await generateCertificate(),
    cookieJar: new CookieJar(),
    remoteFingerprints: [{ algorithm: 'sha-256', value: creds.sha256 }],
  });
  t.teardown(() => server.close());
  const connected = new Promise<DtlsConnection>((resolve) => server.once('connect', resolve));
  server.on('data', (c, d) => c.send(Buffer.from(`echo:${d}`)));
  const werift = await startWeriftClient(server.port, {
    certPem: creds.certPem,
    keyPem: creds.keyPem,
    srtpProfiles: [1, 7],
  });
  t.teardown(() => werift.close());
  const conn = await connected;
  await werift.connected;
  t.equal(conn.srtpProfile, SrtpProtectionProfile.AEAD_AES_128_GCM, 'our preference wins');
  t.same(conn.remoteCertificate, creds.der);
  t.same(conn.exportKeyingMaterial(EXPORTER, 60), werift.exportKeyingMaterial(EXPORTER, 60));
  await werift.send(Buffer.from('ping'));
  t.equal(String(await werift.nextData()), 'echo:ping');
});
