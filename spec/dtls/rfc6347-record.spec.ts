import t from 'tap';
import { ContentType, DTLS1_0, DTLS1_2 } from '../../lib/dtls/constants.js';
import {
  encodeRecord,
  isDtlsDatagram,
  readRecord,
  readRecords,
  writeRecordHeader,
} from '../../lib/dtls/record.js';
import { RecordReplayWindow } from '../../lib/dtls/record-replay.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 6347 §4.1: the 13-byte header reads type, version, epoch, 48-bit seq, length', (t) => {
  const d = hex('16 fefd 0001 0000 0001 0203 0003 aabbcc');
  const [r, ...rest] = [...readRecords(d)];
  t.same(rest, []);
  t.equal(r!.type, ContentType.handshake);
  t.equal(r!.version, DTLS1_2);
  t.equal(r!.epoch, 1);
  t.equal(r!.sequenceNumber, 0x10203);
  t.same(r!.fragment, hex('aabbcc'));
  t.equal(r!.fragment.buffer, d.buffer, 'fragment is a view, not a copy');
  t.end();
});

t.test('a 48-bit sequence number near 2^48 is exact', (t) => {
  const seq = 2 ** 48 - 2;
  const d = encodeRecord({
    type: 23,
    version: DTLS1_2,
    epoch: 0xffff,
    sequenceNumber: seq,
    fragment: hex('01'),
  });
  t.same(d.subarray(0, 13), hex('17 fefd ffff fffffffffffe 0001'));
  t.equal(readRecord(d, 0)!.record.sequenceNumber, seq);
  t.end();
});

t.test('several records per datagram (RFC 6347 §4.1.1), in order', (t) => {
  const a = encodeRecord({
    type: 22,
    version: DTLS1_0,
    epoch: 0,
    sequenceNumber: 0,
    fragment: hex('0102'),
  });
  const b = encodeRecord({
    type: 20,
    version: DTLS1_2,
    epoch: 0,
    sequenceNumber: 1,
    fragment: hex('01'),
  });
  const c = encodeRecord({
    type: 22,
    version: DTLS1_2,
    epoch: 1,
    sequenceNumber: 0,
    fragment: Buffer.alloc(0),
  });
  const all = [...readRecords(Buffer.concat([a, b, c]))];
  t.same(
    all.map((r) => [r.type, r.version, r.epoch, r.sequenceNumber, r.fragment.toString('hex')]),
    [
      [22, DTLS1_0, 0, 0, '0102'],
      [20, DTLS1_2, 0, 1, '01'],
      [22, DTLS1_2, 1, 0, ''],
    ],
  );
  t.end();
});

t.test('reading stops at the first malformed record and keeps those before it', (t) => {
  const good = encodeRecord({
    type: 22,
    version: DTLS1_2,
    epoch: 0,
    sequenceNumber: 5,
    fragment: hex('aa'),
  });
  const cases: [string, Buffer][] = [
    ['truncated header', hex('16fefd0000')],
    ['length past the end', hex('16 fefd 0000 000000000001 0005 aabb')],
    ['content type 19', hex('13 fefd 0000 000000000001 0001 aa')],
    ['DTLS 1.3 unified header byte', hex('2f fefd 0000 000000000001 0001 aa')],
    ['TLS version major 3', hex('16 0303 0000 000000000001 0001 aa')],
    [
      'length above 2^14 + 2048',
      Buffer.concat([hex('16 fefd 0000 000000000001 4801'), Buffer.alloc(0x4801)]),
    ],
  ];
  for (const [name, bad] of cases) {
    // For the header errors, a good record after the bad one must not be reached either.
    const tail = name === 'truncated header' || name === 'length past the end' ? [] : [good];
    const got = [...readRecords(Buffer.concat([good, bad, ...tail]))];
    t.equal(got.length, 1, name);
    t.equal(got[0]!.sequenceNumber, 5, name);
  }
  t.same([...readRecords(Buffer.alloc(0))], []);
  t.end();
});

t.test('writeRecordHeader refuses values that do not fit', (t) => {
  const out = Buffer.alloc(13);
  const h = { type: 22, version: DTLS1_2, epoch: 0, sequenceNumber: 0 };
  t.throws(() => writeRecordHeader(out, 0, h, 0x4801), TypeError);
  t.throws(() => writeRecordHeader(out, 0, { ...h, sequenceNumber: 2 ** 48 }, 0), TypeError);
  t.throws(() => writeRecordHeader(out, 0, { ...h, sequenceNumber: -1 }, 0), TypeError);
  t.end();
});

t.test('RFC 7983 demultiplexing: 20..63 is DTLS', (t) => {
  t.same([0, 3, 19, 20, 22, 23, 63, 64, 79, 128, 191].map(isDtlsDatagram), [
    false,
    false,
    false,
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
  t.end();
});

t.test('RFC 6347 §4.1.2.6 replay window', (t) => {
  t.test('accepts new, rejects repeats, accepts out of order within 64', (t) => {
    const w = new RecordReplayWindow();
    t.equal(w.check(0), true);
    w.commit(0);
    t.equal(w.check(0), false, 'repeat');
    t.equal(w.check(5), true);
    w.commit(5);
    t.equal(w.check(3), true, 'late but inside the window');
    w.commit(3);
    t.equal(w.check(3), false);
    t.equal(w.check(4), true);
    w.commit(100);
    t.equal(w.check(36), false, 'older than 64 behind the top');
    t.equal(w.check(37), true, 'exactly 63 behind the top');
    t.equal(w.check(5), false);
    t.equal(w.check(100), false);
    t.equal(w.check(99), true);
    t.equal(w.highest, 100);
    t.end();
  });

  t.test('check without commit does not move the window (forged records)', (t) => {
    const w = new RecordReplayWindow();
    w.commit(10);
    t.equal(w.check(1000), true);
    t.equal(w.check(10), false);
    t.equal(w.check(9), true);
    t.equal(w.highest, 10);
    t.end();
  });

  t.test('a big jump clears stale bits', (t) => {
    const w = new RecordReplayWindow();
    for (let i = 0; i < 64; i++) w.commit(i);
    w.commit(64 + 32 * 3 + 1);
    for (let s = 64 + 32 * 3 + 1 - 63; s < 64 + 32 * 3 + 1; s++)
      t.equal(w.check(s), true, `seq ${s}`);
    t.end();
  });

  for (const size of [64, 100, 128, 1]) {
    t.test(`window of ${size} matches a reference set model on random traffic`, (t) => {
      let x = 12345 + size;
      const rand = (n: number): number => {
        x = (x * 1103515245 + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      const w = new RecordReplayWindow(size);
      const seen = new Set<number>();
      let top = -1;
      let mismatches = 0;
      for (let i = 0; i < 20000; i++) {
        const seq = Math.max(0, top + rand(size + 60) - size - 10);
        const expect = seq > top || (top - seq < size && !seen.has(seq));
        if (w.check(seq) !== expect) mismatches++;
        if (expect) {
          w.commit(seq);
          seen.add(seq);
          top = Math.max(top, seq);
        }
      }
      t.equal(mismatches, 0);
      t.end();
    });
  }

  t.test('large sequence numbers near 2^48', (t) => {
    const w = new RecordReplayWindow();
    const base = 2 ** 48 - 100;
    w.commit(base);
    w.commit(base + 50);
    t.equal(w.check(base), false);
    t.equal(w.check(base + 1), true);
    t.equal(w.check(base + 50), false);
    w.reset();
    t.equal(w.check(base), true);
    t.end();
  });

  t.throws(() => new RecordReplayWindow(0), TypeError);
  t.end();
});
