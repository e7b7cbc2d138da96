/**
 * Assertions shared by the dtls-wire capture specs (static fixtures, live OpenSSL, live
 * Chromium): every layer of a capture re-encodes byte for byte, and a server flight holds
 * the messages of an ECDHE handshake with a signature that verifies.
 */
import { verify, X509Certificate } from 'node:crypto';
import type { Test } from 'tap';
import { ContentType, DTLS1_2, ExtensionType, HandshakeType } from '../../lib/dtls/constants.js';
import { decodeUseSrtp, findExtension } from '../../lib/dtls/extensions.js';
import {
  encodeHandshakeFragment,
  type HandshakeMessage,
  readHandshakeFragments,
} from '../../lib/dtls/handshake.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeHandshakeBody,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeHandshakeBody,
  serverKeyExchangeSignedData,
} from '../../lib/dtls/messages/index.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import { handshakeMessages } from './dtls-captures.js';

/**
 * Every layer re-encodes a capture byte for byte: datagram → records → handshake fragments →
 * reassembled messages → decoded bodies. Returns the reassembled messages.
 */
export function reencodesExactly(
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

/** Checks a server flight up to ServerHelloDone, including the real ServerKeyExchange signature. */
export function checkServerFlight(
  t: Test,
  name: string,
  flight: readonly Buffer[],
  expect: { clientRandom: Buffer; firstSeq: number; subject: RegExp },
): void {
  const s = expect.firstSeq;
  const msgs = reencodesExactly(t, name, flight, s);
  t.same(
    msgs.map((m) => [m.msgType, m.messageSeq]),
    [
      [HandshakeType.serverHello, s],
      [HandshakeType.certificate, s + 1],
      [HandshakeType.serverKeyExchange, s + 2],
      [HandshakeType.certificateRequest, s + 3],
      [HandshakeType.serverHelloDone, s + 4],
    ],
    `${name}: the five messages of an ECDHE server flight with CertificateRequest`,
  );
  const sh = decodeServerHello(msgs[0]!.body)!;
  t.equal(sh.serverVersion, DTLS1_2);
  t.equal(sh.cipherSuite, 0xc02b);
  t.same(decodeUseSrtp(findExtension(sh.extensions, ExtensionType.useSrtp)!.data)?.profiles, [1]);
  t.ok(findExtension(sh.extensions, ExtensionType.extendedMasterSecret), 'EMS echoed');
  const certs = decodeCertificate(msgs[1]!.body)!.certificates;
  t.equal(certs.length, 1);
  const x509 = new X509Certificate(certs[0]!);
  t.match(x509.subject, expect.subject);
  const ske = decodeServerKeyExchange(msgs[2]!.body)!;
  t.equal(ske.namedGroup, 29, 'X25519');
  t.equal(ske.publicKey.length, 32);
  t.equal(ske.signatureScheme, 0x0403);
  const signed = serverKeyExchangeSignedData(expect.clientRandom, sh.random, ske);
  t.equal(
    verify('sha256', signed, x509.publicKey, ske.signature),
    true,
    `${name}: the ServerKeyExchange signature verifies over our signed bytes`,
  );
  const cr = decodeCertificateRequest(msgs[3]!.body)!;
  t.ok(cr.certificateTypes.includes(64), 'ecdsa_sign requested');
  t.ok(cr.signatureSchemes.includes(0x0403));
  t.same(cr.authorities, []);
}
