import t from 'tap';
import { MIN_DEFAULT_BURST_BITS, TokenBucket } from '../../lib/turn/token-bucket.js';

const T0 = 1_000_000;

t.test('a new bucket is full and empties by whole messages', async (t) => {
  const bucket = new TokenBucket(8000, 8000); // 1000 bytes per second, 1000-byte burst
  t.equal(bucket.take(600, T0), true);
  t.equal(bucket.take(500, T0), false, 'not enough left for 500 bytes');
  t.equal(bucket.available(T0), 400 * 8, 'a refused message takes nothing');
  t.equal(bucket.take(400, T0), true, 'exactly what is left');
  t.equal(bucket.take(1, T0), false);
  t.equal(bucket.take(0, T0), true, 'an empty message always passes');
});

t.test('the bucket refills at the rate, up to the burst', async (t) => {
  const bucket = new TokenBucket(8000, 8000);
  t.equal(bucket.take(1000, T0), true);
  t.equal(bucket.take(1, T0 + 0.5), false, 'half a millisecond gives half a byte');
  t.equal(bucket.take(251, T0 + 250), false, '250 ms give 250 bytes, not 251');
  t.equal(bucket.take(250, T0 + 250), true, 'the refused byte took nothing');
  t.equal(bucket.available(T0 + 60_000), 8000, 'a minute idle refills to the burst only');
  t.equal(bucket.take(1001, T0 + 60_000), false, 'a message above the burst never passes');
});

t.test('a steady sender gets the configured rate', async (t) => {
  const bucket = new TokenBucket(1_000_000, 100_000); // 1 Mbit/s, 100 kbit burst
  let sentBits = 0;
  for (let ms = 0; ms <= 10_000; ms++) {
    // Offer 1250 bytes (10 Mbit/s) every millisecond.
    if (bucket.take(1250, T0 + ms)) sentBits += 10_000;
  }
  // 10 s at 1 Mbit/s plus the initial burst, to within one message.
  t.ok(Math.abs(sentBits - 10_100_000) <= 10_000, `sent ${sentBits} bits`);
});

t.test('a clock that goes backwards adds nothing', async (t) => {
  const bucket = new TokenBucket(8000, 8000);
  t.equal(bucket.take(1000, T0), true);
  t.equal(bucket.available(T0 - 10_000), 0, 'ten seconds back: still empty');
  t.equal(bucket.available(T0 - 9_900), 800, 'refill restarts from the new time');
  t.equal(bucket.available(T0), 8000, 'and is capped by the burst');
  t.equal(bucket.take(1000, T0), true);
  t.equal(bucket.available(Number.NaN), 0, 'a NaN time adds nothing');
  t.equal(bucket.available(T0 + 100), 800, 'and does not lose the anchor');
});

t.test('the default burst is half a second at full rate, at least 128 KiB', async (t) => {
  t.equal(new TokenBucket(20e6).burstBits, 10e6, '20 Mbit/s → 10 Mbit');
  t.equal(new TokenBucket(1e6).burstBits, MIN_DEFAULT_BURST_BITS, '1 Mbit/s → 128 KiB');
  t.equal(MIN_DEFAULT_BURST_BITS, 1_048_576);
  const slow = new TokenBucket(8000);
  t.equal(slow.take(65539, T0), true, 'a maximal TCP ChannelData frame fits the default burst');
});

t.test('an infinite rate never refuses', async (t) => {
  const bucket = new TokenBucket(Number.POSITIVE_INFINITY);
  for (let i = 0; i < 100; i++) t.equal(bucket.take(1e9, T0), true);
});

t.test('a rate or burst that is not positive throws a TypeError', async (t) => {
  for (const rate of [0, -1, Number.NaN]) t.throws(() => new TokenBucket(rate), TypeError);
  for (const burst of [0, -8, Number.NaN]) t.throws(() => new TokenBucket(8000, burst), TypeError);
});
