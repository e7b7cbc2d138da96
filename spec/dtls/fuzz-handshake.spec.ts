/**
 * Fuzzing the connection with mutated real flights (bit flips, truncation, record and
 * fragment field edits, garbage) in both directions: nothing throws out of the core, and each
 * side either continues (and then agrees on keys with its peer) or ends with a stable error
 * code. Reproduce a failure with FUZZ_SEED=<seed> (and FUZZ_ITERATIONS).
 */
import t, { type Test } from 'tap';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { ContentType, DTLS1_2, HandshakeType } from '../../lib/dtls/constants.js';
import { DtlsErrorCode } from '../../lib/dtls/errors.js';
import { encodeHandshakeFragment } from '../../lib/dtls/handshake.js';
import { encodeRecord } from '../../lib/dtls/record.js';
import { dtlsPair, type Pair, testCertificates } from '../helpers/dtls-pair.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

const CODES = new Set<string>(Object.values(DtlsErrorCode));

function mutate(r: Random, d: Buffer): Buffer[] {
  const b = Buffer.from(d);
  switch (r.int(7)) {
    case 0: // flip a few bits anywhere
      for (let i = 0, n = 1 + r.int(4); i < n; i++) b[r.int(b.length)]! ^= 1 << r.int(8);
      return [b];
    case 1: // truncate
      return [b.subarray(0, r.int(b.length))];
    case 2: // overwrite a header field of the first record (type, version, epoch, seq, length)
      b[r.pick([0, 1, 2, 3, 4, 10, 11, 12])] = r.int(256);
      return [b];
    case 3: // overwrite a handshake header byte (type, lengths, message_seq, fragment fields)
      if (b.length > 25) b[13 + r.int(12)] = r.int(256);
      return [b];
    case 4: // duplicate, plus a garbage datagram
      return [b, b, r.bytes(1 + r.int(80))];
    case 5: // random bytes in the body
      r.fill(b, 13 + r.int(Math.max(1, b.length - 13)), b.length);
      return [b];
    default: // drop
      return [];
  }
}

function check(t: Test, pair: Pair, label: string): void {
  for (const side of ['client', 'server'] as const) {
    const e = pair.ends[side];
    const s = e.conn.state;
    if (s === 'failed') {
      if (!CODES.has(e.closed?.error ?? '')) t.fail(`${label}: ${side} failed without a code`);
    } else if (s !== 'connected' && s !== 'connecting' && s !== 'closed') {
      t.fail(`${label}: ${side} in state ${s}`);
    }
  }
  if (pair.client.state === 'connected' && pair.server.state === 'connected') {
    const a = pair.client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 30);
    const b = pair.server.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 30);
    if (!a.equals(b)) t.fail(`${label}: both connected with different keys`);
  }
}

t.test('mutated real flights: no exception escapes, every end is coded', async (t) => {
  const { seed, iterations } = fuzzSettings({ seed: 0xd71, iterations: 300 });
  const r = new Random(seed);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < iterations; i++) {
    const victim = r.int(6); // which datagram of the handshake gets mutated
    let count = 0;
    const pair = await dtlsPair({
      client: { maxRetransmits: 3 },
      server: { maxRetransmits: 3 },
      tap: (_from, d) => (count++ === victim ? mutate(r, d) : [d]),
    });
    try {
      pair.run(20_000);
    } catch (err) {
      t.fail(`iteration ${i} (seed ${seed}): ${(err as Error).stack}`);
      break;
    }
    check(t, pair, `iteration ${i} (seed ${seed})`);
    const key = `${pair.client.state}/${pair.server.state}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  t.ok((outcomes.get('connected/connected') ?? 0) > iterations / 3, 'most mutations are survived');
});

t.test('random datagrams at a connected pair and at fresh servers', async (t) => {
  const { seed, iterations } = fuzzSettings({ seed: 0xd72, iterations: 3000 });
  const r = new Random(seed);
  const pair = await dtlsPair();
  pair.run();
  const [, cert] = await testCertificates();
  for (let i = 0; i < iterations; i++) {
    const d = r.bytes(1 + r.int(200));
    d[0] = 20 + r.int(4); // a DTLS content type, so the record layer looks deeper
    d[1] = 0xfe;
    d[2] = r.pick([0xfd, 0xff]);
    d[3] = 0;
    d[4] = r.int(2); // epoch 0 or 1
    if (d.length > 12) d.writeUInt16BE(Math.min(d.length - 13, r.int(300)), 11);
    pair.server.receive(d, pair.now);
    pair.client.receive(d, pair.now);
    const fresh = new DtlsConnection({ role: 'server', certificate: cert! }, { send: () => {} });
    fresh.receive(d, 0);
    fresh.handleTimeout(10_000);
  }
  t.equal(pair.client.state, 'connected', 'unauthenticated garbage never ends a connection');
  t.equal(pair.server.state, 'connected');
  pair.client.send(Buffer.from('still here'));
  pair.run();
  t.same(pair.ends.server.received.map(String), ['still here']);
});

t.test('found by this fuzzer: forged epoch 0 records cannot wedge a handshake', async (t) => {
  // A sequence number near 2^48 would have moved an epoch 0 replay window past every real
  // record; epoch 0 is unauthenticated, so it has no window.
  let pair = await dtlsPair();
  pair.inject(
    'client',
    encodeRecord({
      type: ContentType.handshake,
      version: DTLS1_2,
      epoch: 0,
      sequenceNumber: 2 ** 47,
      fragment: Buffer.from('0c00000000010000000000', 'hex'),
    }),
  );
  pair.run();
  t.equal(pair.client.state, 'connected');
  // A forged first fragment with another message length would have made every real
  // ClientHello fragment "inconsistent" forever: the conflicting partial message is dropped.
  pair = await dtlsPair();
  pair.inject(
    'server',
    encodeRecord({
      type: ContentType.handshake,
      version: DTLS1_2,
      epoch: 0,
      sequenceNumber: 0,
      fragment: encodeHandshakeFragment({
        msgType: HandshakeType.clientHello,
        length: 5000,
        messageSeq: 0,
        fragmentOffset: 0,
        fragmentLength: 10,
        body: Buffer.alloc(10),
      }),
    }),
  );
  pair.run();
  t.equal(pair.server.state, 'connected');
  t.equal(pair.client.state, 'connected');
});
