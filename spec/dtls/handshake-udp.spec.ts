/**
 * The UDP adapter: DtlsSocket in both roles over real sockets on 127.0.0.1 (a server socket
 * serves the first peer that speaks), close_notify, and handshake failures as rejections.
 */
import t from 'tap';
import type { DtlsCloseReason } from '../../lib/dtls/connection.js';
import { AlertDescription } from '../../lib/dtls/constants.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import { DtlsSocket } from '../../lib/dtls/udp-adapter.js';
import { testCertificates } from '../helpers/dtls-pair.js';

t.test('DtlsSocket server and client: data both ways, then close_notify', async (t) => {
  const [a, b] = await testCertificates();
  const server = await DtlsSocket.create({
    role: 'server',
    certificate: b!,
    remoteFingerprints: [{ algorithm: 'sha-256', value: a!.fingerprint() }],
  });
  const serverConnected = new Promise<void>((resolve) => server.once('connect', resolve));
  server.on('data', (d) => server.send(Buffer.concat([Buffer.from('echo:'), d])));
  const serverClosed = new Promise<DtlsCloseReason>((resolve) => server.once('close', resolve));
  const client = await DtlsSocket.connect(
    { address: '127.0.0.1', port: server.port },
    { certificate: a!, remoteFingerprints: [{ algorithm: 'sha-256', value: b!.fingerprint() }] },
  );
  await serverConnected;
  t.same(
    client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60),
    server.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60),
  );
  const echoed = new Promise<Buffer>((resolve) => client.once('data', resolve));
  client.send(Buffer.from('hi'));
  t.equal(String(await echoed), 'echo:hi');
  await client.handshake(); // already connected: resolves at once
  client.close();
  t.match(await serverClosed, { alert: AlertDescription.closeNotify, remote: true });
  t.equal(server.connection.state, 'closed');
  client.close(); // idempotent
});

t.test('a failed handshake rejects with the DtlsError', async (t) => {
  const [a, b] = await testCertificates();
  const server = await DtlsSocket.create({ role: 'server', certificate: b! });
  t.teardown(() => server.close());
  await t.rejects(
    DtlsSocket.connect(
      { address: '127.0.0.1', port: server.port },
      { certificate: a!, remoteFingerprints: [{ algorithm: 'sha-256', value: a!.fingerprint() }] },
    ),
    {
      name: 'DtlsError',
      code: DtlsErrorCode.fingerprintMismatch,
      alert: AlertDescription.badCertificate,
    },
  );
  const early = await DtlsSocket.create(
    { certificate: a! },
    { address: '127.0.0.1', port: server.port },
  );
  t.throws(() => early.send(Buffer.from('x')), { code: DtlsErrorCode.notConnected });
  early.close();
});

t.test('an unanswered client gives up with handshake_timeout', async (t) => {
  const [a] = await testCertificates();
  const silent = await DtlsSocket.create({ role: 'server', certificate: a! }); // never started
  silent.socket.removeAllListeners('message');
  t.teardown(() => silent.close());
  await t.rejects(
    DtlsSocket.connect(
      { address: '127.0.0.1', port: silent.port },
      { certificate: a!, initialRetransmitMs: 20, maxRetransmits: 2 },
    ),
    { code: DtlsErrorCode.handshakeTimeout },
  );
});
