/**
 * RFC 6347 / RFC 5246 handshakes between our own client and server, sans-IO under a fake
 * clock: every cipher suite and group, use_srtp selection, application data, the exporter,
 * close_notify, fatal alerts, the retransmission timer and the required extensions.
 */
import t from 'tap';
import { loadCertificate } from '../../lib/dtls/certificate.js';
import { CIPHER_SUITES, CipherSuiteId } from '../../lib/dtls/cipher-suites.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import {
  AlertDescription,
  AlertLevel,
  ContentType,
  DTLS1_2,
  ExtensionType,
  HandshakeType,
} from '../../lib/dtls/constants.js';
import { NamedGroup } from '../../lib/dtls/ecdhe.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import {
  encodeExtendedMasterSecret,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
} from '../../lib/dtls/extensions.js';
import { encodeHandshake } from '../../lib/dtls/handshake.js';
import { encodeAlert } from '../../lib/dtls/messages/alert.js';
import { encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from '../../lib/dtls/signature.js';
import { SrtpProtectionProfile } from '../../lib/dtls/srtp-keys.js';
import { dtlsPair, testCertificates } from '../helpers/dtls-pair.js';
import { opensslCredentials } from '../helpers/openssl-dtls.js';

const EXPORTER = 'EXTRACTOR-dtls_srtp';

t.test('a full handshake authenticates both sides and carries data both ways', async (t) => {
  const pair = await dtlsPair();
  pair.run();
  t.equal(pair.client.state, 'connected');
  t.equal(pair.server.state, 'connected');
  t.equal(pair.client.cipherSuite, CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
  t.equal(pair.client.srtpProfile, SrtpProtectionProfile.AEAD_AES_128_GCM);
  t.equal(pair.server.srtpProfile, SrtpProtectionProfile.AEAD_AES_128_GCM);
  t.same(pair.client.remoteCertificate, pair.serverCertificate.der);
  t.same(pair.server.remoteCertificate, pair.clientCertificate.der);
  const a = pair.client.exportKeyingMaterial(EXPORTER, 60);
  t.same(a, pair.server.exportKeyingMaterial(EXPORTER, 60));
  t.equal(a.length, 60);
  t.notSame(
    pair.client.exportKeyingMaterial(EXPORTER, 60, Buffer.from('ctx')),
    a,
    'a context changes the material',
  );
  pair.client.send(Buffer.from('to server'));
  pair.server.send(Buffer.from('to client'));
  pair.run();
  t.same(pair.ends.server.received.map(String), ['to server']);
  t.same(pair.ends.client.received.map(String), ['to client']);
  t.same([...pair.client.drops], [], 'the client dropped nothing');
  t.same([...pair.server.drops], [], 'the server dropped nothing');
});

t.test(
  'RFC 6347 §4.2.4: every message is in one flight per side (4 datagrams, no loss)',
  async (t) => {
    const pair = await dtlsPair();
    pair.run();
    t.equal(pair.ends.client.sent.length, 2, 'ClientHello, then flight 5');
    t.equal(pair.ends.server.sent.length, 2, 'flight 4, then flight 6');
    for (const { datagram } of [...pair.ends.client.sent, ...pair.ends.server.sent]) {
      t.ok(datagram.length <= 1200, 'within the default MTU');
    }
  },
);

t.test('each ECDSA cipher suite with each group', async (t) => {
  const ecdsa = CIPHER_SUITES.filter((s) => s.keyExchange === 'ecdhe_ecdsa');
  for (const suite of ecdsa) {
    for (const group of [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1]) {
      const pair = await dtlsPair({ client: { cipherSuites: [suite.id], groups: [group] } });
      pair.run();
      t.equal(pair.server.cipherSuite, suite.id, `${suite.name} / group ${group}`);
      pair.server.send(Buffer.from('x'));
      pair.run();
      t.same(pair.ends.client.received.map(String), ['x']);
      t.same(
        pair.client.exportKeyingMaterial(EXPORTER, 56),
        pair.server.exportKeyingMaterial(EXPORTER, 56),
      );
    }
  }
});

t.test('each ECDHE_RSA suite with an RSA server certificate', async (t) => {
  const creds = await opensslCredentials('rsa');
  t.teardown(() => creds.dispose());
  const rsa = loadCertificate(creds.certPem, creds.keyPem);
  for (const suite of CIPHER_SUITES.filter((s) => s.keyExchange === 'ecdhe_rsa')) {
    const pair = await dtlsPair({
      serverCertificate: rsa,
      client: { cipherSuites: [suite.id] },
    });
    pair.run();
    t.equal(pair.client.state, 'connected', suite.name);
    t.equal(pair.client.cipherSuite, suite.id);
  }
  // An RSA client certificate signs CertificateVerify with RSA-PSS.
  const pair = await dtlsPair({ clientCertificate: rsa });
  pair.run();
  t.equal(pair.server.state, 'connected', 'RSA client certificate accepted');
});

t.test('RFC 5764 §4.1.1: the server picks the SRTP profile by its own preference', async (t) => {
  const { AES128_CM_HMAC_SHA1_80: cm80, AEAD_AES_128_GCM: gcm } = SrtpProtectionProfile;
  let pair = await dtlsPair({
    client: { srtpProfiles: [gcm, cm80] },
    server: { srtpProfiles: [cm80, gcm] },
  });
  pair.run();
  t.equal(pair.client.srtpProfile, cm80);
  pair = await dtlsPair({ client: { srtpProfiles: [cm80] }, server: { srtpProfiles: [gcm] } });
  pair.run();
  t.equal(pair.client.state, 'connected', 'no common profile: DTLS still connects');
  t.equal(pair.client.srtpProfile, undefined);
  t.equal(pair.server.srtpProfile, undefined);
});

t.test('the client certificate can be optional on the server', async (t) => {
  const pair = await dtlsPair({ server: { requireClientCertificate: false } });
  pair.run();
  t.equal(pair.server.state, 'connected');
  t.equal(pair.server.remoteCertificate, undefined);
});

t.test('close_notify both ways (RFC 5246 §7.2.1)', async (t) => {
  const pair = await dtlsPair();
  pair.run();
  pair.client.close();
  pair.run();
  t.equal(pair.client.state, 'closed');
  t.equal(pair.server.state, 'closed');
  t.same(pair.ends.client.closed, {});
  t.same(pair.ends.server.closed, { alert: AlertDescription.closeNotify, remote: true });
  t.throws(() => pair.client.send(Buffer.from('late')), { code: DtlsErrorCode.notConnected });
  pair.client.close(); // idempotent
});

t.test('a fatal alert from the peer fails the connection', async (t) => {
  const pair = await dtlsPair({ server: { requireClientCertificate: false } });
  pair.run();
  // The server's epoch 1 keys are unknown to us: forge nothing, use an epoch 0 alert while
  // connecting instead, which is the only kind an outsider can send.
  const fresh = await dtlsPair({ tap: (from, d) => (from === 'server' ? [] : [d]) });
  fresh.run(10);
  fresh.inject(
    'client',
    encodeRecord({
      type: ContentType.alert,
      version: DTLS1_2,
      epoch: 0,
      sequenceNumber: 9,
      fragment: encodeAlert({
        level: AlertLevel.fatal,
        description: AlertDescription.handshakeFailure,
      }),
    }),
  );
  fresh.run(10);
  t.equal(fresh.client.state, 'failed');
  t.match(fresh.ends.client.closed, {
    alert: AlertDescription.handshakeFailure,
    error: DtlsErrorCode.alertReceived,
    remote: true,
  });
  // Once epoch 1 is in use, an unauthenticated epoch 0 alert is ignored.
  pair.inject(
    'client',
    encodeRecord({
      type: ContentType.alert,
      version: DTLS1_2,
      epoch: 0,
      sequenceNumber: 99,
      fragment: encodeAlert({
        level: AlertLevel.fatal,
        description: AlertDescription.handshakeFailure,
      }),
    }),
  );
  pair.run();
  t.equal(pair.client.state, 'connected');
  t.equal(pair.client.drops.get('stale-alert'), 1);
});

t.test('RFC 6347 §4.2.4.1: the timer starts at 400 ms and doubles, then gives up', async (t) => {
  const pair = await dtlsPair({
    tap: (from, d) => (from === 'client' ? [] : [d]),
    client: { maxRetransmits: 4 },
  });
  pair.run();
  t.same(
    pair.ends.client.sent.map((s) => s.at),
    [0, 400, 1200, 2800, 6000],
    'ClientHello at 0 then after 400, 800, 1600, 3200 ms',
  );
  t.equal(pair.client.state, 'failed');
  t.match(pair.ends.client.closed, { error: DtlsErrorCode.handshakeTimeout });
  t.equal(pair.client.nextTimeout(), undefined);
});

t.test('the initial timeout is configurable', async (t) => {
  const pair = await dtlsPair({
    tap: (from, d) => (from === 'client' ? [] : [d]),
    client: { maxRetransmits: 2, initialRetransmitMs: 100 },
  });
  pair.run();
  t.same(
    pair.ends.client.sent.map((s) => s.at),
    [0, 100, 300],
  );
});

t.test('a lost flight 6 is retransmitted when the client repeats flight 5', async (t) => {
  let dropped = 0;
  const pair = await dtlsPair({
    tap: (from, d) => {
      // drop the server's first CCS+Finished datagram
      if (from === 'server' && d[0] === ContentType.changeCipherSpec && dropped === 0) {
        dropped++;
        return [];
      }
      return [d];
    },
  });
  pair.run();
  t.equal(dropped, 1);
  t.equal(pair.client.state, 'connected');
  t.equal(pair.ends.server.sent.length, 3, 'flight 6 sent twice');
});

function helloWithout(extType: number | undefined): Buffer {
  const extensions = [
    encodeExtendedMasterSecret(),
    encodeSupportedGroups([NamedGroup.x25519]),
    encodeSignatureAlgorithms(SUPPORTED_SIGNATURE_SCHEMES),
  ].filter((e) => e.type !== extType);
  const body = encodeClientHello({
    clientVersion: DTLS1_2,
    random: Buffer.alloc(32, 7),
    sessionId: Buffer.alloc(0),
    cookie: Buffer.alloc(0),
    cipherSuites: [CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
    compressionMethods: [0],
    extensions,
  });
  return encodeRecord({
    type: ContentType.handshake,
    version: DTLS1_2,
    epoch: 0,
    sequenceNumber: 0,
    fragment: encodeHandshake(HandshakeType.clientHello, 0, body),
  });
}

async function serverAnswer(datagram: Buffer) {
  const [, cert] = await testCertificates();
  const sent: Buffer[] = [];
  let closed: unknown;
  const server = new DtlsConnection(
    { role: 'server', certificate: cert! },
    { send: (d) => sent.push(d), closed: (r) => (closed = r) },
  );
  server.receive(datagram, 0);
  return { server, sent, closed };
}

t.test(
  'RFC 7627: a ClientHello without extended_master_secret gets handshake_failure',
  async (t) => {
    const { server, sent, closed } = await serverAnswer(
      helloWithout(ExtensionType.extendedMasterSecret),
    );
    t.equal(server.state, 'failed');
    t.match(closed, {
      error: DtlsErrorCode.noExtendedMasterSecret,
      alert: AlertDescription.handshakeFailure,
    });
    const [record] = [...readRecords(sent[0]!)];
    t.equal(record?.type, ContentType.alert);
    t.same(record?.fragment, Buffer.from([AlertLevel.fatal, AlertDescription.handshakeFailure]));
    const ok = await serverAnswer(helloWithout(undefined));
    t.equal(ok.server.state, 'connecting', 'the same hello with EMS is answered');
    t.ok(ok.sent.length >= 1);
  },
);

t.test('a ClientHello with no common cipher suite gets handshake_failure', async (t) => {
  const pair = await dtlsPair({
    client: { cipherSuites: [CipherSuiteId.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] },
  });
  pair.run();
  t.match(pair.ends.server.closed, { error: DtlsErrorCode.noCommonParameters, alert: 40 });
  t.match(pair.ends.client.closed, { error: DtlsErrorCode.alertReceived, alert: 40 });
});

t.test('options are validated at construction', async (t) => {
  const [cert] = await testCertificates();
  const sink = { send: () => {} };
  t.throws(
    () => new DtlsConnection({ role: 'x' as 'client', certificate: cert! }, sink),
    TypeError,
  );
  t.throws(
    () => new DtlsConnection({ role: 'client', certificate: cert!, mtu: 10 }, sink),
    TypeError,
  );
  t.throws(
    () => new DtlsConnection({ role: 'client', certificate: cert!, cipherSuites: [0x1301] }, sink),
    TypeError,
  );
  t.throws(
    () => new DtlsConnection({ role: 'client', certificate: cert!, groups: [25] }, sink),
    TypeError,
  );
});

t.test('by default a silent peer fails the handshake 51 s after the first flight', async (t) => {
  const pair = await dtlsPair({ tap: () => [] });
  pair.run();
  t.equal(pair.ends.client.sent.length, 7, 'the first flight and 6 retransmissions');
  t.equal(pair.now, 50_800);
  t.match(pair.ends.client.closed, { error: DtlsErrorCode.handshakeTimeout });
});

t.test(
  'RFC 6347 §4.2.1: a client answers a repeated HelloVerifyRequest, up to a limit',
  async (t) => {
    const [cert] = await testCertificates();
    const sent: Buffer[] = [];
    let closed: unknown;
    const client = new DtlsConnection(
      { role: 'client', certificate: cert! },
      { send: (d) => sent.push(d), closed: (r) => (closed = r) },
    );
    client.start(0);
    const hvr = (seq: number): Buffer =>
      encodeRecord({
        type: ContentType.handshake,
        version: 0xfeff,
        epoch: 0,
        sequenceNumber: seq,
        fragment: encodeHandshake(
          HandshakeType.helloVerifyRequest,
          seq,
          Buffer.concat([Buffer.from([0xfe, 0xff, 4]), Buffer.alloc(4, seq + 1)]),
        ),
      });
    for (let i = 0; i < 3; i++) client.receive(hvr(i), 1);
    t.equal(sent.length, 4, 'a ClientHello, then one per HelloVerifyRequest');
    const last = [...readRecords(sent[3]!)][0]!;
    t.equal(last.fragment.readUInt16BE(4), 3, 'message_seq counts up');
    t.equal(client.state, 'connecting');
    client.receive(hvr(3), 1);
    t.equal(client.state, 'failed', 'a fourth is refused');
    t.match(closed, { error: DtlsErrorCode.unexpectedMessage });
  },
);
