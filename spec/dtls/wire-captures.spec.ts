import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { DTLS1_0, DTLS1_2, ExtensionType, HandshakeType } from '../../lib/dtls/constants.js';
import {
  decodeExtendedMasterSecret,
  decodeKeyShareClientHello,
  decodeSupportedGroups,
  decodeSupportedVersions,
  decodeUseSrtp,
  findExtension,
} from '../../lib/dtls/extensions.js';
import {
  type ClientHello,
  clientHelloWithoutCookie,
  decodeClientHello,
  decodeHelloVerifyRequest,
} from '../../lib/dtls/messages/index.js';
import { readRecords } from '../../lib/dtls/record.js';
import {
  CHROMIUM_CLIENT_HELLO,
  CHROMIUM_SERVER_FLIGHT,
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
import { checkServerFlight, reencodesExactly } from '../helpers/dtls-wire-checks.js';

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
    checkServerFlight(t, 'openssl server', OPENSSL_SERVER_FLIGHT, {
      clientRandom: webrtcClientHello().random,
      firstSeq: 1,
      subject: /CN=rtcd-dtls-wire/,
    });
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

t.test(
  'Chromium 156 server flight (captured): one datagram, five messages, signature verifies',
  (t) => {
    t.equal(CHROMIUM_SERVER_FLIGHT.length, 1);
    t.equal([...readRecords(CHROMIUM_SERVER_FLIGHT[0]!)].length, 5, 'five records in one datagram');
    checkServerFlight(t, 'chromium server', CHROMIUM_SERVER_FLIGHT, {
      clientRandom: webrtcClientHello().random,
      firstSeq: 0,
      subject: /CN=WebRTC/,
    });
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
  checkServerFlight(t, 'live openssl server', flight, {
    clientRandom: webrtcClientHello().random,
    firstSeq: 1,
    subject: /CN=rtcd-dtls-wire/,
  });
});
