import t from 'tap';
import { decodeAddress, decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { decodeString, StringLimit } from '../../lib/stun/attributes/string.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import {
  longTermKey,
  shortTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import {
  hex,
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_LONG_TERM_REQUEST,
  RFC5769_REQUEST,
} from './vectors.js';

// RFC 5769 §2.1-2.3 pad SOFTWARE and USERNAME with 0x20 (space) rather than zero. RFC 8489
// §14 lets the sender pick the pad bytes and MESSAGE-INTEGRITY/FINGERPRINT cover them, so
// a builder padding with zeros produces different (equally valid) MAC and CRC. The builder's
// `padding` argument reproduces the vectors byte for byte; a zero-padded build is checked
// separately to verify with our own verifier. §2.4 pads with zeros throughout.

const SHORT_TERM_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const TXID_1 = hex('b7e7a701bc34d686fa87dfae');
const TXID_4 = hex('78ad3433c6ad72c029da412e');
const USERNAME_4 = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9'; // マトリックス
const PASSWORD_4 = 'The\u00adM\u00aatr\u2168'; // "TheMatrIX" after SASLprep

function decode(buf: Buffer): StunMessage {
  const r = decodeStunMessage(buf);
  if (!r.ok) throw new Error(`vector did not decode: ${r.reason}`);
  return r.message;
}

function str(m: StunMessage, type: number): string | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : decodeString(m, a, StringLimit.SOFTWARE);
}

t.test('2.1 sample request', async (t) => {
  const m = decode(RFC5769_REQUEST);
  t.equal(m.messageClass, StunClass.request);
  t.equal(m.method, StunMethod.binding);
  t.same(m.transactionId, TXID_1);
  t.same(
    m.attributes.map((a) => a.type),
    [
      AttributeType.SOFTWARE,
      AttributeType.PRIORITY,
      AttributeType.ICE_CONTROLLED,
      AttributeType.USERNAME,
      AttributeType.MESSAGE_INTEGRITY,
      AttributeType.FINGERPRINT,
    ],
  );
  t.equal(str(m, AttributeType.SOFTWARE), 'STUN test client');
  t.equal(str(m, AttributeType.USERNAME), 'evtj:h6vY');
  t.equal(m.value(AttributeType.PRIORITY)?.readUInt32BE(0), 0x6e0001ff);
  t.same(m.value(AttributeType.ICE_CONTROLLED), hex('932ff9b151263b36'));
  t.ok(verifyMessageIntegrity(m, shortTermKey(SHORT_TERM_PASSWORD)), 'MESSAGE-INTEGRITY');
  t.notOk(verifyMessageIntegrity(m, shortTermKey('wrong')), 'wrong key fails');
  t.notOk(verifyMessageIntegritySha256(m, shortTermKey(SHORT_TERM_PASSWORD)), 'no SHA256 MI');
  t.ok(verifyFingerprint(m), 'FINGERPRINT');

  const rebuilt = new StunMessageBuilder(StunClass.request, StunMethod.binding, TXID_1)
    .addString(AttributeType.SOFTWARE, 'STUN test client')
    .addUint32(AttributeType.PRIORITY, 0x6e0001ff)
    .add(AttributeType.ICE_CONTROLLED, hex('932ff9b151263b36'))
    .addString(AttributeType.USERNAME, 'evtj:h6vY', 0x20)
    .addMessageIntegrity(shortTermKey(SHORT_TERM_PASSWORD))
    .addFingerprint()
    .toBuffer();
  t.same(rebuilt, RFC5769_REQUEST, 'rebuilt byte for byte (USERNAME padded with spaces)');

  const zeroPadded = new StunMessageBuilder(StunClass.request, StunMethod.binding, TXID_1)
    .addString(AttributeType.SOFTWARE, 'STUN test client')
    .addUint32(AttributeType.PRIORITY, 0x6e0001ff)
    .add(AttributeType.ICE_CONTROLLED, hex('932ff9b151263b36'))
    .addString(AttributeType.USERNAME, 'evtj:h6vY')
    .addMessageIntegrity(shortTermKey(SHORT_TERM_PASSWORD))
    .addFingerprint()
    .toBuffer();
  t.same(
    zeroPadded.subarray(0, 0x4c),
    Buffer.concat([RFC5769_REQUEST.subarray(0, 0x49), Buffer.alloc(3)]),
    'zero padding: same bytes up to the padding',
  );
  const z = decode(zeroPadded);
  t.ok(verifyMessageIntegrity(z, shortTermKey(SHORT_TERM_PASSWORD)));
  t.ok(verifyFingerprint(z));
});

for (const [name, vector, address] of [
  ['2.2 sample IPv4 response', RFC5769_IPV4_RESPONSE, '192.0.2.1'],
  ['2.3 sample IPv6 response', RFC5769_IPV6_RESPONSE, '2001:db8:1234:5678:11:2233:4455:6677'],
] as const) {
  t.test(name, async (t) => {
    const m = decode(vector);
    t.equal(m.messageClass, StunClass.success);
    t.equal(m.method, StunMethod.binding);
    t.same(m.transactionId, TXID_1);
    t.equal(str(m, AttributeType.SOFTWARE), 'test vector');
    const xma = m.get(AttributeType.XOR_MAPPED_ADDRESS);
    t.ok(xma);
    const family = address.includes(':') ? 6 : 4;
    t.same(decodeXorAddress(m, xma!), { family, address, port: 32853 });
    t.not(decodeAddress(m, xma!)?.address, address, 'the value really is XORed');
    t.ok(verifyMessageIntegrity(m, shortTermKey(SHORT_TERM_PASSWORD)), 'MESSAGE-INTEGRITY');
    t.ok(verifyFingerprint(m), 'FINGERPRINT');

    const rebuilt = new StunMessageBuilder(StunClass.success, StunMethod.binding, TXID_1)
      .addString(AttributeType.SOFTWARE, 'test vector', 0x20)
      .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, { family, address, port: 32853 })
      .addMessageIntegrity(shortTermKey(SHORT_TERM_PASSWORD))
      .addFingerprint()
      .toBuffer();
    t.same(rebuilt, vector, 'rebuilt byte for byte (SOFTWARE padded with a space)');
  });
}

t.test('2.4 sample request with long-term authentication', async (t) => {
  const m = decode(RFC5769_LONG_TERM_REQUEST);
  t.equal(m.messageClass, StunClass.request);
  t.same(m.transactionId, TXID_4);
  const username = m.get(AttributeType.USERNAME);
  t.equal(decodeString(m, username!, StringLimit.USERNAME), USERNAME_4);
  t.equal(str(m, AttributeType.NONCE), 'f//499k954d6OL34oL9FSTvy64sA');
  t.equal(str(m, AttributeType.REALM), 'example.org');
  t.notOk(m.has(AttributeType.FINGERPRINT));
  t.notOk(verifyFingerprint(m), 'no FINGERPRINT to verify');

  const key = longTermKey(USERNAME_4, 'example.org', PASSWORD_4);
  t.same(key, longTermKey(USERNAME_4, 'example.org', 'TheMatrIX'), 'SASLprep of the password');
  t.ok(verifyMessageIntegrity(m, key), 'MESSAGE-INTEGRITY with the prepared password');
  t.notOk(
    verifyMessageIntegrity(m, longTermKey(USERNAME_4, 'example.org', 'TheMatrix')),
    'another password fails',
  );

  const rebuilt = new StunMessageBuilder(StunClass.request, StunMethod.binding, TXID_4)
    .addString(AttributeType.USERNAME, USERNAME_4)
    .addString(AttributeType.NONCE, 'f//499k954d6OL34oL9FSTvy64sA')
    .addString(AttributeType.REALM, 'example.org')
    .addMessageIntegrity(key)
    .toBuffer();
  t.same(rebuilt, RFC5769_LONG_TERM_REQUEST, 'rebuilt byte for byte');
});
