import { randomBytes, verify, X509Certificate } from 'node:crypto';
import t, { type Test } from 'tap';
import {
  ContentType,
  DTLS1_0,
  DTLS1_2,
  ExtensionType,
  HandshakeType,
} from '../../lib/dtls/constants.js';
import {
  decodeExtendedMasterSecret,
  decodeKeyShareClientHello,
  decodeSupportedGroups,
  decodeSupportedVersions,
  decodeUseSrtp,
  findExtension,
} from '../../lib/dtls/extensions.js';
import {
  encodeHandshakeFragment,
  type HandshakeMessage,
  readHandshakeFragments,
} from '../../lib/dtls/handshake.js';
import {
  type ClientHello,
  clientHelloWithoutCookie,
  decodeCertificate,
  decodeCertificateRequest,
  decodeClientHello,
  decodeHandshakeBody,
  decodeHelloVerifyRequest,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeHandshakeBody,
  serverKeyExchangeSignedData,
} from '../../lib/dtls/messages/index.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import {
  CHROMIUM_CLIENT_HELLO,
  captureOpensslClientHellos,
  captureOpensslServerFlight,
  checkChromiumClientHello,
  chromiumLikeClientHello,
  handshakeMessages,
  OPENSSL_CLIENT_HELLO,
  OPENSSL_CLIENT_HELLO_WITH_COOKIE,
  OPENSSL_HELLO_VERIFY_REQUEST,
  OPENSSL_SERVER_FLIGHT,
  WERIFT_CLIENT_HELLO,
  webrtcClientHello,
  X25519_MLKEM768,
} from '../helpers/dtls-captures.js';

/**
 * Every layer re-encodes a capture byte for byte: datagram → records → handshake fragments →
 * reassembled messages → decoded bodies. Returns the reassembled messages.
 */
function reencodesExactly(
  t: Test,
  name: string,
  datagrams: readonly Buffer[],
  nextSeq = 0,
): HandshakeMessage[] {
  for (const d of datagrams) {
    const records = [...readRecords(d)];
    t.same(Buffer.concat(records.map(encodeRecord)), d, `${name}: records re-encode`);
    for (const r of records) {
      t.equal(r.type, ContentType.handshake, `${name}: handshake record`);
      const fs = readHandshakeFragments(r.fragment);
      t.ok(fs, `${name}: fragments read`);
      t.same(
        Buffer.concat((fs ?? []).map(encodeHandshakeFragment)),
        r.fragment,
        `${name}: fragments re-encode`,
      );
    }
  }
  const msgs = handshakeMessages(datagrams, nextSeq);
  for (const m of msgs) {
    const decoded = decodeHandshakeBody(m.msgType, m.body);
    t.ok(decoded, `${name}: message type ${m.msgType} decodes`);
    if (decoded)
      t.same(encodeHandshakeBody(decoded), m.body, `${name}: type ${m.msgType} re-encodes`);
  }
  return msgs;
}

function onlyClientHello(
  t: Test,
  name: string,
  datagrams: Buffer[],
  seq = 0,
): { hello: ClientHello; body: Buffer } {
  const msgs = reencodesExactly(t, name, datagrams, seq);
  t.same(
    msgs.map((m) => [m.msgType, m.messageSeq]),
    [[HandshakeType.clientHello, seq]],
    `${name}: one ClientHello`,
  );
  const body = msgs[0]!.body;
  return { hello: decodeClientHello(body)!, body };
}

function checkOpensslClientHello(t: Test, hello: ClientHello): void {
  t.equal(hello.clientVersion, DTLS1_2);
  t.equal(hello.cipherSuites.length, 28);
  t.ok(hello.cipherSuites.includes(0xc02b), 'offers TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  t.same(decodeUseSrtp(findExtension(hello.extensions, ExtensionType.useSrtp)!.data), {
    profiles: [1],
    mki: Buffer.alloc(0),
  });
  t.equal(
    decodeExtendedMasterSecret(
      findExtension(hello.extensions, ExtensionType.extendedMasterSecret)!.data,
    ),
    true,
  );
  t.same(
    decodeSupportedGroups(findExtension(hello.extensions, ExtensionType.supportedGroups)!.data),
    [29, 23, 30, 25, 24],
  );
}

/** Checks a server flight up to ServerHelloDone, including the real ServerKeyExchange signature. */
function checkServerFlight(
  t: Test,
  name: string,
  flight: readonly Buffer[],
  clientRandom: Buffer,
): void {
  const msgs = reencodesExactly(t, name, flight, 1);
  t.same(
    msgs.map((m) => [m.msgType, m.messageSeq]),
    [
      [HandshakeType.serverHello, 1],
      [HandshakeType.certificate, 2],
      [HandshakeType.serverKeyExchange, 3],
      [HandshakeType.certificateRequest, 4],
      [HandshakeType.serverHelloDone, 5],
    ],
  );
  const sh = decodeServerHello(msgs[0]!.body)!;
  t.equal(sh.serverVersion, DTLS1_2);
  t.equal(sh.cipherSuite, 0xc02b);
  t.same(decodeUseSrtp(findExtension(sh.extensions, ExtensionType.useSrtp)!.data)?.profiles, [1]);
  t.ok(findExtension(sh.extensions, ExtensionType.extendedMasterSecret), 'EMS echoed');
  const certs = decodeCertificate(msgs[1]!.body)!.certificates;
  t.equal(certs.length, 1);
  const x509 = new X509Certificate(certs[0]!);
  t.match(x509.subject, /CN=rtcd-dtls-wire/);
  const ske = decodeServerKeyExchange(msgs[2]!.body)!;
  t.equal(ske.namedGroup, 29, 'X25519');
  t.equal(ske.publicKey.length, 32);
  t.equal(ske.signatureScheme, 0x0403);
  const signed = serverKeyExchangeSignedData(clientRandom, sh.random, ske);
  t.equal(
    verify('sha256', signed, x509.publicKey, ske.signature),
    true,
    'OpenSSL signature verifies over our signed bytes',
  );
  const cr = decodeCertificateRequest(msgs[3]!.body)!;
  t.ok(cr.certificateTypes.includes(64), 'ecdsa_sign requested');
  t.ok(cr.signatureSchemes.includes(0x0403));
  t.same(cr.authorities, []);
}

t.test(
  'openssl s_client ClientHellos (captured, two runs) decode and re-encode byte for byte',
  (t) => {
    const { hello } = onlyClientHello(t, 'openssl', [OPENSSL_CLIENT_HELLO]);
    t.equal(
      [...readRecords(OPENSSL_CLIENT_HELLO)][0]!.version,
      DTLS1_0,
      'record version DTLS 1.0 on the first flight',
    );
    t.same(hello.cookie, Buffer.alloc(0));
    checkOpensslClientHello(t, hello);
    const second = onlyClientHello(t, 'openssl+cookie', [OPENSSL_CLIENT_HELLO_WITH_COOKIE], 1);
    t.same(second.hello.cookie, Buffer.alloc(20, 0xcc));
    checkOpensslClientHello(t, second.hello);
    t.end();
  },
);

t.test('werift ClientHello (captured) decodes and re-encodes byte for byte', (t) => {
  const { hello } = onlyClientHello(t, 'werift', [WERIFT_CLIENT_HELLO]);
  t.same(hello.cipherSuites, [0xc02b, 0xc02f]);
  t.same(
    decodeUseSrtp(findExtension(hello.extensions, ExtensionType.useSrtp)!.data)?.profiles,
    [1, 7],
  );
  t.end();
});

t.test(
  'openssl s_server flight (captured): HelloVerifyRequest, then 5 messages over 5 datagrams',
  (t) => {
    const hvr = reencodesExactly(t, 'hvr', [OPENSSL_HELLO_VERIFY_REQUEST]);
    t.equal(hvr[0]!.msgType, HandshakeType.helloVerifyRequest);
    t.equal(decodeHelloVerifyRequest(hvr[0]!.body)!.cookie.length, 20);
    t.ok(
      OPENSSL_SERVER_FLIGHT.some((d) => [...readRecords(d)].length > 1),
      'several records in a datagram',
    );
    checkServerFlight(t, 'openssl server', OPENSSL_SERVER_FLIGHT, webrtcClientHello().random);
    t.end();
  },
);

t.test('Chromium-like ClientHello: DTLS 1.3 offer, 1,216-byte PQ key share, two fragments', (t) => {
  const { hello, body, datagrams } = chromiumLikeClientHello();
  t.equal(datagrams.length, 2, 'two datagrams');
  t.ok(
    datagrams.every((d) => d.length <= 1200),
    'each fits a 1,200-byte MTU',
  );
  for (const order of [
    datagrams,
    [...datagrams].reverse(),
    [datagrams[1]!, datagrams[0]!, datagrams[1]!],
  ]) {
    const msgs = handshakeMessages(order);
    t.equal(msgs.length, 1, 'reassembled once whatever the order');
    t.same(msgs[0]!.body, body);
  }
  const decoded = decodeClientHello(body)!;
  t.same(decoded, hello);
  t.same(
    decodeSupportedVersions(
      findExtension(decoded.extensions, ExtensionType.supportedVersions)!.data,
    ),
    [0xfefc, 0xfefd],
  );
  const shares = decodeKeyShareClientHello(
    findExtension(decoded.extensions, ExtensionType.keyShare)!.data,
  )!;
  t.same(
    shares.map((s) => [s.group, s.keyExchange.length]),
    [
      [X25519_MLKEM768, 1216],
      [29, 32],
    ],
  );
  t.same(
    decodeSupportedGroups(findExtension(decoded.extensions, ExtensionType.supportedGroups)!.data),
    [X25519_MLKEM768, 29, 23, 24],
  );
  t.ok(findExtension(decoded.extensions, 0x3a3a), 'unknown extension kept raw');
  reencodesExactly(t, 'chromium-like', datagrams);
  t.end();
});

t.test(
  'Chromium 156 ClientHello (captured): two fragments, DTLS 1.3 and PQ offers skipped',
  (t) => {
    t.equal(CHROMIUM_CLIENT_HELLO.length, 2);
    const { hello, body } = onlyClientHello(t, 'chromium', [...CHROMIUM_CLIENT_HELLO]);
    t.equal(body.length, 1413);
    const reversed = handshakeMessages([...CHROMIUM_CLIENT_HELLO].reverse());
    t.same(reversed[0]?.body, body, 'the fragments reassemble in either order');
    checkChromiumClientHello(t, hello);
    t.end();
  },
);

t.test('live: openssl s_client hellos, before and after our HelloVerifyRequest', async (t) => {
  const cookie = randomBytes(32);
  const { first, second } = await captureOpensslClientHellos(cookie);
  const a = onlyClientHello(t, 'live first', [first]);
  const b = onlyClientHello(t, 'live second', [second], 1);
  checkOpensslClientHello(t, a.hello);
  t.same(b.hello.cookie, cookie, 'echoes our cookie');
  t.same(clientHelloWithoutCookie(b.body), clientHelloWithoutCookie(a.body));
});

t.test('live: openssl s_server flight answering our ClientHello', async (t) => {
  const { helloVerify, flight } = await captureOpensslServerFlight();
  t.equal(handshakeMessages(helloVerify)[0]?.msgType, HandshakeType.helloVerifyRequest);
  checkServerFlight(t, 'live server', flight, webrtcClientHello().random);
});
