import { createHmac, randomBytes } from 'node:crypto';
import t from 'tap';
import { HmacSha1, SMALL_MESSAGE_LIMIT } from '../../lib/srtp/hmac-sha1.js';

function reference(key: Uint8Array, data: Uint8Array, suffix?: number): Buffer {
  const mac = createHmac('sha1', key).update(data);
  if (suffix !== undefined) {
    const word = Buffer.alloc(4);
    word.writeUInt32BE(suffix, 0);
    mac.update(word);
  }
  return mac.digest();
}

t.test('RFC 2202 test case 2: key "Jefe"', async (t) => {
  const mac = new HmacSha1(Buffer.from('Jefe'));
  const data = Buffer.from('what do ya want for nothing?');
  t.equal(
    mac.compute(data, data.length).toString('hex'),
    'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
  );
});

t.test('RFC 2202 test case 6: an 80-byte key is hashed first', async (t) => {
  const mac = new HmacSha1(Buffer.alloc(80, 0xaa));
  const data = Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First');
  t.equal(
    mac.compute(data, data.length).toString('hex'),
    'aa4ae5e15272d00e95705637ce8a3b55ed402112',
  );
});

t.test('matches createHmac at every length around the block and padding edges', async (t) => {
  const key = randomBytes(20);
  const mac = new HmacSha1(key);
  const data = randomBytes(SMALL_MESSAGE_LIMIT + 200);
  let mismatches = 0;
  for (let n = 0; n <= data.length; n++) {
    const view = data.subarray(0, n);
    if (!mac.compute(data, n).equals(reference(key, view))) mismatches++;
    if (!mac.compute(data, n, 0xfedcba98).equals(reference(key, view, 0xfedcba98))) mismatches++;
  }
  t.equal(mismatches, 0);
});

t.test('matches createHmac on random keys, messages and suffixes', async (t) => {
  for (let i = 0; i < 200; i++) {
    const key = randomBytes(1 + (i % 100));
    const length = i % 3 === 0 ? i % 65 : Math.floor(Math.random() * 1500);
    // An offset view: the message need not start at its ArrayBuffer's first byte.
    const data = randomBytes(length + 7).subarray(7);
    const suffix = i % 2 === 0 ? undefined : (Math.random() * 2 ** 32) >>> 0;
    const got = new HmacSha1(key).compute(data, length, suffix).toString('hex');
    t.equal(got, reference(key, data, suffix).toString('hex'), `key ${key.length} B, ${length} B`);
  }
});

t.test('a mac can be reused: the next message does not see the last one', async (t) => {
  const key = randomBytes(20);
  const mac = new HmacSha1(key);
  const a = randomBytes(300);
  const b = randomBytes(20);
  mac.compute(a, a.length, 1);
  t.equal(mac.compute(b, b.length).toString('hex'), reference(key, b).toString('hex'));
});
