import { createHash } from 'node:crypto';
import t from 'tap';
import { HandshakeType } from '../../lib/dtls/constants.js';
import { fragmentHandshake, readHandshakeFragments } from '../../lib/dtls/handshake.js';
import { HandshakeReassembler } from '../../lib/dtls/reassembler.js';
import { HandshakeTranscript } from '../../lib/dtls/transcript.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 6347 §4.2.6: messages are hashed with an unfragmented 12-byte header', (t) => {
  const tr = new HandshakeTranscript();
  tr.add(HandshakeType.clientHello, 1, hex('aabb'));
  tr.add(HandshakeType.serverHelloDone, 4, Buffer.alloc(0));
  const expected = hex('01 000002 0001 000000 000002 aabb  0e 000000 0004 000000 000000');
  t.same(tr.bytes(), expected);
  t.equal(tr.length, expected.length);
  t.equal(tr.count, 2);
  t.same(tr.hash('sha256'), createHash('sha256').update(expected).digest());
  t.same(tr.hash('sha384'), createHash('sha384').update(expected).digest());
  t.end();
});

t.test('a message fragmented on the wire hashes like the unfragmented one', (t) => {
  const body = Buffer.alloc(700, 3);
  const r = new HandshakeReassembler({ nextSeq: 2 });
  const pieces = fragmentHandshake(HandshakeType.certificate, 2, body, 200).reverse();
  for (const p of pieces) for (const f of readHandshakeFragments(p)!) r.add(f);
  const tr = new HandshakeTranscript();
  tr.addMessage(r.next()!);
  const whole = fragmentHandshake(HandshakeType.certificate, 2, body, 10_000)[0]!;
  t.same(tr.bytes(), whole);
  t.end();
});

t.test('the running hash follows later additions and reset starts over', (t) => {
  const tr = new HandshakeTranscript();
  tr.add(1, 0, hex('01'));
  const h1 = tr.hash('sha256');
  tr.add(2, 1, hex('02'));
  const h2 = tr.hash('sha256');
  t.not(h1.toString('hex'), h2.toString('hex'));
  t.same(h2, createHash('sha256').update(tr.bytes()).digest());
  t.same(tr.hash('sha256'), h2, 'hashing twice gives the same digest');
  tr.reset();
  t.equal(tr.length, 0);
  t.same(tr.hash('sha256'), createHash('sha256').digest());
  t.end();
});
