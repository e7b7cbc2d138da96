import t from 'tap';
import { AttributeType as A, StunMethod } from '../../lib/stun/constants.js';
import { decodeStunMessage, unknownComprehensionRequired } from '../../lib/stun/message.js';
import { fuzzSettings } from '../helpers/prng.js';
import { decode, errorCode, fixture, peerAttr, relayOf, TestClient } from './core-fixture.js';
import { family6, PEER6 } from './core-fuzz-corpus.js';
import { CoreFuzzer } from './core-fuzz-harness.js';

/*
 * A million random and mutated datagrams through the sans-IO TURN core, from several client
 * 5-tuples (UDP and TCP, IPv4 and IPv6), with peers' datagrams interleaved and a fake clock
 * that moves on (and now and then jumps past permission, channel, nonce and allocation
 * lifetimes). A real authenticated allocation with permissions and channels is set up every
 * epoch, and a third of the STUN inputs are mutated *before* MESSAGE-INTEGRITY and
 * FINGERPRINT are computed, so they authenticate and reach the method handlers.
 *
 * The accounting invariant, from the `TurnObserver` / `TurnEffects` contract:
 * - every `handleClientPacket` call ends in exactly one of
 *   (a) `observer.drop(reason)`, with nothing sent;
 *   (b) `observer.response(method, code)`, with exactly one message sent to that client, a
 *       STUN response carrying the request's transaction ID;
 *   (c) `observer.relayed('client-to-peer')`, with exactly one `sendToPeer` from that
 *       client's own relay, of bytes inside the input;
 *   (d) `effects.openRelay` (an Allocate waiting for its socket): its response comes with
 *       `relayOpened` (one response, one send), unless the allocation is gone by then, in
 *       which case nothing is sent and the socket is closed;
 * - every `handlePeerPacket` call ends in exactly one `drop` or one
 *   `relayed('peer-to-client')` with one send, to the relay's owner, that frames the datagram.
 * The state stays bounded and consistent: allocations within `maxAllocations` and
 * `maxAllocationsPerUser`, gauges equal to what the table holds, channel maps agreeing, and
 * every relay socket opened either held (allocation or reservation) or closed exactly once.
 *
 * The harness is core-fuzz-harness.ts, the seeds core-fuzz-corpus.ts, the invariants
 * core-fuzz-checks.ts. Reproduce a failure with
 *   FUZZ_SEED=<seed> FUZZ_ITERATIONS=<n> npx tap spec/turn/core-fuzz.spec.ts
 */

const { seed: SEED, iterations: ITERATIONS } = fuzzSettings({
  seed: 0x7c0e,
  iterations: 1_000_000,
});

/** Labels the fuzz inputs must reach, to show they get past parsing and authentication. */
const REACHED = [
  'drop not-turn',
  'drop bad-length',
  'drop attribute-overflow',
  'drop bad-fingerprint',
  'drop truncated-channel-data',
  'drop unbound-channel',
  'drop no-allocation',
  'drop no-permission',
  'drop malformed-send',
  'drop client-response',
  'drop client-indication',
  'drop unknown-attribute',
  'relayed client-to-peer',
  'relayed peer-to-client',
  'binding 0',
  'binding 420',
  'unknown 400',
  'allocate 0',
  'allocate 400',
  'allocate 401',
  'allocate 437',
  'allocate 438',
  'allocate 486',
  'refresh 0',
  'refresh 400',
  'refresh 437',
  'create-permission 0',
  'create-permission 400',
  'create-permission 403',
  'create-permission 443',
  'channel-bind 0',
  'channel-bind 400',
];

t.test(`${ITERATIONS} random and mutated datagrams through TurnCore (seed ${SEED})`, async (t) => {
  const fuzzer = new CoreFuzzer(SEED);
  const started = performance.now();
  fuzzer.run(ITERATIONS);
  fuzzer.finish();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.comment(
    `${fuzzer.inputs} client inputs and ${fuzzer.peerInputs} peer datagrams in ${seconds} s`,
  );
  const seen = [...fuzzer.observer.seen].sort((a, b) => b[1] - a[1]);
  t.comment(seen.map(([label, n]) => `${label}: ${n}`).join(', '));
  for (const [what, detail] of fuzzer.problems.found) {
    t.comment(detail);
    t.fail(what);
  }
  t.equal(fuzzer.problems.size, 0, 'no exception escaped, every input was accounted for');
  t.equal(fuzzer.inputs, ITERATIONS, 'every client input was sent');
  if (ITERATIONS >= 200_000) {
    for (const label of REACHED) {
      t.ok((fuzzer.observer.seen.get(label) ?? 0) > 0, `fuzz inputs reached ${label}`);
    }
  }
});

// Minimal cases of what the fuzzer found, kept so that each one names its bug.

t.test('a 65505-byte datagram to an IPv6 relay is dropped and counted, not thrown', async (t) => {
  // A Data indication for it would be 20 + 28 + 65508 bytes: more than a STUN length field
  // holds (IPv6 UDP payloads go up to 65527 bytes; over IPv4 the limit 65507 keeps it safe).
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.allocate((b) => b.add(A.REQUESTED_ADDRESS_FAMILY, family6))), 0);
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER6))), 0);
  const relay = relayOf(f);
  const from = (n: number) => () =>
    f.core.handlePeerPacket(relay, PEER6.address, PEER6.port, Buffer.alloc(n, 7), f.clock.now);
  const sent = f.effects.toClients.length;
  t.doesNotThrow(from(65505));
  t.equal(f.effects.toClients.length, sent, 'nothing sent');
  t.equal(f.observer.drops.length, 1, 'one drop counted');
  t.doesNotThrow(from(65504), 'the largest that fits');
  const indication = decode(f.effects.toClients.at(-1)!.bytes);
  t.equal(indication.value(A.DATA)?.length, 65504, 'is relayed in a Data indication');
});

t.test('a message full of distinct unknown attributes costs linear time', async (t) => {
  // 16 371 comprehension-required attributes nobody knows fill one 64 KiB datagram. Listing
  // them for the 420 must not compare each with all the others (O(n²): ~130 ms per packet
  // here, so a few packets a second keep a core busy). Send indications are checked too.
  const f = fixture();
  const c = new TestClient(f);
  const n = (0xffff - 3) / 4;
  const message = Buffer.alloc(20 + n * 4);
  message.writeUInt16BE(n * 4, 2);
  message.writeUInt32BE(0x2112a442, 4);
  for (let i = 0; i < n; i++) message.writeUInt16BE(0x0100 + i, 20 + i * 4);
  for (const [type, name] of [
    [0x0001, 'Binding request'],
    [0x0016, 'Send indication'],
  ] as const) {
    message.writeUInt16BE(type, 0);
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      f.core.handleClientPacket(c.ref, message, 0, message.length, f.clock.now);
      best = Math.min(best, performance.now() - started);
    }
    t.ok(best < 40, `a 64 KiB ${name} of unknown attributes took ${best.toFixed(1)} ms (< 40)`);
  }
  t.equal(f.observer.responses.at(-1), 'binding 420');
  t.equal(f.observer.drops.at(-1), 'unknown-attribute');
});

t.test('lib/stun lists unknown attributes in linear time too, for the core to use', async (t) => {
  // The same 64 KiB message of distinct unknown types: checking each against the list so far
  // took ~130 ms here.
  const n = (0xffff - 3) / 4;
  const message = Buffer.alloc(20 + n * 4);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt16BE(n * 4, 2);
  message.writeUInt32BE(0x2112a442, 4);
  for (let i = 0; i < n; i++) message.writeUInt16BE(0x0100 + (i % 0x7000), 20 + i * 4);
  const decoded = decodeStunMessage(message);
  if (!decoded.ok) throw new Error(decoded.reason);
  let best = Number.POSITIVE_INFINITY;
  let unknown: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    unknown = unknownComprehensionRequired(decoded.message, new Set([A.USERNAME]));
    best = Math.min(best, performance.now() - started);
  }
  t.equal(unknown.length, n, 'every type once');
  t.ok(best < 40, `${n} distinct unknown attributes listed in ${best.toFixed(1)} ms (< 40)`);
});
