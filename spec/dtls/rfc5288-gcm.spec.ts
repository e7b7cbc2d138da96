/**
 * AEAD record protection with the DTLS additional data (RFC 6347 §4.1.2.1): AES-GCM
 * (RFC 5288 §3) and ChaCha20-Poly1305 (RFC 7905 §2). Checked against a byte-by-byte
 * reference construction, against werift's record cipher (keys from the same master secret
 * through each side's own key schedule), and for tamper resistance.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import t from 'tap';
import { CIPHER_SUITES, cipherSuiteById } from '../../lib/dtls/cipher-suites.js';
import { keyBlock } from '../../lib/dtls/key-schedule.js';
import { RecordProtection } from '../../lib/dtls/record-protection.js';
import { weriftCipher } from '../helpers/werift-cipher.js';

const DTLS12 = 0xfefd;
const APP_DATA = 23;

/** The record as RFC 5288 / RFC 7905 spell it, written out independently of lib/dtls. */
function referenceSeal(
  cipher: string,
  key: Buffer,
  iv: Buffer,
  epoch: number,
  seq: number,
  plain: Buffer,
): Buffer {
  const seqNum = Buffer.alloc(8);
  seqNum.writeUInt16BE(epoch, 0);
  seqNum.writeUIntBE(seq, 2, 6);
  const aad = Buffer.concat([seqNum, Buffer.from([APP_DATA, 0xfe, 0xfd]), Buffer.alloc(2)]);
  aad.writeUInt16BE(plain.length, 11);
  let nonce: Buffer;
  let explicit: Buffer;
  if (cipher === 'chacha20-poly1305') {
    const padded = Buffer.concat([Buffer.alloc(4), seqNum]);
    nonce = Buffer.from(iv.map((b, i) => b ^ padded[i]!));
    explicit = Buffer.alloc(0);
  } else {
    explicit = seqNum;
    nonce = Buffer.concat([iv, seqNum]);
  }
  const c = createCipheriv(cipher as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  return Buffer.concat([explicit, c.update(plain), c.final(), c.getAuthTag()]);
}

t.test('every suite seals like the reference construction and opens its own records', (t) => {
  for (const suite of CIPHER_SUITES) {
    const key = randomBytes(suite.keyLength);
    const iv = randomBytes(suite.fixedIvLength);
    const rp = new RecordProtection(suite, key, iv);
    t.equal(rp.overhead, suite.explicitNonceLength + 16);
    for (const [epoch, seq, n] of [
      [1, 0, 0],
      [1, 1, 1200],
      [2, 2 ** 48 - 1, 37],
      [0xffff, 0x123456789a, 16384],
    ] as const) {
      const plain = randomBytes(n);
      const sealed = rp.seal(APP_DATA, DTLS12, epoch, seq, plain);
      t.same(
        sealed,
        referenceSeal(suite.cipher, key, iv, epoch, seq, plain),
        `${suite.name} epoch ${epoch} seq ${seq} ${n} bytes`,
      );
      t.same(rp.open(APP_DATA, DTLS12, epoch, seq, sealed), plain, 'opens');
    }
  }
  t.end();
});

t.test('a flipped bit anywhere, or a different header field, fails authentication', (t) => {
  for (const suite of CIPHER_SUITES) {
    const rp = new RecordProtection(
      suite,
      randomBytes(suite.keyLength),
      randomBytes(suite.fixedIvLength),
    );
    const sealed = rp.seal(APP_DATA, DTLS12, 1, 5, Buffer.from('attack at dawn'));
    let opened = 0;
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = bad[i]! ^ (1 << (i % 8));
      if (rp.open(APP_DATA, DTLS12, 1, 5, bad) !== undefined) opened++;
    }
    t.equal(opened, 0, `${suite.name}: no single-bit forgery opens`);
    t.equal(rp.open(22, DTLS12, 1, 5, sealed), undefined, 'other content type');
    t.equal(rp.open(APP_DATA, 0xfeff, 1, 5, sealed), undefined, 'other version');
    t.equal(rp.open(APP_DATA, DTLS12, 2, 5, sealed), undefined, 'other epoch');
    t.equal(rp.open(APP_DATA, DTLS12, 1, 6, sealed), undefined, 'other sequence number');
    t.equal(rp.open(APP_DATA, DTLS12, 1, 5, sealed.subarray(0, 10)), undefined, 'too short');
    t.equal(rp.open(APP_DATA, DTLS12, 1, 5, Buffer.alloc(0)), undefined, 'empty');
    t.equal(rp.open(APP_DATA, DTLS12, -1, 5, sealed), undefined, 'bad epoch does not throw');
  }
  t.end();
});

t.test('misuse throws: wrong key or IV length, sequence number out of range', (t) => {
  const suite = cipherSuiteById(0xc02b)!;
  t.throws(() => new RecordProtection(suite, Buffer.alloc(32), Buffer.alloc(4)), TypeError);
  t.throws(() => new RecordProtection(suite, Buffer.alloc(16), Buffer.alloc(12)), TypeError);
  const rp = new RecordProtection(suite, Buffer.alloc(16), Buffer.alloc(4));
  t.throws(() => rp.seal(APP_DATA, DTLS12, 1, 2 ** 48, Buffer.alloc(1)), RangeError);
  t.throws(() => rp.seal(APP_DATA, DTLS12, 0x10000, 0, Buffer.alloc(1)), RangeError);
  t.end();
});

t.test('werift opens our records and we open its records, keys from one master secret', (t) => {
  for (const id of [0xc02b, 0xc02c, 0xc02f, 0xc030]) {
    const suite = cipherSuiteById(id)!;
    const master = randomBytes(48);
    const clientRandom = randomBytes(32);
    const serverRandom = randomBytes(32);
    const kb = keyBlock(suite, master, clientRandom, serverRandom);
    const ourClient = new RecordProtection(suite, kb.clientWriteKey, kb.clientWriteIv);
    const ourServer = new RecordProtection(suite, kb.serverWriteKey, kb.serverWriteIv);
    const theirs = weriftCipher(id);
    theirs.init(master, serverRandom, clientRandom);
    const header = { type: APP_DATA, version: DTLS12, epoch: 1, sequenceNumber: 42 };
    const plain = randomBytes(1200);
    // werift as server decrypts what our client sealed, and vice versa.
    const fromUs = ourClient.seal(APP_DATA, DTLS12, 1, 42, plain);
    t.same(theirs.decrypt(2, fromUs, header), plain, `${suite.name}: werift opens ours`);
    const fromThem = theirs.encrypt(2, plain, header);
    t.same(ourServer.open(APP_DATA, DTLS12, 1, 42, fromThem), plain, 'we open werift');
    t.same(fromThem, ourServer.seal(APP_DATA, DTLS12, 1, 42, plain), 'byte-identical records');
  }
  t.end();
});

t.test('sealInto writes the same fragment after a caller-written header', (t) => {
  for (const suite of CIPHER_SUITES) {
    const rp = new RecordProtection(
      suite,
      randomBytes(suite.keyLength),
      randomBytes(suite.fixedIvLength),
    );
    const plain = randomBytes(300);
    const out = Buffer.alloc(13 + rp.overhead + plain.length, 0xee);
    const n = rp.sealInto(out, 13, APP_DATA, DTLS12, 1, 9, plain);
    t.equal(n, rp.overhead + plain.length);
    t.same(out.subarray(0, 13), Buffer.alloc(13, 0xee), 'header bytes untouched');
    t.same(out.subarray(13), rp.seal(APP_DATA, DTLS12, 1, 9, plain), `${suite.name}`);
    t.throws(() => rp.sealInto(out, 14, APP_DATA, DTLS12, 1, 9, plain), RangeError, 'no room');
    t.throws(() => rp.sealInto(out, -1, APP_DATA, DTLS12, 1, 9, plain), RangeError);
  }
  t.end();
});

t.test('sealed records stay intact while later ones are sealed (slab views)', (t) => {
  const suite = cipherSuiteById(0xc02b)!;
  const rp = new RecordProtection(suite, randomBytes(16), randomBytes(4));
  const plains = Array.from({ length: 400 }, (_, i) => randomBytes(i * 7));
  const sealed = plains.map((p, i) => rp.seal(APP_DATA, DTLS12, 1, i, p));
  const big = rp.seal(APP_DATA, DTLS12, 1, 400, randomBytes(16384));
  t.equal(big.length, 16384 + 24, 'a large record gets its own buffer');
  let ok = 0;
  for (let i = 0; i < plains.length; i++) {
    if (rp.open(APP_DATA, DTLS12, 1, i, sealed[i]!)?.equals(plains[i]!)) ok++;
  }
  t.equal(ok, plains.length, 'every earlier record still opens');
  t.end();
});
