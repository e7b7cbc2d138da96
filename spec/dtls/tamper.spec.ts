/**
 * Authentication done right (the point of issue 4): a man in the middle that re-signs the
 * ServerKeyExchange, a server or client that presents a certificate it has no key for, a
 * corrupted Finished, and a certificate whose fingerprint is not the SDP's each abort the
 * handshake with the right alert on both sides. werift, for contrast, completes the
 * handshake with an impostor that relays a real certificate.
 */
import t from 'tap';
import { type DtlsCertificate, generateCertificate } from '../../lib/dtls/certificate.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { AlertDescription, ContentType, DTLS1_2, HandshakeType } from '../../lib/dtls/constants.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { generateKeyShare } from '../../lib/dtls/ecdhe.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import type { FlightMessage } from '../../lib/dtls/flight.js';
import { encodeHandshake, readHandshakeFragments } from '../../lib/dtls/handshake.js';
import { decodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { decodeServerHello, encodeServerHello } from '../../lib/dtls/messages/server-hello.js';
import {
  decodeServerKeyExchange,
  encodeServerKeyExchange,
  serverKeyExchangeSignedData,
} from '../../lib/dtls/messages/server-key-exchange.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import { sign } from '../../lib/dtls/signature.js';
import { DtlsSocket, DtlsUdpServer } from '../../lib/dtls/udp-adapter.js';
import { dtlsPair, testCertificates } from '../helpers/dtls-pair.js';
import { opensslCredentials } from '../helpers/openssl-dtls.js';
import { startWeriftClient, startWeriftServer } from '../helpers/werift-dtls.js';

/** The victim's certificate with the attacker's key: what a relaying MITM can present. */
function impostor(victim: DtlsCertificate, attacker: DtlsCertificate): DtlsCertificate {
  return {
    der: victim.der,
    privateKey: attacker.privateKey,
    publicKey: attacker.publicKey,
    fingerprint: (a) => victim.fingerprint(a),
  };
}

let attacker: DtlsCertificate;
t.before(async () => {
  attacker = await generateCertificate({ commonName: 'mallory' });
});

t.test('a MITM re-signing ServerKeyExchange with its own key: decrypt_error', async (t) => {
  let clientRandom: Buffer | undefined;
  let serverRandom: Buffer | undefined;
  let rewritten = 0;
  const pair = await dtlsPair({
    tap: (from, datagram) => {
      const out: Buffer[] = [];
      for (const r of readRecords(datagram)) {
        let fragment = r.fragment;
        for (const f of readHandshakeFragments(r.fragment) ?? []) {
          if (f.msgType === HandshakeType.clientHello)
            clientRandom = decodeClientHello(f.body)?.random;
          if (f.msgType === HandshakeType.serverHello)
            serverRandom = decodeServerHello(f.body)?.random;
          if (from === 'server' && f.msgType === HandshakeType.serverKeyExchange) {
            // Mallory substitutes her own ECDHE key and signs it with her own key.
            const ske = decodeServerKeyExchange(f.body)!;
            const share = generateKeyShare(ske.namedGroup);
            const params = { namedGroup: ske.namedGroup, publicKey: share.publicKey };
            const signed = serverKeyExchangeSignedData(clientRandom!, serverRandom!, params);
            const body = encodeServerKeyExchange({
              ...ske,
              publicKey: share.publicKey,
              signature: sign(ske.signatureScheme, attacker.privateKey, signed),
            });
            fragment = encodeHandshake(f.msgType, f.messageSeq, body);
            rewritten++;
          }
        }
        out.push(encodeRecord({ ...r, fragment }));
      }
      return [Buffer.concat(out)];
    },
  });
  pair.run();
  t.equal(rewritten, 1);
  t.equal(pair.client.state, 'failed');
  t.match(pair.ends.client.closed, {
    error: DtlsErrorCode.badServerKeyExchangeSignature,
    alert: AlertDescription.decryptError,
  });
  t.match(pair.ends.server.closed, {
    error: DtlsErrorCode.alertReceived,
    alert: AlertDescription.decryptError,
    remote: true,
  });
});

t.test('a server relaying the real certificate without its key: decrypt_error', async (t) => {
  const [, real] = await testCertificates();
  const pair = await dtlsPair({ serverCertificate: impostor(real!, attacker) });
  pair.run();
  t.match(pair.ends.client.closed, {
    error: DtlsErrorCode.badServerKeyExchangeSignature,
    alert: AlertDescription.decryptError,
  });
  t.equal(pair.server.state, 'failed');
});

t.test(
  'a client relaying the real certificate: CertificateVerify fails, decrypt_error',
  async (t) => {
    const [real] = await testCertificates();
    const pair = await dtlsPair({ clientCertificate: impostor(real!, attacker) });
    pair.run();
    t.equal(pair.server.state, 'failed');
    t.match(pair.ends.server.closed, {
      error: DtlsErrorCode.badCertificateVerify,
      alert: AlertDescription.decryptError,
    });
    t.match(pair.ends.client.closed, { alert: AlertDescription.decryptError, remote: true });
  },
);

/** A peer that flips one bit of its own Finished before sealing it. */
class CorruptFinished extends DtlsConnection {
  override sendFlight(messages: FlightMessage[], expectsReply: boolean, now: number): void {
    const bad = messages.map((m) => {
      if (m.kind !== 'handshake' || m.msgType !== HandshakeType.finished) return m;
      const body = Buffer.from(m.body);
      body[0]! ^= 0x01;
      return { ...m, body };
    });
    super.sendFlight(bad, expectsReply, now);
  }
}

t.test('a corrupted client Finished: the server aborts with decrypt_error', async (t) => {
  const pair = await dtlsPair({ clientClass: CorruptFinished });
  pair.run();
  t.equal(pair.server.state, 'failed');
  t.match(pair.ends.server.closed, {
    error: DtlsErrorCode.badFinished,
    alert: AlertDescription.decryptError,
  });
  t.equal(pair.client.state, 'failed', 'the client hears the alert');
});

t.test('a corrupted server Finished: the client aborts with decrypt_error', async (t) => {
  const pair = await dtlsPair({ serverClass: CorruptFinished });
  pair.run();
  t.equal(pair.client.state, 'failed');
  t.match(pair.ends.client.closed, {
    error: DtlsErrorCode.badFinished,
    alert: AlertDescription.decryptError,
  });
});

t.test('a certificate that is not the SDP fingerprint: bad_certificate', async (t) => {
  const other = attacker.fingerprint('sha-256');
  let pair = await dtlsPair({
    client: { remoteFingerprints: [{ algorithm: 'sha-256', value: other }] },
  });
  pair.run();
  t.match(pair.ends.client.closed, {
    error: DtlsErrorCode.fingerprintMismatch,
    alert: AlertDescription.badCertificate,
  });
  t.match(pair.ends.server.closed, { alert: AlertDescription.badCertificate, remote: true });
  pair = await dtlsPair({
    server: { remoteFingerprints: [{ algorithm: 'sha-256', value: other }] },
  });
  pair.run();
  t.match(pair.ends.server.closed, {
    error: DtlsErrorCode.fingerprintMismatch,
    alert: AlertDescription.badCertificate,
  });
  t.equal(pair.client.state, 'failed');
});

t.test('sha-1, sha-384 and sha-512 fingerprints match when the SDP uses them', async (t) => {
  const [a, b] = await testCertificates();
  for (const algorithm of ['sha-1', 'sha-384', 'sha-512'] as const) {
    const pair = await dtlsPair({
      client: {
        remoteFingerprints: [{ algorithm, value: b!.fingerprint(algorithm).toLowerCase() }],
      },
      server: {
        remoteFingerprints: [
          { algorithm: 'sha-256', value: other256() },
          { algorithm, value: a!.fingerprint(algorithm) },
        ],
      },
    });
    pair.run();
    t.equal(pair.client.state, 'connected', algorithm);
    t.equal(pair.server.state, 'connected', `${algorithm}: any listed fingerprint may match`);
  }
  function other256(): string {
    return attacker.fingerprint('sha-256');
  }
});

t.test('an epoch 1 record with a bad tag is dropped, not fatal (RFC 6347 §4.1.2.7)', async (t) => {
  const pair = await dtlsPair();
  pair.run();
  const forged = encodeRecord({
    type: ContentType.applicationData,
    version: DTLS1_2,
    epoch: 1,
    sequenceNumber: 1000,
    fragment: Buffer.alloc(40, 1),
  });
  pair.inject('server', forged);
  pair.run();
  t.equal(pair.server.state, 'connected');
  t.equal(pair.server.drops.get('bad-record-mac'), 1);
  t.same(pair.ends.server.received, []);
});

t.test('werift, for contrast, accepts an impostor ours refuses', async (t) => {
  const creds = await opensslCredentials('ec');
  t.teardown(() => creds.dispose());
  const [real] = await testCertificates();
  // An impostor server: the real server's certificate, Mallory's key.
  const server = await DtlsUdpServer.listen({
    certificate: impostor(real!, attacker),
    cookieJar: new CookieJar(),
  });
  t.teardown(() => server.close());
  const werift = await startWeriftClient(server.port, {
    certPem: creds.certPem,
    keyPem: creds.keyPem,
  });
  t.teardown(() => werift.close());
  await werift.connected;
  t.pass('werift completed a handshake whose ServerKeyExchange the certificate never signed');
  const ours = await DtlsSocket.create(
    {
      certificate: await generateCertificate(),
      remoteFingerprints: [{ algorithm: 'sha-256', value: real!.fingerprint() }],
    },
    { address: '127.0.0.1', port: server.port },
  );
  await t.rejects(ours.handshake(), { code: DtlsErrorCode.badServerKeyExchangeSignature });
  // And a werift server takes a client certificate whose CertificateVerify is Mallory's.
  const weriftServer = await startWeriftServer({ certPem: creds.certPem, keyPem: creds.keyPem });
  t.teardown(() => weriftServer.close());
  const client = await DtlsSocket.connect(
    { address: '127.0.0.1', port: weriftServer.port },
    { certificate: impostor(real!, attacker) },
  );
  t.teardown(() => client.close());
  await weriftServer.connected;
  t.same(weriftServer.dtls.remoteCertificate, real!.der, 'werift believes it talks to the victim');
});

/** A server whose ServerHello carries an extension the client never offered. */
class UnsolicitedExtension extends DtlsConnection {
  override sendFlight(messages: FlightMessage[], expectsReply: boolean, now: number): void {
    const out = messages.map((m) => {
      if (m.kind !== 'handshake' || m.msgType !== HandshakeType.serverHello) return m;
      const sh = decodeServerHello(m.body)!;
      const body = encodeServerHello({
        ...sh,
        extensions: [...sh.extensions, { type: 0x1234, data: Buffer.alloc(0) }],
      });
      return { ...m, body };
    });
    super.sendFlight(out, expectsReply, now);
  }
}

t.test(
  'RFC 5246 §7.4.1.4: an unsolicited ServerHello extension gets unsupported_extension',
  async (t) => {
    const pair = await dtlsPair({ serverClass: UnsolicitedExtension });
    pair.run();
    t.match(pair.ends.client.closed, {
      error: DtlsErrorCode.unsupportedExtension,
      alert: AlertDescription.unsupportedExtension,
    });
    t.match(pair.ends.server.closed, {
      alert: AlertDescription.unsupportedExtension,
      remote: true,
    });
  },
);
