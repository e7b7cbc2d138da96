/**
 * RFC 6347 §4.2.1 stateless cookies in front of the server: a spoofed ClientHello flood
 * allocates no per-client state, only a hello with a valid cookie creates a connection, and
 * a Chromium-style hello (DTLS 1.3 offer, post-quantum key share, two fragments in two
 * datagrams) still gets a DTLS 1.2 ServerHello.
 */
import t from 'tap';
import { CipherSuiteId } from '../../lib/dtls/cipher-suites.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import {
  ContentType,
  DTLS1_0,
  DTLS1_2,
  DTLS1_3,
  ExtensionType,
  HandshakeType,
} from '../../lib/dtls/constants.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { NamedGroup } from '../../lib/dtls/ecdhe.js';
import {
  encodeEcPointFormats,
  encodeExtendedMasterSecret,
  encodeKeyShareClientHello,
  encodeRenegotiationInfo,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeSupportedVersions,
  encodeUseSrtp,
  findExtension,
} from '../../lib/dtls/extensions.js';
import { encodeHandshakeFragment, readHandshakeFragments } from '../../lib/dtls/handshake.js';
import { encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { decodeHelloVerifyRequest } from '../../lib/dtls/messages/hello-verify-request.js';
import { decodeServerHello } from '../../lib/dtls/messages/server-hello.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import { DtlsServerListener } from '../../lib/dtls/server-listener.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from '../../lib/dtls/signature.js';
import { testCertificates } from '../helpers/dtls-pair.js';
import { Random } from '../helpers/prng.js';

interface Out {
  datagram: Buffer;
  address: string;
  port: number;
}

async function listener(opts: { maxConnections?: number } = {}) {
  const [, cert] = await testCertificates();
  const out: Out[] = [];
  const l = new DtlsServerListener(
    { certificate: cert!, cookieJar: new CookieJar(), requireClientCertificate: false, ...opts },
    { send: (datagram, address, port) => out.push({ datagram, address, port }) },
  );
  return { l, out };
}

function chromeLikeHello(random: Buffer, cookie: Buffer): Buffer {
  return encodeClientHello({
    clientVersion: DTLS1_2,
    random,
    sessionId: Buffer.alloc(0),
    cookie,
    cipherSuites: [0x0a0a, CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0x1301, 0xc02f],
    compressionMethods: [0],
    extensions: [
      { type: 0x1a1a, data: Buffer.alloc(0) }, // GREASE
      encodeExtendedMasterSecret(),
      encodeRenegotiationInfo(),
      encodeSupportedGroups([0x11ec, NamedGroup.x25519, NamedGroup.secp256r1]),
      encodeEcPointFormats([0]),
      encodeSignatureAlgorithms(SUPPORTED_SIGNATURE_SCHEMES),
      encodeUseSrtp({ profiles: [7, 1], mki: Buffer.alloc(0) }),
      encodeSupportedVersions([DTLS1_3, DTLS1_2]),
      // X25519MLKEM768: 1216 bytes of key share make the hello span two fragments.
      encodeKeyShareClientHello([{ group: 0x11ec, keyExchange: Buffer.alloc(1216, 0x42) }]),
    ],
  });
}

/** The hello as two fragments, each in its own datagram (record seqs seq, seq + 1). */
function splitHello(body: Buffer, messageSeq: number, recordSeq: number): Buffer[] {
  const cut = 700;
  return [
    [0, cut],
    [cut, body.length],
  ].map(([from, to], i) =>
    encodeRecord({
      type: ContentType.handshake,
      version: DTLS1_0,
      epoch: 0,
      sequenceNumber: recordSeq + i,
      fragment: encodeHandshakeFragment({
        msgType: HandshakeType.clientHello,
        length: body.length,
        messageSeq,
        fragmentOffset: from!,
        fragmentLength: to! - from!,
        body: body.subarray(from!, to!),
      }),
    }),
  );
}

function handshakeBodies(datagram: Buffer) {
  const out = [];
  for (const r of readRecords(datagram)) {
    if (r.type !== ContentType.handshake) continue;
    for (const f of readHandshakeFragments(r.fragment) ?? []) out.push({ record: r, fragment: f });
  }
  return out;
}

t.test('a flood of spoofed ClientHellos allocates no per-client state', async (t) => {
  const { l, out } = await listener();
  const random = new Random(7);
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const address = `10.${random.int(256)}.${random.int(256)}.${random.int(256)}`;
    const body = chromeLikeHello(random.bytes(32), Buffer.alloc(0));
    const [first] = splitHello(body, 0, i);
    l.receive(first!, address, 1024 + random.int(60000), i);
  }
  t.equal(l.size, 0, 'no connection exists');
  t.equal(l.counters.helloVerifyRequests, n, 'each got a HelloVerifyRequest');
  t.equal(l.nextTimeout(), undefined, 'no timer either');
  t.equal(out.length, n);
  // Forged cookies are refused the same way.
  const body = chromeLikeHello(Buffer.alloc(32, 1), Buffer.alloc(20, 9));
  l.receive(splitHello(body, 1, 1)[0]!, '10.0.0.1', 5000, 0);
  t.equal(l.size, 0);
  t.equal(l.counters.badCookies, 1);
});

t.test('HelloVerifyRequest: record and message sequence numbers echo the hello', async (t) => {
  const { l, out } = await listener();
  const body = chromeLikeHello(Buffer.alloc(32, 3), Buffer.alloc(0));
  l.receive(splitHello(body, 0, 5)[0]!, '192.0.2.1', 4000, 0);
  const [hvr] = handshakeBodies(out[0]!.datagram);
  t.equal(hvr?.fragment.msgType, HandshakeType.helloVerifyRequest);
  t.equal(hvr?.record.sequenceNumber, 5, 'RFC 6347 §4.2.1: record seq of the hello');
  t.equal(hvr?.fragment.messageSeq, 0);
  const v = decodeHelloVerifyRequest(hvr!.fragment.body);
  t.equal(v?.serverVersion, DTLS1_0);
  t.equal(v?.cookie.length, 20);
  t.same([out[0]!.address, out[0]!.port], ['192.0.2.1', 4000]);
});

t.test(
  'a fragmented Chromium-style hello with a valid cookie gets a DTLS 1.2 ServerHello',
  async (t) => {
    const { l, out } = await listener();
    const random = Buffer.alloc(32, 0x5a);
    const from = ['198.51.100.7', 50000] as const;
    for (const d of splitHello(chromeLikeHello(random, Buffer.alloc(0)), 0, 0))
      l.receive(d, ...from, 0);
    t.equal(out.length, 1, 'one HelloVerifyRequest (the second fragment is ignored statelessly)');
    const cookie = decodeHelloVerifyRequest(
      handshakeBodies(out[0]!.datagram)[0]!.fragment.body,
    )!.cookie;
    // Same hello but another port: the cookie does not transfer.
    const second = splitHello(chromeLikeHello(random, Buffer.from(cookie)), 1, 2);
    l.receive(second[0]!, from[0], from[1] + 1, 10);
    t.equal(l.size, 0, 'cookie bound to the source port');
    l.receive(second[0]!, ...from, 10);
    t.equal(l.size, 1, 'the first fragment with a valid cookie creates the connection');
    const conn = l.connection(...from);
    t.ok(conn instanceof DtlsConnection);
    l.receive(second[1]!, ...from, 11);
    const flight = out.slice(2).flatMap((o) => handshakeBodies(o.datagram));
    const sh = flight.find((f) => f.fragment.msgType === HandshakeType.serverHello);
    t.ok(sh, 'flight 4 sent');
    t.equal(sh?.fragment.messageSeq, 1, 'RFC 6347 §4.2.2: ServerHello follows the hello seq');
    t.ok(sh!.record.sequenceNumber >= 2, 'record numbers continue after the hello');
    const hello = decodeServerHello(sh!.fragment.body)!;
    t.equal(hello.serverVersion, DTLS1_2);
    t.equal(hello.cipherSuite, CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    t.equal(findExtension(hello.extensions, ExtensionType.supportedVersions), undefined);
    t.equal(findExtension(hello.extensions, ExtensionType.keyShare), undefined);
    t.ok(findExtension(hello.extensions, ExtensionType.extendedMasterSecret));
    t.same(
      findExtension(hello.extensions, ExtensionType.useSrtp)?.data,
      Buffer.from([0, 2, 0, 7, 0]),
    );
  },
);

/** Runs one of our clients from 127.0.0.1:`port` against the listener until quiet. */
async function connectThrough(l: DtlsServerListener, out: Out[], port: number) {
  const [cert] = await testCertificates();
  let connected = false;
  const client = new DtlsConnection(
    { role: 'client', certificate: cert! },
    { send: (d) => l.receive(d, '127.0.0.1', port, 0), connected: () => (connected = true) },
  );
  client.start(0);
  for (let i = 0; i < 10 && out.length > 0; i++) {
    for (const o of out.splice(0)) if (o.port === port) client.receive(o.datagram, 0);
  }
  return { client, connected: () => connected };
}

t.test('our client completes a handshake through the listener', async (t) => {
  const { l, out } = await listener();
  const { client, connected } = await connectThrough(l, out, 9);
  t.ok(connected());
  t.equal(l.connection('127.0.0.1', 9)?.state, 'connected');
  t.equal(l.counters.helloVerifyRequests, 1);
  t.equal(l.counters.accepted, 1);
  client.close();
  t.equal(l.size, 0, 'close_notify removes the connection');
});

t.test('RFC 6347 §4.2.8: a restarted client on the same port gets a new association', async (t) => {
  const { l, out } = await listener();
  const first = await connectThrough(l, out, 7);
  t.ok(first.connected());
  const old = l.connection('127.0.0.1', 7);
  // The client lost its state: a new DtlsConnection from the same address and port.
  const second = await connectThrough(l, out, 7);
  t.ok(second.connected(), 'the new handshake completes');
  t.equal(old?.state, 'closed', 'the old association was closed');
  t.not(l.connection('127.0.0.1', 7), old);
  t.equal(l.counters.restarts, 1);
  t.equal(l.size, 1);
});

t.test('maxConnections bounds the connections held', async (t) => {
  const { l, out } = await listener({ maxConnections: 1 });
  t.ok((await connectThrough(l, out, 1)).connected());
  t.notOk((await connectThrough(l, out, 2)).connected());
  t.equal(l.size, 1);
  t.ok(l.counters.ignored >= 1);
  const [cert] = await testCertificates();
  t.throws(
    () =>
      new DtlsServerListener(
        { certificate: cert!, maxConnections: 0, cookieJar: new CookieJar() },
        { send: () => {} },
      ),
    TypeError,
  );
});
