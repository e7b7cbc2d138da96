import { createHmac } from 'node:crypto';
import t from 'tap';
import { CheckKey } from '../../lib/ice/check-hmac.js';
import { buildCheckSuccess, checkKeyOf, verifyCheckIntegrity } from '../../lib/ice/stun-check.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { shortTermKey, verifyMessageIntegrity } from '../../lib/stun/integrity.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import { Random } from '../helpers/prng.js';

t.test('RFC 2202 §3: HMAC-SHA1 test cases 1, 2, 6 (long key hashed first) and 7', async (t) => {
  const cases: [Buffer, string, string][] = [
    [Buffer.alloc(20, 0x0b), 'Hi There', 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [
      Buffer.from('Jefe'),
      'what do ya want for nothing?',
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    ],
    [
      Buffer.alloc(80, 0xaa),
      'Test Using Larger Than Block-Size Key - Hash Key First',
      'aa4ae5e15272d00e95705637ce8a3b55ed402112',
    ],
    [
      Buffer.alloc(80, 0xaa),
      'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data',
      'e8e99d0f45237d786d6bbaa7965c7808bbff1a91',
    ],
  ];
  for (const [key, data, mac] of cases) {
    const buf = Buffer.from(data);
    const out = Buffer.alloc(20);
    // the "length field" is bytes 2-3 of the data: pass them unchanged
    new CheckKey(key).sign(buf, buf.length, buf.readUInt16BE(2), out, 0);
    t.equal(out.toString('hex'), mac, data);
  }
});

t.test(
  'equals createHmac over the length-patched bytes, for every length 0..300 and random keys',
  async (t) => {
    const rng = new Random(0x1ce);
    let mismatches = 0;
    for (let len = 4; len <= 300; len++) {
      const key = rng.bytes(1 + rng.int(100));
      const buf = rng.bytes(len);
      const lengthField = rng.int(0x10000);
      const patched = Buffer.from(buf);
      patched.writeUInt16BE(lengthField, 2);
      const want = createHmac('sha1', key).update(patched).digest();
      const out = Buffer.alloc(26);
      new CheckKey(key).sign(buf, len, lengthField, out, 3);
      if (!out.subarray(3, 23).equals(want)) mismatches++;
    }
    t.equal(mismatches, 0);
  },
);

t.test(
  'RFC 8489 §14.5: integrity written with CheckKey verifies with lib/stun, and back',
  async (t) => {
    const pwd = 'VOkJxbRl1RmTxUk/WvJxBt';
    const request = new StunMessageBuilder(
      StunClass.request,
      StunMethod.binding,
      Buffer.alloc(12, 3),
    )
      .addString(AttributeType.USERNAME, 'a:b')
      .addMessageIntegrity(shortTermKey(pwd))
      .addFingerprint()
      .toBuffer();
    const m = decodeStunMessage(request);
    if (!m.ok) throw t.fail('decode');
    t.ok(verifyCheckIntegrity(m.message, checkKeyOf(pwd)));
    t.notOk(verifyCheckIntegrity(m.message, checkKeyOf(`${pwd}x`)));
    const response = decodeStunMessage(
      buildCheckSuccess(
        m.message,
        { family: 6, address: '2001:db8::7', port: 3478 },
        checkKeyOf(pwd),
      ),
    );
    if (!response.ok) throw t.fail('decode response');
    t.ok(verifyMessageIntegrity(response.message, shortTermKey(pwd)));
    const tampered = Buffer.from(response.message.buffer);
    tampered[30]! ^= 1;
    const d = decodeStunMessage(tampered);
    t.ok(d.ok && !verifyCheckIntegrity(d.message, pwd), 'a flipped bit fails');
  },
);
