import { verify, X509Certificate } from 'node:crypto';
import t from 'tap';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { DTLS1_2, ExtensionType, HandshakeType } from '../../lib/dtls/constants.js';
import { decodeUseSrtp, findExtension } from '../../lib/dtls/extensions.js';
import {
  decodeCertificate,
  decodeClientHello,
  decodeServerHello,
  decodeServerKeyExchange,
  serverKeyExchangeSignedData,
} from '../../lib/dtls/messages/index.js';
import { CHROMIUM_CLIENT_HELLO, handshakeMessages } from '../helpers/dtls-captures.js';
import { reencodesExactly } from '../helpers/dtls-wire-checks.js';

/**
 * Issue 4: "Chromium 156 offers DTLS 1.3 and a post-quantum key share in a ClientHello that
 * spans two fragments; we must negotiate 1.2 with it." Our server connection is fed the
 * captured Chromium ClientHello (both fragment orders) and must answer with a DTLS 1.2 flight
 * built only from what 1.2 understands: no supported_versions or key_share echoed, a 1.2
 * suite, X25519 rather than X25519MLKEM768, an SRTP profile Chromium offered, EMS.
 */
const certificate = await generateCertificate();

for (const [name, order] of [
  ['in order', [...CHROMIUM_CLIENT_HELLO]],
  ['second fragment first', [...CHROMIUM_CLIENT_HELLO].reverse()],
] as const) {
  t.test(`our server negotiates DTLS 1.2 with Chromium 156's ClientHello (${name})`, (t) => {
    const out: Buffer[] = [];
    const conn = new DtlsConnection({ role: 'server', certificate }, { send: (d) => out.push(d) });
    conn.start(0);
    for (const d of order) conn.receive(d, 0);
    t.not(conn.state, 'failed', 'the connection did not fail');
    const chMessage = handshakeMessages([...CHROMIUM_CLIENT_HELLO])[0]!;
    const ch = decodeClientHello(chMessage.body)!;
    reencodesExactly(t, 'our flight', out);
    const msgs = handshakeMessages(out);
    t.same(
      msgs.map((m) => m.msgType),
      [
        HandshakeType.serverHello,
        HandshakeType.certificate,
        HandshakeType.serverKeyExchange,
        HandshakeType.certificateRequest,
        HandshakeType.serverHelloDone,
      ],
    );
    const sh = decodeServerHello(msgs[0]!.body)!;
    t.equal(sh.serverVersion, DTLS1_2);
    t.ok(ch.cipherSuites.includes(sh.cipherSuite), 'a suite Chromium offered');
    t.ok(sh.cipherSuite >> 8 === 0xc0 || sh.cipherSuite >> 8 === 0xcc, 'an ECDHE (1.2) suite');
    t.equal(findExtension(sh.extensions, ExtensionType.supportedVersions), undefined);
    t.equal(findExtension(sh.extensions, ExtensionType.keyShare), undefined);
    t.ok(findExtension(sh.extensions, ExtensionType.extendedMasterSecret), 'EMS');
    const srtp = decodeUseSrtp(
      findExtension(sh.extensions, ExtensionType.useSrtp)?.data ?? Buffer.of(0xff),
    );
    t.equal(srtp?.profiles.length, 1);
    t.ok([1, 7, 8].includes(srtp?.profiles[0] ?? -1), 'an SRTP profile Chromium offered');
    const ske = decodeServerKeyExchange(msgs[2]!.body)!;
    t.equal(ske.namedGroup, 29, 'X25519, not the post-quantum group');
    const der = decodeCertificate(msgs[1]!.body)!.certificates[0]!;
    const key = new X509Certificate(der).publicKey;
    t.ok(
      verify('sha256', serverKeyExchangeSignedData(ch.random, sh.random, ske), key, ske.signature),
      'ServerKeyExchange signed over Chromium’s random',
    );
    t.end();
  });
}
