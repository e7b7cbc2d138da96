/**
 * Real DTLS 1.2 handshake flights for the dtls-wire specs and fuzzers, and live capture from
 * OpenSSL. The hex fixtures were captured on 127.0.0.1 with the functions below (and, for
 * werift, its DtlsClient pointed at a bare UDP socket): whole datagrams, records included.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
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
  decodeRenegotiationInfo,
  decodeSupportedGroups,
  decodeSupportedVersions,
  decodeUseSrtp,
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
import {
  encodeHandshake,
  fragmentHandshake,
  type HandshakeMessage,
  readHandshakeFragments,
} from '../../lib/dtls/handshake.js';
import { type ClientHello, encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { encodeHelloVerifyRequest } from '../../lib/dtls/messages/hello-verify-request.js';
import { HandshakeReassembler } from '../../lib/dtls/reassembler.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * `openssl s_client -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80` (OpenSSL 3.0): the first
 * ClientHello, record version DTLS 1.0, 28 cipher suites, use_srtp, EMS, no cookie.
 */
export const OPENSSL_CLIENT_HELLO = hex(`
16feff000000000000000000c9010000bd00000000000000bdfefd2977236e427477e1b9e28f02a31763710e4e
2e9d00515fcd9b2ea04f76c9157800000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0
270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100005b000b000403000102000a000c
000a001d0017001e0019001800230000000e000500020001000016000000170000000d002a0028040305030603
080708080809080a080b080408050806040105010601030303010302040205020602`);

/** werift 0.24 DtlsClient (srtpProfiles [1, 7], EMS): its first ClientHello. */
export const WERIFT_CLIENT_HELLO = hex(`
16fefd00000000000000010062010000560000000000000056fefd6b0b03c74e8d73dd7326e2510386e3bbb98a
9907099d58a4f47174e399cd114f00000004c02bc02f01000028000e000700040001000700000a00060004001d
0017000d000600040401040300170000ff01000100`);

/**
 * The ClientHello `openssl s_client` sent after our HelloVerifyRequest with a 20-byte cookie of
 * 0xcc: message_seq 1, record sequence 1, same random.
 */
export const OPENSSL_CLIENT_HELLO_WITH_COOKIE = hex(`
16feff000000000000000100dd010000d100010000000000d1fefd35890d2abb0af8bd7775253695d1ca6d82f3
13e3ed5d22056345f95e39187c150014cccccccccccccccccccccccccccccccccccccccc0038c02cc030009fcc
a9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035
002f00ff0100005b000b000403000102000a000c000a001d0017001e0019001800230000000e00050002000100
0016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303
010302040205020602`);

/** `openssl s_server -dtls1_2 … -verify 1` answering `webrtcClientHello()`: HelloVerifyRequest. */
export const OPENSSL_HELLO_VERIFY_REQUEST = hex(`
16feff00000000000000000023030000170000000000000017feff14fde389bddd110577662cc50beed1e5b42e
4a78dc`);

/**
 * Its flight after the cookie: ServerHello, Certificate (self-signed P-256, fragmented over
 * three records), ServerKeyExchange (X25519, ecdsa_secp256r1_sha256, two fragments),
 * CertificateRequest, ServerHelloDone; several records per datagram, message_seq 1..5.
 */
export const OPENSSL_SERVER_FLIGHT: readonly Buffer[] = [
  hex(`
16fefd0000000000000001006e020000620001000000000062fefd332515068ba13c8882a1bd9e65209acfc9b9
7a511fcffe8e62c642b1ba598edc20c1731d1ad3bf14dc657f1e9a9e360a29ca1e81c61abc62fe63d88a892fc3
ff7cc02b00001aff01000100000b000403000102000e000500020001000017000016fefd000000000000000200
5c0b000190000200000000005000018d00018a308201863082012da003020102021411064259c482af5d5b9144
068059bc947704a471300a06082a8648ce3d04030230193117301506035504030c0e727463642d64746c732d77
697265`),
  hex(`
16fefd000000000000000300d70b00019000020000500000cb301e170d3236313132383136343130325a170d32
36313132393136343130325a30193117301506035504030c0e727463642d64746c732d77697265305930130607
2a8648ce3d020106082a8648ce3d03010703420004b2418cf300b56658b65c9cdc1d19191d1a82ba035447a493
1453890714923c6b0885c0716ddc0dd77ae4b642d2eed38aa3f756bdaa6067acfb9f452efeda5071a353305130
1d0603551d0e04160414fb5544f93944c3ac6a0096182bc1b166899dc543301f0603551d23041830168014fb55
44f939`),
  hex(`
16fefd000000000000000400810b000190000200011b00007544c3ac6a0096182bc1b166899dc543300f060355
1d130101ff040530030101ff300a06082a8648ce3d0403020347003044022079ec745cbeb499735f1ab5d33514
d86b21eb8496bded61afeb5f44f4dc33f50b022010b934c7e6f694d2cb0c9571c702a75af42557f2579962828b
8a43179902465e16fefd000000000000000500490c00006f000300000000003d03001d209b9eace1d984ab9342
913ba8accfebedf33c83b988278ba32e26be7ddd73602804030047304502210085e2a508fbd3845ceef048d874
c6858d`),
  hex(`
16fefd0000000000000006003e0c00006f000300003d000032c1f37b874e6bddbdc2b996f3eb385f5b02202ad9
823af2b4cf1b861b5f05a7f5e0a1f420a48c44717c36202ed4e240eba00216fefd0000000000000007003c0d00
00300004000000000030030102400028040305030603080708080809080a080b08040805080604010501060103
0303010302040205020602000016fefd0000000000000008000c0e0000000005000000000000`),
];

/** Every captured or synthetic datagram above: the seeds of the fuzzers. */
export function allCapturedDatagrams(): Buffer[] {
  return [
    OPENSSL_CLIENT_HELLO,
    OPENSSL_CLIENT_HELLO_WITH_COOKIE,
    WERIFT_CLIENT_HELLO,
    OPENSSL_HELLO_VERIFY_REQUEST,
    ...OPENSSL_SERVER_FLIGHT,
    ...chromiumLikeClientHello().datagrams,
    ...CHROMIUM_CLIENT_HELLO,
    ...CHROMIUM_SERVER_FLIGHT,
  ];
}

/**
 * Chromium 156.0.8078.108 (Debian) as a WebRTC DTLS client, captured on 127.0.0.1 with
 * `captureChromiumClientHello` (spec/helpers/dtls-chromium-capture.ts): its first ClientHello,
 * 1,413 bytes of body in two fragments (1,175 + 238) in two datagrams. It offers TLS 1.3
 * suites, supported_versions (DTLS 1.3, 1.2), psk_key_exchange_modes and a key_share with
 * X25519MLKEM768 (1,216 bytes) and X25519: all of which a DTLS 1.2 server must skip.
 */
export const CHROMIUM_CLIENT_HELLO: readonly Buffer[] = [
  hex(`
16feff000000000000000004a3010005850000000000000497fefd5c66861770fafb4391067608bcda9bb6015f
e5c9f6cbe18a31593c5c677b06cf0000001c130113021303c02bc02fcca9cca8c009c013c00ac014009c002f00
350100053f003304ea04e811ec04c0630803c5bcc3e26c75ebdc1f65991da2d04cd623cc839bcd7f296c5f275a
e4ca028ee0162db878ff4170593a705621ba8e7b6e539b546e28427359cba591c1929b1b6c3c2e14869732b640
a58635c13a20c69623c7da9a2dfb26134583b43391f6e85e77e1a1c4db31382c649aab629ac843f0f11ce54295
3aa56718e32968703734881f8ea55f68387cf9fb229a718b781c936abc4eb0ec8c8b6499bbe2c50281ceb3db0f
adeb656587a4c3cb8ac35cc35d876aa153ba8ca3334006cf19f32b08e3604ea64930f954a7815af353264d54b1
18fba31a5664d277c097db0df411c21f5004f275a55313911c82a090dabdae5928dca021025197430b66cbc63d
56cacb8d5b53319284028c26a9e878a6e7a2f1eb7ee6e188914c7848380c215ba14c785d4db7232a924d62ea01
afd604a98815e240007445624ada8eb499ab6f3548e4d492cb2388ae522cb776820ce25bbf2042147bb924e3b9
631444b0c473d66a53d214c1413428f8e21752467d18259292e06e6f06a5a12ac8fe347d9a49519db1cbfb9ab5
aa91a489b14abbd71931942c53706f8708ba88c21259dc4513ea1c860337759c8fe6fa1e87f281a844c15d25b2
7c7bc8c9f298066c0d009589fd17117ee98393d0c0796905de60ca7f0b9edd954a58e2c1c21987508c2b99bab5
ae723d872c9024ab6d2d3263dd772229b068646125d2b184fb45c61ddacacdfb2f373120f6539baae1492ff604
3ddb1d10ec6072c07d94a8c6ca683fd3952424a34b4ff9cae3d5b75177969b313d92d901acd058eba511959548
39f7b377c22ceec2c8753ac90cf88e13a121a3e116747aa74d260866a0b92d84446d6a43b2060fd8b47322991a
a7a92487d405145060016578ba6ba772b771b8396422c68883862c2000067b64cdb77a9972faa444471acbac80
6285cd6a95c5c2779a681a9585999841c3c066750c42ac85f7c34755082ca940938c5a1d8e045d53b63c66649d
d881498e30bf0b075c0f89b6f41740057b3384963c25873aa1874b660b1013fc34e15cb7d0f119fe201c3dc920
0ad949a73861b0d1057cb131367c13446091dd8cc2a6b37985dc5f12c58b6d2a586b46b583547260994c088806
1dc9b08c99a7de366c4e3c8ce3952ff003ac2fd57c018444f2026881c02a6d74697448bcc3181a6feaa5fc16ab
9dfa824ab53891f77cacfcc1b2b3bc18db1aa6721a66c126a0686f9699648fe1886695929894ccb579b599968a
9e042b656ab3e7a6626bda86e941942b2b62ab325bdff09fe7f8b4f96bad0fc8cb4d11b52032ad5c2a94d23983
d5571ba6b632692c869ec4136f4b1929ec1dfe9bbff9aa281530a0a826c158843a508b512220415bcbc288866b
0bbabb02b32baab7ca8ea408a0845775e2610b897da3cb4cdab88248f422f5b62911c01a95042be55042b71257
3d8868bd2290b2a0592f183776f93cf2522ed2f1088a398f9ba4b7b1660598034ebecc3ed4d3c266b1932edb89
3844cc32968c855b0cab1a022abb9c28e44f36e06266c167c944c0e5f163`),
  hex(`
16feff000000000000000100fa0100058500000004970000ee0fa81f671667d2e500760b39b482c6c8f4c43993
0a9281ba67b9033cc60a45f0bfa4bb4c83ea21160cbfff9b1b69324d2ea9a96b958d45e0b8c3e7470e2a2a1dfb
bf7cf0d3500504004b7eaff0cf9215f057f82692407e20239357eea3c18dc3e3df5ee80e59f870cabe2c24c07d
7fc3657e686a8d8570ca32001d0020c8ae377d4544fbca6c43bdb9dbc7469eb6ede3127d96f122816a0663d2b9
6470000b00020100002d00020101000d00140012040308040401050308050501080606010201000a000a000811
ec001d00170018ff01000100000e000900060001000800070000170000002b000504fefcfefd`),
];

/**
 * What this generation of Chromium offers (the capture above and the live spec): a DTLS 1.2
 * server sees a 1.2 client with ECDHE-ECDSA AES-GCM, use_srtp, EMS and renegotiation_info,
 * plus 1.3 offers to skip.
 */
export function checkChromiumClientHello(t: Test, hello: ClientHello): void {
  t.equal(hello.clientVersion, DTLS1_2, 'legacy version 1.2');
  t.ok(hello.cipherSuites.includes(0xc02b), 'offers TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  t.ok(hello.cipherSuites.includes(0x1301), 'offers TLS_AES_128_GCM_SHA256 (1.3)');
  const ext = (type: number): Buffer =>
    findExtension(hello.extensions, type)?.data ?? Buffer.of(0xff);
  t.same(decodeSupportedVersions(ext(ExtensionType.supportedVersions)), [0xfefc, 0xfefd]);
  const shares = decodeKeyShareClientHello(ext(ExtensionType.keyShare));
  t.same(
    shares?.map((s) => [s.group, s.keyExchange.length]),
    [
      [X25519_MLKEM768, 1216],
      [29, 32],
    ],
  );
  t.same(decodeSupportedGroups(ext(ExtensionType.supportedGroups)), [X25519_MLKEM768, 29, 23, 24]);
  t.same(decodeUseSrtp(ext(ExtensionType.useSrtp))?.profiles, [1, 8, 7]);
  t.equal(decodeExtendedMasterSecret(ext(ExtensionType.extendedMasterSecret)), true);
  t.same(decodeRenegotiationInfo(ext(ExtensionType.renegotiationInfo)), Buffer.alloc(0));
}

/**
 * Chromium 156 as the DTLS server (answer `a=setup:active`), answering `webrtcClientHello()`
 * (captured with `captureChromiumServerFlight`): no HelloVerifyRequest, the whole flight in
 * one datagram of five records — ServerHello (0xc02b, EMS, use_srtp SRTP_AES128_CM_SHA1_80),
 * Certificate (self-signed P-256, CN=WebRTC), ServerKeyExchange (X25519, ecdsa_secp256r1_sha256),
 * CertificateRequest, ServerHelloDone — message_seq 0..4.
 */
export const CHROMIUM_SERVER_FLIGHT: readonly Buffer[] = [
  hex(`
16fefd0000000000000000006c020000600000000000000060fefd6b0b086974cc7914e3afb8d8a1e0031af299
310ff08fa4f8444f574e4752440120a5e28a851e8b76e1d22b6be96670597142000c23ab74413cb2068f3430a6
bf33c02b00001800170000ff01000100000b00020100000e0005000200010016fefd0000000000000001012b0b
00011f000100000000011f00011c000119308201153081bca00302010202085bf3a24471c020ad300a06082a86
48ce3d0403023011310f300d06035504030c06576562525443301e170d3236313132373136353932315a170d32
36313232383136353932315a3011310f300d06035504030c065765625254433059301306072a8648ce3d020106
082a8648ce3d030107034200047c49090e578216a5aafa7ba36ed8e6e605e74195d1a2bf3f76b9c67bcdd92c9d
e9331fe63d6c856d10b4112353922d508ea08f81e08a861371881e32e30c14c4300a06082a8648ce3d04030203
48003045022100bcc2995c41b580d64a7c9493fd49610378713f862cd439fa07d2f5ac5d56604502207bbac916
f6af574c493f2dd3b1ba3ce67c4211b61668bf534de6dc63054e86ec16fefd0000000000000002007c0c000070
000200000000007003001d2088b640e730dee43ef00fd1bad43a257dccd9a6b9315da15cab862c8980e3e95604
0300483046022100b621f4ad1602e48812571a086a33f76e4f20a0ad7036f2af36e1b591e4c5a63e022100e8d4
daedccc1b69b4f2406b0a48e16a3afc3dfebb8c6f9a6b029a3b36c22235816fefd000000000000000300250d00
001900030000000000190201400012040308040401050308050501080606010201000016fefd00000000000000
04000c0e0000000004000000000000`),
];

/** What a WebRTC DTLS 1.2 client offers (our own encoder; deterministic). */
export function webrtcClientHello(cookie: Buffer = Buffer.alloc(0)): ClientHello {
  return {
    clientVersion: DTLS1_2,
    random: Buffer.alloc(32, 0x5a),
    sessionId: Buffer.alloc(0),
    cookie,
    cipherSuites: [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8],
    compressionMethods: [0],
    extensions: [
      encodeExtendedMasterSecret(),
      encodeRenegotiationInfo(),
      encodeSupportedGroups([29, 23, 24]),
      encodeEcPointFormats([0]),
      encodeSignatureAlgorithms([0x0403, 0x0503, 0x0804, 0x0401]),
      encodeUseSrtp({ profiles: [7, 8, 1, 2], mki: Buffer.alloc(0) }),
    ],
  };
}

/** Group code point of X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem), 1,216-byte client share. */
export const X25519_MLKEM768 = 0x11ec;

/**
 * A ClientHello shaped like Chromium 156's: DTLS 1.3 in supported_versions, a post-quantum
 * key_share (X25519MLKEM768, 1,216 bytes) beside an X25519 one, an unknown (GREASE-like)
 * extension, and too long for one 1,200-byte datagram, so it spans two fragments in two
 * records. A 1.2 server must skip what it does not know and negotiate 1.2 from the rest.
 */
export function chromiumLikeClientHello(): {
  hello: ClientHello;
  body: Buffer;
  datagrams: Buffer[];
} {
  const share = Buffer.alloc(1216);
  for (let i = 0; i < share.length; i++) share[i] = (i * 7 + 3) & 0xff;
  const hello: ClientHello = {
    clientVersion: DTLS1_2,
    random: Buffer.alloc(32, 0xc7),
    sessionId: Buffer.alloc(0),
    cookie: Buffer.alloc(0),
    cipherSuites: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc009, 0xc013],
    compressionMethods: [0],
    extensions: [
      { type: 0x3a3a, data: Buffer.alloc(0) },
      encodeExtendedMasterSecret(),
      encodeRenegotiationInfo(),
      encodeSupportedGroups([X25519_MLKEM768, 29, 23, 24]),
      encodeEcPointFormats([0]),
      encodeSignatureAlgorithms([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501]),
      encodeUseSrtp({ profiles: [7, 8, 1, 2], mki: Buffer.alloc(0) }),
      encodeSupportedVersions([0xfefc, DTLS1_2]),
      encodeKeyShareClientHello([
        { group: X25519_MLKEM768, keyExchange: share },
        { group: 29, keyExchange: Buffer.alloc(32, 0x29) },
      ]),
    ],
  };
  const body = encodeClientHello(hello);
  // 1,200-byte datagrams: 13 record header + 12 handshake header + 1,175 body bytes.
  const datagrams = fragmentHandshake(HandshakeType.clientHello, 0, body, 1175).map((f, i) =>
    encodeRecord({
      type: ContentType.handshake,
      version: DTLS1_0,
      epoch: 0,
      sequenceNumber: i,
      fragment: f,
    }),
  );
  return { hello, body, datagrams };
}

/** A handshake message in its own epoch-0 record. */
export function handshakeRecord(
  msgType: number,
  messageSeq: number,
  body: Buffer,
  seq: number,
  version = DTLS1_2,
): Buffer {
  return encodeRecord({
    type: ContentType.handshake,
    version,
    epoch: 0,
    sequenceNumber: seq,
    fragment: encodeHandshake(msgType, messageSeq, body),
  });
}

/** Complete plaintext handshake messages in datagrams (epoch 0 only), in order. */
export function handshakeMessages(datagrams: readonly Buffer[], nextSeq = 0): HandshakeMessage[] {
  const r = new HandshakeReassembler({ nextSeq });
  const out: HandshakeMessage[] = [];
  for (const d of datagrams) {
    for (const rec of readRecords(d)) {
      if (rec.type !== ContentType.handshake || rec.epoch !== 0) continue;
      for (const f of readHandshakeFragments(rec.fragment) ?? []) r.add(f);
      for (let m = r.next(); m; m = r.next()) out.push(m);
    }
  }
  return out;
}

// --- live capture --------------------------------------------------------------------------

const run = promisify(execFile);

/** A self-signed ECDSA P-256 certificate and key made by the openssl CLI, in a fresh temp dir. */
export async function opensslCertificate(): Promise<{
  dir: string;
  cert: string;
  key: string;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'rtcd-dtls-wire-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=rtcd-dtls-wire',
  ]);
  return { dir, cert, key, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

function stop(p: ChildProcess): void {
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/**
 * Runs `openssl s_client -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80` against a bare UDP socket:
 * captures its first ClientHello, answers with a HelloVerifyRequest made by our encoder, and
 * captures the ClientHello that carries the cookie.
 */
export async function captureOpensslClientHellos(
  cookie: Buffer,
): Promise<{ first: Buffer; second: Buffer }> {
  const sock = await bindUdp();
  const { port } = sock.address();
  const client = spawn(
    'openssl',
    [
      's_client',
      '-dtls1_2',
      '-use_srtp',
      'SRTP_AES128_CM_SHA1_80',
      '-connect',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  try {
    const got = new Promise<{ first: Buffer; second: Buffer }>((resolve, reject) => {
      let first: Buffer | undefined;
      client.once('error', reject);
      sock.on('message', (d, rinfo) => {
        if (!first) {
          first = Buffer.from(d);
          const hvr = encodeHelloVerifyRequest({ serverVersion: DTLS1_0, cookie });
          sock.send(
            handshakeRecord(HandshakeType.helloVerifyRequest, 0, hvr, 0, DTLS1_0),
            rinfo.port,
            rinfo.address,
          );
        } else if (!d.equals(first)) {
          resolve({ first, second: Buffer.from(d) });
        }
      });
    });
    return await withTimeout(got, 10_000, 'openssl s_client');
  } finally {
    stop(client);
    sock.close();
  }
}

/**
 * Runs `openssl s_server -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80 -verify 1` and sends it
 * `webrtcClientHello()`: returns the HelloVerifyRequest datagram(s) and the server's flight up
 * to ServerHelloDone (ServerHello, Certificate, ServerKeyExchange, CertificateRequest, Done).
 */
export async function captureOpensslServerFlight(): Promise<{
  helloVerify: Buffer[];
  flight: Buffer[];
}> {
  const cert = await opensslCertificate();
  const sock = await bindUdp();
  const server = spawn(
    'openssl',
    [
      's_server',
      '-dtls1_2',
      '-accept',
      '127.0.0.1:0',
      '-cert',
      cert.cert,
      '-key',
      cert.key,
      '-use_srtp',
      'SRTP_AES128_CM_SHA1_80',
      '-verify',
      '1',
    ],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  try {
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        let out = '';
        server.once('error', reject);
        server.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
      }),
      10_000,
      'openssl s_server to listen',
    );
    const helloVerify: Buffer[] = [];
    const flight: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      sock.on('message', (d) => {
        const msgs = handshakeMessages([d]);
        if (helloVerify.length === 0 && msgs[0]?.msgType === HandshakeType.helloVerifyRequest) {
          helloVerify.push(Buffer.from(d));
          const cookie = msgs[0].body.subarray(3, 3 + msgs[0].body[2]!);
          const hello = encodeClientHello(webrtcClientHello(Buffer.from(cookie)));
          sock.send(handshakeRecord(HandshakeType.clientHello, 1, hello, 1), port, '127.0.0.1');
          return;
        }
        if (helloVerify.length === 0) return;
        flight.push(Buffer.from(d));
        if (handshakeMessages(flight, 1).some((m) => m.msgType === HandshakeType.serverHelloDone))
          resolve();
      });
    });
    const hello = encodeClientHello(webrtcClientHello());
    sock.send(handshakeRecord(HandshakeType.clientHello, 0, hello, 0), port, '127.0.0.1');
    await withTimeout(done, 10_000, 'the openssl s_server flight');
    return { helloVerify, flight };
  } finally {
    stop(server);
    sock.close();
    await cert.cleanup();
  }
}
