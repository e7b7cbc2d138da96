import t from 'tap';
import { HandshakeType } from '../../lib/dtls/constants.js';
import {
  encodeHandshake,
  fragmentHandshake,
  type HandshakeFragment,
  readHandshakeFragments,
} from '../../lib/dtls/handshake.js';
import { HandshakeReassembler } from '../../lib/dtls/reassembler.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function body(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function frag(
  msgType: number,
  seq: number,
  whole: Buffer,
  offset: number,
  len: number,
): HandshakeFragment {
  return {
    msgType,
    length: whole.length,
    messageSeq: seq,
    fragmentOffset: offset,
    fragmentLength: len,
    body: whole.subarray(offset, offset + len),
  };
}

t.test('RFC 6347 §4.2.2: the 12-byte header', (t) => {
  const m = encodeHandshake(HandshakeType.finished, 5, hex('0102030405060708090a0b0c'));
  t.same(m.subarray(0, 12), hex('14 00000c 0005 000000 00000c'));
  const [f, ...rest] = readHandshakeFragments(m)!;
  t.same(rest, []);
  t.same(
    [f!.msgType, f!.length, f!.messageSeq, f!.fragmentOffset, f!.fragmentLength],
    [20, 12, 5, 0, 12],
  );
  t.same(f!.body, hex('0102030405060708090a0b0c'));
  t.end();
});

t.test('several fragments in one record are all read', (t) => {
  const b = body(10);
  const rec = Buffer.concat([
    ...fragmentHandshake(HandshakeType.certificate, 2, b, 4),
    encodeHandshake(HandshakeType.serverHelloDone, 3, Buffer.alloc(0)),
  ]);
  const fs = readHandshakeFragments(rec)!;
  t.same(
    fs.map((f) => [f.msgType, f.messageSeq, f.fragmentOffset, f.fragmentLength, f.length]),
    [
      [11, 2, 0, 4, 10],
      [11, 2, 4, 4, 10],
      [11, 2, 8, 2, 10],
      [14, 3, 0, 0, 0],
    ],
  );
  t.end();
});

t.test('malformed handshake records decode to undefined', (t) => {
  t.equal(readHandshakeFragments(hex('0b 00000a 0002 000000')), undefined, 'truncated header');
  t.equal(
    readHandshakeFragments(hex('0b 00000a 0002 000000 000004 010203')),
    undefined,
    'short body',
  );
  t.equal(
    readHandshakeFragments(hex('0b 00000a 0002 000008 000004 01020304')),
    undefined,
    'past length',
  );
  t.same(readHandshakeFragments(Buffer.alloc(0)), []);
  t.end();
});

t.test('fragmentHandshake: pieces of at most maxFragment bytes, one for an empty body', (t) => {
  const b = body(1000);
  const pieces = fragmentHandshake(HandshakeType.certificate, 1, b, 300);
  t.same(
    pieces.map((p) => p.length),
    [312, 312, 312, 112],
  );
  const r = new HandshakeReassembler({ nextSeq: 1 });
  for (const p of pieces) for (const f of readHandshakeFragments(p)!) t.equal(r.add(f), 'new');
  t.same(r.next(), { msgType: 11, messageSeq: 1, body: b });
  t.equal(fragmentHandshake(14, 0, Buffer.alloc(0), 100).length, 1);
  t.throws(() => fragmentHandshake(14, 0, b, 0), TypeError);
  t.throws(() => fragmentHandshake(14, 0x10000, b, 10), TypeError);
  t.end();
});

t.test('reassembler', (t) => {
  t.test('out of order, duplicated and overlapping fragments give the message once', (t) => {
    const b = body(100);
    const r = new HandshakeReassembler();
    t.equal(r.add(frag(1, 0, b, 60, 40)), 'new');
    t.equal(r.next(), undefined);
    t.equal(r.add(frag(1, 0, b, 60, 40)), 'new', 'duplicate');
    t.equal(r.add(frag(1, 0, b, 10, 30)), 'new');
    t.equal(r.add(frag(1, 0, b, 20, 45)), 'new', 'overlaps both');
    t.equal(r.hasNext(), false, 'bytes 0..10 missing');
    t.equal(r.add(frag(1, 0, b, 0, 11)), 'new');
    const m = r.next()!;
    t.same(m, { msgType: 1, messageSeq: 0, body: b });
    t.equal(r.next(), undefined);
    t.equal(r.nextSeq, 1);
    t.equal(r.bufferedBytes, 0);
    t.end();
  });

  t.test('messages come out in message_seq order; a later one waits for an earlier one', (t) => {
    const r = new HandshakeReassembler();
    const b0 = body(20, 1);
    const b1 = body(30, 2);
    t.equal(r.add(frag(11, 1, b1, 0, 30)), 'new');
    t.equal(r.next(), undefined);
    t.equal(r.add(frag(2, 0, b0, 0, 20)), 'new');
    t.same(r.next()?.body, b0);
    t.same(r.next()?.body, b1);
    t.end();
  });

  t.test("message_seq below nextSeq is 'old' (a retransmission)", (t) => {
    const r = new HandshakeReassembler();
    const b = body(5);
    r.add(frag(1, 0, b, 0, 5));
    r.next();
    t.equal(r.add(frag(1, 0, b, 0, 5)), 'old');
    t.equal(r.add(frag(1, 0, b, 0, 2)), 'old');
    t.equal(r.next(), undefined);
    t.end();
  });

  t.test("inconsistent type or length for the same message_seq is 'invalid'", (t) => {
    const r = new HandshakeReassembler();
    const b = body(50);
    t.equal(r.add(frag(11, 0, b, 0, 10)), 'new');
    t.equal(r.add({ ...frag(11, 0, b, 10, 10), length: 60 }), 'invalid', 'other length');
    t.equal(r.add({ ...frag(11, 0, b, 10, 10), msgType: 12 }), 'invalid', 'other type');
    t.equal(r.add({ ...frag(11, 0, b, 45, 10), length: 50 }), 'invalid', 'past the end');
    t.equal(r.add({ ...frag(11, 0, b, 10, 10), fragmentLength: 11 }), 'invalid', 'body length');
    t.end();
  });

  t.test('when overlapping fragments disagree the first bytes received are kept', (t) => {
    const r = new HandshakeReassembler();
    const a = Buffer.alloc(10, 0xaa);
    const b = Buffer.alloc(10, 0xbb);
    r.add(frag(1, 0, a, 2, 4));
    r.add(frag(1, 0, b, 0, 10));
    t.same(r.next()?.body, hex('bbbb aaaaaaaa bbbbbbbb'));
    t.end();
  });

  t.test('memory is bounded', (t) => {
    const r = new HandshakeReassembler({
      maxMessageLength: 1000,
      maxFutureMessages: 3,
      maxBufferedBytes: 1500,
    });
    t.equal(r.add(frag(11, 0, body(1001), 0, 10)), 'invalid', 'longer than maxMessageLength');
    t.equal(r.add(frag(11, 3, body(10), 0, 10)), 'dropped', 'too far ahead');
    t.equal(r.add(frag(11, 2, body(1000), 0, 10)), 'new');
    t.equal(r.add(frag(11, 1, body(600), 0, 10)), 'dropped', 'over the byte budget');
    t.equal(r.add(frag(11, 1, body(500), 0, 10)), 'new');
    t.equal(r.bufferedBytes, 1500);
    t.end();
  });

  t.test('nextSeq can start later and only move forward', (t) => {
    const r = new HandshakeReassembler({ nextSeq: 1 });
    t.equal(r.add(frag(1, 0, body(3), 0, 3)), 'old');
    r.add(frag(1, 2, body(3), 0, 3));
    r.nextSeq = 3;
    t.equal(r.bufferedBytes, 0, 'skipped messages are freed');
    t.throws(() => {
      r.nextSeq = 2;
    }, TypeError);
    t.throws(() => new HandshakeReassembler({ maxMessageLength: 0 }), TypeError);
    t.end();
  });

  t.test('every permutation-with-duplicates of random fragments reassembles', (t) => {
    let x = 99;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    for (let round = 0; round < 300; round++) {
      const b = body(1 + rand(2000), round);
      const r = new HandshakeReassembler();
      const fs: HandshakeFragment[] = [];
      // Cover the body with random overlapping pieces, then shuffle and duplicate some.
      let o = 0;
      while (o < b.length) {
        const start = Math.max(0, o - rand(20));
        const len = Math.min(b.length - start, 1 + rand(300));
        fs.push(frag(11, 0, b, start, len));
        o = Math.max(o, start + len);
      }
      for (let i = fs.length - 1; i > 0; i--) {
        const j = rand(i + 1);
        [fs[i], fs[j]] = [fs[j]!, fs[i]!];
      }
      for (let i = 0; i < fs.length; i++) {
        r.add(fs[i]!);
        if (rand(4) === 0) r.add(fs[rand(i + 1)]!);
      }
      const m = r.next();
      if (!m?.body.equals(b)) {
        t.fail(`round ${round}`);
        break;
      }
    }
    t.pass('all rounds reassembled');
    t.end();
  });
  t.end();
});

t.test('thousands of 1-byte fragments with gaps cost linear time (no quadratic merging)', (t) => {
  const b = body(65536);
  const r = new HandshakeReassembler();
  const started = performance.now();
  for (let o = 0; o < b.length; o += 2) r.add(frag(11, 0, b, o, 1));
  t.equal(r.hasNext(), false);
  for (let o = 1; o < b.length; o += 2) r.add(frag(11, 0, b, o, 1));
  const ms = performance.now() - started;
  t.same(r.next()?.body, b);
  t.ok(ms < 1000, `65,536 one-byte fragments in ${ms.toFixed(0)} ms`);
  t.end();
});
