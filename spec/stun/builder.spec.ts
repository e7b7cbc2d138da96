import t from 'tap';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import { decodeStunMessage } from '../../lib/stun/message.js';

const TXID = Buffer.from('000102030405060708090a0b', 'hex');

t.test('constructor rejects misuse with TypeError', async (t) => {
  t.throws(() => new StunMessageBuilder(4 as 0, 1, TXID), TypeError);
  t.throws(() => new StunMessageBuilder(0, 0x1000, TXID), TypeError);
  t.throws(() => new StunMessageBuilder(0, -1, TXID), TypeError);
  t.throws(() => new StunMessageBuilder(0, 1, Buffer.alloc(11)), TypeError);
  t.throws(() => new StunMessageBuilder(0, 1, TXID).add(0x10000, Buffer.alloc(0)), TypeError);
});

t.test('responseTo copies method and transaction ID', async (t) => {
  const req = decodeStunMessage(new StunMessageBuilder(0, StunMethod.refresh, TXID).toBuffer());
  t.ok(req.ok);
  if (!req.ok) return;
  const res = decodeStunMessage(
    StunMessageBuilder.responseTo(req.message, StunClass.error).addErrorCode(437).toBuffer(),
  );
  t.ok(res.ok);
  if (!res.ok) return;
  t.equal(res.message.method, StunMethod.refresh);
  t.equal(res.message.messageClass, StunClass.error);
  t.same(res.message.transactionId, TXID);
});

t.test('the buffer grows past its initial size and zero-pads', async (t) => {
  const b = new StunMessageBuilder(1, StunMethod.send, TXID);
  for (let i = 0; i < 50; i++) b.add(AttributeType.DATA, Buffer.alloc(i, 0xaa));
  const buf = b.addFingerprint().toBuffer();
  const r = decodeStunMessage(buf);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.message.attributes.length, 51);
  t.ok(verifyFingerprint(r.message));
  const third = r.message.attributes[3]!; // 3 bytes + 1 pad byte
  t.equal(buf[third.offset + 3], 0, 'pad byte is zero');
});

t.test('finished builders refuse more attributes; toBuffer is stable', async (t) => {
  const b = new StunMessageBuilder(0, 1, TXID).addString(AttributeType.SOFTWARE, 'x');
  const first = b.toBuffer();
  t.same(b.toBuffer(), first);
  t.throws(() => b.addUint32(AttributeType.LIFETIME, 1), TypeError);
  t.equal(first.readUInt16BE(2), 8, 'length field written');
});

t.test('messages over 64 KiB are refused', async (t) => {
  const b = new StunMessageBuilder(1, StunMethod.send, TXID);
  b.add(AttributeType.DATA, Buffer.alloc(0xffff - 8));
  t.throws(() => b.add(AttributeType.DATA, Buffer.alloc(8)), TypeError);
  t.throws(() => b.add(AttributeType.DATA, Buffer.alloc(0x10000)), TypeError);
  t.equal(b.toBuffer().length, 20 + 4 + 0xffff - 8 + 1);
});
