import { createHash, createHmac } from 'node:crypto';
import t from 'tap';
import {
  decodePasswordAlgorithm,
  encodePasswordAlgorithm,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
import { decodeString, StringLimit } from '../../lib/stun/attributes/string.js';
import { decodeUserhash, userhash } from '../../lib/stun/attributes/userhash.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import {
  AttributeType,
  PasswordAlgorithm,
  StunClass,
  StunMethod,
} from '../../lib/stun/constants.js';
import { crc32, crc32Portable, verifyFingerprint } from '../../lib/stun/fingerprint.js';
import {
  longTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import {
  decodeStunMessage,
  isStunMessage,
  type StunMessage,
  unknownComprehensionRequired,
} from '../../lib/stun/message.js';
import { hex, RFC8489_B1_CORRECTED, RFC8489_B1_PUBLISHED } from './vectors.js';

const USERNAME = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9'; // マトリックス
const PASSWORD = 'The\u00adM\u00aatr\u2168'; // "TheMatrIX" once prepared
const REALM = 'example.org';
const NONCE = 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA';
const TXID = hex('78ad3433c6ad72c029da412e');

function decode(buf: Buffer): StunMessage {
  const r = decodeStunMessage(buf);
  if (!r.ok) throw new Error(`did not decode: ${r.reason}`);
  return r.message;
}

t.test('Appendix B.1 (SHA-256 integrity, USERHASH, SHA-256 password algorithm)', async (t) => {
  const key = longTermKey(USERNAME, REALM, PASSWORD, 'sha256');
  t.same(
    key,
    createHash('sha256').update(`${USERNAME}:${REALM}:TheMatrIX`).digest(),
    'key = SHA-256(username:realm:TheMatrIX), the password prepared as the appendix says',
  );

  t.test('as published, the vector is inconsistent', async (t) => {
    // Its length field says 0x9c (156) but the listed attributes take 136 bytes: our decoder
    // rejects it. Its HMAC is the HMAC-SHA256 of the header *with that 0x9c length* followed
    // by the attributes before MESSAGE-INTEGRITY-SHA256, which §14.6 does not allow (the
    // length must cover the message up to and including MESSAGE-INTEGRITY-SHA256: 0x88).
    // It also lacks the PASSWORD-ALGORITHM attribute that the corrected vector (verified
    // erratum to RFC 8489, used by several independent implementations) adds: see below.
    t.same(decodeStunMessage(RFC8489_B1_PUBLISHED), { ok: false, reason: 'bad-length' });
    const miAt = RFC8489_B1_PUBLISHED.length - 36;
    const printedMac = RFC8489_B1_PUBLISHED.subarray(miAt + 4);
    const asPrinted = createHmac('sha256', key).update(RFC8489_B1_PUBLISHED.subarray(0, miAt));
    t.same(asPrinted.digest(), printedMac, 'the printed MAC was computed over length 0x9c');

    const fixedLength = Buffer.from(RFC8489_B1_PUBLISHED);
    fixedLength.writeUInt16BE(fixedLength.length - 20, 2);
    const m = decode(fixedLength);
    t.notOk(verifyMessageIntegritySha256(m, key), 'so with a correct length it does not verify');
    t.same(decodeUserhash(m, m.get(AttributeType.USERHASH)!), userhash(USERNAME, REALM));
  });

  t.test('as corrected by the erratum', async (t) => {
    const m = decode(RFC8489_B1_CORRECTED);
    t.equal(m.messageClass, StunClass.request);
    t.equal(m.method, StunMethod.binding);
    t.same(m.transactionId, TXID);
    const uh = decodeUserhash(m, m.get(AttributeType.USERHASH)!);
    t.same(uh, userhash(USERNAME, REALM), 'USERHASH = SHA-256("マトリックス:example.org")');
    t.same(uh, hex('4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704'));
    t.equal(decodeString(m, m.get(AttributeType.NONCE)!, StringLimit.NONCE), NONCE);
    t.equal(decodeString(m, m.get(AttributeType.REALM)!, StringLimit.REALM), REALM);
    t.same(decodePasswordAlgorithm(m, m.get(AttributeType.PASSWORD_ALGORITHM)!), {
      algorithm: PasswordAlgorithm.SHA256,
      parameters: Buffer.alloc(0),
    });
    t.ok(verifyMessageIntegritySha256(m, key), 'MESSAGE-INTEGRITY-SHA256 verifies');
    t.notOk(verifyMessageIntegritySha256(m, longTermKey(USERNAME, REALM, PASSWORD)), 'MD5 key');
    t.notOk(verifyMessageIntegrity(m, key), 'there is no SHA-1 MESSAGE-INTEGRITY');

    const rebuilt = new StunMessageBuilder(StunClass.request, StunMethod.binding, TXID)
      .add(AttributeType.USERHASH, userhash(USERNAME, REALM))
      .addString(AttributeType.NONCE, NONCE)
      .addString(AttributeType.REALM, REALM)
      .add(
        AttributeType.PASSWORD_ALGORITHM,
        encodePasswordAlgorithm(passwordAlgorithm(PasswordAlgorithm.SHA256)),
      )
      .addMessageIntegritySha256(key)
      .toBuffer();
    t.same(rebuilt, RFC8489_B1_CORRECTED, 'rebuilt byte for byte');
  });
});

function request(): StunMessageBuilder {
  return new StunMessageBuilder(StunClass.request, StunMethod.allocate, TXID).addString(
    AttributeType.USERNAME,
    'alice',
  );
}

t.test('§14.6 MESSAGE-INTEGRITY-SHA256 may be truncated to 16..32 bytes', async (t) => {
  const key = longTermKey('alice', 'rtcd', 'secret', 'sha256');
  for (const length of [16, 20, 24, 28, 32]) {
    const m = decode(request().addMessageIntegritySha256(key, length).toBuffer());
    t.equal(m.get(AttributeType.MESSAGE_INTEGRITY_SHA256)?.length, length);
    t.ok(verifyMessageIntegritySha256(m, key), `${length} bytes verify`);
    t.notOk(verifyMessageIntegritySha256(m, Buffer.from('other')), `${length} bytes, wrong key`);
  }
  for (const length of [0, 12, 18, 36]) {
    t.throws(() => request().addMessageIntegritySha256(key, length), TypeError, `${length}`);
  }
  // A 12-byte value written by hand is rejected by the verifier even if it is the right prefix.
  const b = request();
  const full = decode(request().addMessageIntegritySha256(key, 16).toBuffer());
  const mac = full.value(AttributeType.MESSAGE_INTEGRITY_SHA256)!.subarray(0, 12);
  t.notOk(verifyMessageIntegritySha256(decode(b.add(0x001c, mac).toBuffer()), key));
});

t.test('§14.5-14.7 integrity, SHA-256 integrity and fingerprint together', async (t) => {
  const key = longTermKey('alice', 'rtcd', 'secret');
  const buf = request()
    .addMessageIntegrity(key)
    .addMessageIntegritySha256(key)
    .addFingerprint()
    .toBuffer();
  const m = decode(buf);
  t.ok(verifyMessageIntegrity(m, key));
  t.ok(verifyMessageIntegritySha256(m, key));
  t.ok(verifyFingerprint(m));
  for (const at of [25, buf.length - 30, buf.length - 1]) {
    const bad = Buffer.from(buf);
    bad[at]! ^= 0x01;
    const r = decodeStunMessage(bad);
    t.ok(r.ok, `bit flip at ${at} still decodes`);
    if (r.ok) t.notOk(verifyFingerprint(r.message), `bit flip at ${at} breaks FINGERPRINT`);
  }
  const bad = Buffer.from(buf);
  bad[24]! ^= 0x20; // inside USERNAME
  const r = decode(bad);
  t.notOk(verifyMessageIntegrity(r, key));
  t.notOk(verifyMessageIntegritySha256(r, key));
});

t.test('§14.5 attributes after MESSAGE-INTEGRITY are ignored', async (t) => {
  const key = longTermKey('alice', 'rtcd', 'secret');
  const buf = request()
    .addMessageIntegrity(key)
    .addString(AttributeType.SOFTWARE, 'injected')
    .addMessageIntegritySha256(key)
    .addUint32(AttributeType.LIFETIME, 0)
    .addFingerprint()
    .toBuffer();
  const m = decode(buf);
  t.same(
    m.attributes.map((a) => a.type),
    [
      AttributeType.USERNAME,
      AttributeType.MESSAGE_INTEGRITY,
      AttributeType.MESSAGE_INTEGRITY_SHA256,
      AttributeType.FINGERPRINT,
    ],
  );
  t.equal(m.ignoredAttributes, 2);
  t.notOk(m.has(AttributeType.SOFTWARE));
  t.notOk(m.has(AttributeType.LIFETIME));
  t.ok(verifyMessageIntegrity(m, key), 'MI covers what precedes it only');
  t.ok(verifyMessageIntegritySha256(m, key), 'SHA256 MI covers everything before it');
  t.ok(verifyFingerprint(m));
});

t.test('§14.7 nothing may follow FINGERPRINT', async (t) => {
  const withFp = request().addFingerprint().toBuffer();
  const trailing = Buffer.concat([withFp, hex('80220004 74657374')]);
  trailing.writeUInt16BE(trailing.length - 20, 2);
  t.same(decodeStunMessage(trailing), { ok: false, reason: 'bad-fingerprint-position' });
  t.throws(() => request().addFingerprint().addUint32(AttributeType.LIFETIME, 1), TypeError);
});

t.test('decoder rejects malformed headers with stable reasons', async (t) => {
  const good = request().toBuffer();
  const cases: [string, Buffer, string][] = [
    ['19 bytes', good.subarray(0, 19), 'too-short'],
    ['empty', Buffer.alloc(0), 'too-short'],
    ['top bit set', patch(good, 0, 0x80), 'not-stun'],
    ['second bit set', patch(good, 0, 0x40), 'not-stun'],
    ['wrong cookie', patch(good, 4, 0x21 ^ 0xff), 'bad-magic-cookie'],
    ['length not a multiple of 4', patch(good, 3, good[3]! + 1), 'bad-length'],
    ['length shorter than buffer', patch(good, 3, good[3]! - 4), 'bad-length'],
    ['buffer longer than message', Buffer.concat([good, Buffer.alloc(4)]), 'bad-length'],
    ['attribute runs past the end', patch(good, 23, 0x0d), 'attribute-overflow'],
    ['padding runs past the end', patch(good, 23, 0x09), 'attribute-overflow'],
  ];
  for (const [name, buf, reason] of cases) {
    t.same(decodeStunMessage(buf), { ok: false, reason }, name);
  }
  t.ok(decodeStunMessage(good).ok, 'the unpatched message decodes');
  t.ok(isStunMessage(good));
  t.notOk(isStunMessage(patch(good, 0, 0x80)));
  t.notOk(isStunMessage(patch(good, 4, 0)));
  t.notOk(isStunMessage(good.subarray(0, 19)));
});

function patch(buf: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(buf);
  out[at] = value;
  return out;
}

t.test('unknownComprehensionRequired lists unknown types below 0x8000 once', async (t) => {
  const m = decode(
    new StunMessageBuilder(StunClass.request, StunMethod.binding, TXID)
      .add(0x7777, Buffer.alloc(1))
      .addString(AttributeType.USERNAME, 'u')
      .add(0x8888, Buffer.alloc(2)) // comprehension-optional: never reported
      .add(0x7777, Buffer.alloc(0))
      .add(0x0003, Buffer.alloc(4))
      .toBuffer(),
  );
  t.same(unknownComprehensionRequired(m, new Set([AttributeType.USERNAME])), [0x7777, 0x0003]);
  t.same(unknownComprehensionRequired(m, new Set([0x7777, 0x0003, 0x0006])), []);
});

t.test('messages of every class round-trip their type bits', async (t) => {
  for (const cls of [0, 1, 2, 3] as const) {
    for (const method of [0x001, 0x003, 0x009, 0x0ff, 0xfff]) {
      const m = decode(new StunMessageBuilder(cls, method, TXID).toBuffer());
      t.equal(m.messageClass, cls);
      t.equal(m.method, method);
    }
  }
  // RFC 8489 §5: Binding success response is 0x0101, error 0x0111; Allocate request 0x0003.
  t.equal(new StunMessageBuilder(2, 1, TXID).toBuffer().readUInt16BE(0), 0x0101);
  t.equal(new StunMessageBuilder(3, 1, TXID).toBuffer().readUInt16BE(0), 0x0111);
  t.equal(new StunMessageBuilder(1, 0x007, TXID).toBuffer().readUInt16BE(0), 0x0017);
});

t.test('§14.7 CRC-32: the table fallback agrees with zlib', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32 check value');
  t.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  const data = Buffer.alloc(1000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
  for (const [start, end] of [
    [0, 0],
    [0, 1000],
    [13, 501],
  ] as const) {
    t.equal(crc32Portable(data.subarray(start, end)), crc32(data, start, end));
  }
});
