import t, { type Test } from 'tap';
import {
  AlertDescription,
  AlertLevel,
  DTLS1_0,
  DTLS1_2,
  ExtensionType,
} from '../../lib/dtls/constants.js';
import {
  decodeEcPointFormats,
  decodeExtendedMasterSecret,
  decodeExtensions,
  decodeKeyShareClientHello,
  decodeRenegotiationInfo,
  decodeSignatureAlgorithms,
  decodeSupportedGroups,
  decodeSupportedVersions,
  decodeUseSrtp,
  encodeEcPointFormats,
  encodeExtendedMasterSecret,
  encodeExtensions,
  encodeKeyShareClientHello,
  encodeRenegotiationInfo,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeSupportedVersions,
  encodeUseSrtp,
  findExtension,
} from '../../lib/dtls/extensions.js';
import {
  clientHelloWithoutCookie,
  decodeAlert,
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeClientKeyExchange,
  decodeFinished,
  decodeHelloRequest,
  decodeHelloVerifyRequest,
  decodeServerHello,
  decodeServerHelloDone,
  decodeServerKeyExchange,
  ecdheParams,
  encodeAlert,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeChangeCipherSpec,
  encodeClientHello,
  encodeClientKeyExchange,
  encodeFinished,
  encodeHelloVerifyRequest,
  encodeServerHello,
  encodeServerHelloDone,
  encodeServerKeyExchange,
  isChangeCipherSpec,
  serverKeyExchangeSignedData,
} from '../../lib/dtls/messages/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const random = Buffer.alloc(32, 0x11);

/** Every truncation of a well-formed body must fail to decode (the lengths are all checked). */
function truncationsFail<T>(
  t: Test,
  name: string,
  body: Buffer,
  decode: (b: Buffer) => T | undefined,
): void {
  let ok = 0;
  for (let n = 0; n < body.length; n++) if (decode(body.subarray(0, n)) === undefined) ok++;
  t.equal(ok, body.length, `${name}: every truncation is refused`);
}

t.test('ClientHello: RFC 6347 §4.2.1 layout with the cookie after the session id', (t) => {
  const m = {
    clientVersion: DTLS1_2,
    random,
    sessionId: Buffer.alloc(0),
    cookie: hex('c0ffee'),
    cipherSuites: [0xc02b, 0xc02f],
    compressionMethods: [0],
    extensions: [
      encodeExtendedMasterSecret(),
      encodeUseSrtp({ profiles: [7, 1], mki: Buffer.alloc(0) }),
    ],
  };
  const b = encodeClientHello(m);
  t.same(
    b,
    Buffer.concat([
      hex('fefd'),
      random,
      hex('00 03c0ffee 0004c02bc02f 0100'),
      hex('000f 0017 0000 000e 0007 0004 0007 0001 00'),
    ]),
  );
  t.same(decodeClientHello(b), m);
  t.same(encodeClientHello(decodeClientHello(b)!), b);
  t.same(
    clientHelloWithoutCookie(b),
    Buffer.concat([
      hex('fefd'),
      random,
      hex('00 0004c02bc02f 0100'),
      hex('000f 0017 0000 000e 0007 0004 0007 0001 00'),
    ]),
  );
  truncationsFail(t, 'ClientHello', b.subarray(0, b.length - 17), decodeClientHello);
  t.equal(decodeClientHello(Buffer.concat([b, hex('00')])), undefined, 'trailing byte');
  const noExt = encodeClientHello({ ...m, extensions: [] });
  t.same(decodeClientHello(noExt)?.extensions, [], 'extensions are optional');
  t.equal(
    decodeClientHello(Buffer.concat([hex('fefd'), random, hex('21'), Buffer.alloc(33)])),
    undefined,
    'session id > 32',
  );
  t.end();
});

t.test('ServerHello', (t) => {
  const m = {
    serverVersion: DTLS1_2,
    random,
    sessionId: hex('abcd'),
    cipherSuite: 0xc02b,
    compressionMethod: 0,
    extensions: [encodeRenegotiationInfo()],
  };
  const b = encodeServerHello(m);
  t.same(b, Buffer.concat([hex('fefd'), random, hex('02abcd c02b 00 0005 ff01 0001 00')]));
  t.same(decodeServerHello(b), m);
  truncationsFail(t, 'ServerHello', b.subarray(0, 38), decodeServerHello);
  t.end();
});

t.test('HelloVerifyRequest', (t) => {
  const b = encodeHelloVerifyRequest({ serverVersion: DTLS1_0, cookie: hex('0102') });
  t.same(b, hex('feff 02 0102'));
  t.same(decodeHelloVerifyRequest(b), { serverVersion: DTLS1_0, cookie: hex('0102') });
  truncationsFail(t, 'HelloVerifyRequest', b, decodeHelloVerifyRequest);
  t.end();
});

t.test('Certificate: a 3-byte-length list of 3-byte-length DER certificates', (t) => {
  const b = encodeCertificate({ certificates: [hex('3082'), hex('308201')] });
  t.same(b, hex('00000b 000002 3082 000003 308201'));
  t.same(decodeCertificate(b), { certificates: [hex('3082'), hex('308201')] });
  t.same(decodeCertificate(hex('000000')), { certificates: [] }, 'an empty chain (no client cert)');
  truncationsFail(t, 'Certificate', b, decodeCertificate);
  t.equal(decodeCertificate(hex('000003 000000')), undefined, 'empty certificate');
  t.end();
});

t.test('ServerKeyExchange (ECDHE, RFC 8422 §5.4) and the signed bytes', (t) => {
  const m = {
    curveType: 3,
    namedGroup: 29,
    publicKey: Buffer.alloc(32, 9),
    signatureScheme: 0x0403,
    signature: hex('3006020101020101'),
  };
  const b = encodeServerKeyExchange(m);
  t.same(
    b,
    Buffer.concat([hex('03 001d 20'), Buffer.alloc(32, 9), hex('0403 0008 3006020101020101')]),
  );
  t.same(decodeServerKeyExchange(b), m);
  t.same(ecdheParams(m), b.subarray(0, 36));
  t.same(
    serverKeyExchangeSignedData(Buffer.alloc(32, 1), Buffer.alloc(32, 2), m),
    Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2), b.subarray(0, 36)]),
  );
  t.equal(
    decodeServerKeyExchange(Buffer.concat([hex('01'), b.subarray(1)])),
    undefined,
    'explicit curve',
  );
  truncationsFail(t, 'ServerKeyExchange', b, decodeServerKeyExchange);
  t.end();
});

t.test('CertificateRequest', (t) => {
  const m = {
    certificateTypes: [64, 1],
    signatureSchemes: [0x0403, 0x0804],
    authorities: [hex('3000')],
  };
  const b = encodeCertificateRequest(m);
  t.same(b, hex('02 4001 0004 0403 0804 0004 0002 3000'));
  t.same(decodeCertificateRequest(b), m);
  truncationsFail(t, 'CertificateRequest', b, decodeCertificateRequest);
  t.end();
});

t.test(
  'the small ones: ServerHelloDone, HelloRequest, ClientKeyExchange, CertificateVerify, Finished',
  (t) => {
    t.same(encodeServerHelloDone(), Buffer.alloc(0));
    t.same(decodeServerHelloDone(Buffer.alloc(0)), {});
    t.equal(decodeServerHelloDone(hex('00')), undefined);
    t.same(decodeHelloRequest(Buffer.alloc(0)), {});
    t.equal(decodeHelloRequest(hex('00')), undefined);
    const cke = encodeClientKeyExchange({ publicKey: hex('0401') });
    t.same(cke, hex('02 0401'));
    t.same(decodeClientKeyExchange(cke), { publicKey: hex('0401') });
    t.equal(decodeClientKeyExchange(hex('00')), undefined, 'empty point');
    truncationsFail(t, 'ClientKeyExchange', cke, decodeClientKeyExchange);
    const cv = encodeCertificateVerify({ signatureScheme: 0x0403, signature: hex('aabb') });
    t.same(cv, hex('0403 0002 aabb'));
    t.same(decodeCertificateVerify(cv), { signatureScheme: 0x0403, signature: hex('aabb') });
    truncationsFail(t, 'CertificateVerify', cv, decodeCertificateVerify);
    const fin = encodeFinished({ verifyData: Buffer.alloc(12, 7) });
    t.same(decodeFinished(fin), { verifyData: Buffer.alloc(12, 7) });
    t.equal(decodeFinished(Buffer.alloc(0)), undefined);
    t.end();
  },
);

t.test('Alert and ChangeCipherSpec record payloads', (t) => {
  const a = encodeAlert({ level: AlertLevel.fatal, description: AlertDescription.badCertificate });
  t.same(a, hex('022a'));
  t.same(decodeAlert(a), { level: 2, description: 42 });
  t.equal(decodeAlert(hex('02')), undefined);
  t.equal(decodeAlert(hex('022a00')), undefined);
  t.throws(() => encodeAlert({ level: 3, description: 0 }), TypeError);
  t.same(encodeChangeCipherSpec(), hex('01'));
  t.equal(isChangeCipherSpec(hex('01')), true);
  t.equal(isChangeCipherSpec(hex('02')), false);
  t.equal(isChangeCipherSpec(hex('0101')), false);
  t.end();
});

t.test('extensions: each known codec round-trips and refuses bad lengths', (t) => {
  const cases: [string, { type: number; data: Buffer }, string, (d: Buffer) => unknown, unknown][] =
    [
      [
        'use_srtp',
        encodeUseSrtp({ profiles: [7, 8, 1, 2], mki: Buffer.alloc(0) }),
        '0008 0007 0008 0001 0002 00',
        decodeUseSrtp,
        { profiles: [7, 8, 1, 2], mki: Buffer.alloc(0) },
      ],
      [
        'supported_groups',
        encodeSupportedGroups([29, 23, 24]),
        '0006 001d 0017 0018',
        decodeSupportedGroups,
        [29, 23, 24],
      ],
      ['ec_point_formats', encodeEcPointFormats([0]), '01 00', decodeEcPointFormats, [0]],
      [
        'signature_algorithms',
        encodeSignatureAlgorithms([0x0403, 0x0804]),
        '0004 0403 0804',
        decodeSignatureAlgorithms,
        [0x0403, 0x0804],
      ],
      [
        'extended_master_secret',
        encodeExtendedMasterSecret(),
        '',
        decodeExtendedMasterSecret,
        true,
      ],
      [
        'renegotiation_info',
        encodeRenegotiationInfo(),
        '00',
        decodeRenegotiationInfo,
        Buffer.alloc(0),
      ],
      [
        'supported_versions',
        encodeSupportedVersions([0xfefc, 0xfefd]),
        '04 fefc fefd',
        decodeSupportedVersions,
        [0xfefc, 0xfefd],
      ],
      [
        'key_share',
        encodeKeyShareClientHello([{ group: 29, keyExchange: hex('0102') }]),
        '0006 001d 0002 0102',
        decodeKeyShareClientHello,
        [{ group: 29, keyExchange: hex('0102') }],
      ],
    ];
  for (const [name, ext, wire, decode, value] of cases) {
    t.same(ext.data, hex(wire), `${name} encodes`);
    t.same(decode(ext.data), value, `${name} decodes`);
    t.equal(
      decode(Buffer.concat([ext.data, hex('00')])),
      undefined,
      `${name}: trailing byte refused`,
    );
    if (ext.data.length > 0) {
      t.equal(decode(ext.data.subarray(0, ext.data.length - 1)), undefined, `${name}: truncated`);
    }
  }
  t.equal(decodeUseSrtp(hex('0003 000100 00')), undefined, 'odd profile list');
  t.equal(decodeEcPointFormats(hex('00')), undefined, 'empty point format list');
  t.end();
});

t.test('extension block: raw unknown extensions kept, duplicates refused', (t) => {
  const list = [{ type: 0x1234, data: hex('cafe') }, encodeExtendedMasterSecret()];
  const b = encodeExtensions(list);
  t.same(b, hex('000a 1234 0002 cafe 0017 0000'));
  t.same(decodeExtensions(b), list);
  t.same(findExtension(list, ExtensionType.extendedMasterSecret), list[1]);
  t.equal(findExtension(list, ExtensionType.useSrtp), undefined);
  t.equal(decodeExtensions(hex('0008 0017 0000 0017 0000')), undefined, 'duplicate type');
  t.equal(decodeExtensions(hex('0005 1234 0002 ca')), undefined, 'entry past the block');
  t.equal(decodeExtensions(hex('0004 0017 0000 00')), undefined, 'bytes after the block');
  t.end();
});
