/**
 * The mux's UDP send path: addresses are IP literals answered without `dns.lookup`'s tick,
 * the datagrams of one task leave together, in order, after it, and pooled datagram buffers
 * are reused only once sent.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t from 'tap';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { literalLookup } from '../../lib/util/literal-lookup.js';

t.test(
  'the mux sends through literalLookup: IP literals answered at once, no dns tick',
  async (t) => {
    const got: [string, number][] = [];
    literalLookup('127.0.0.1', 4, (err, address, family) => {
      t.equal(err, null);
      got.push([address, family]);
    });
    literalLookup('::ffff:10.0.0.1', 6, (_e, address, family) => got.push([address, family]));
    literalLookup('::1', { family: 6 }, (_e, address, family) => got.push([address, family]));
    t.same(got, [
      ['127.0.0.1', 4],
      ['::ffff:10.0.0.1', 6],
      ['::1', 6],
    ]);
  },
);

t.test('a task’s datagrams all leave, in order, once it is over', async (t) => {
  const mux = await IceLiteMux.bind({ address: '127.0.0.1' });
  t.teardown(() => mux.close());
  const peer = createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  t.teardown(() => peer.close());
  const received: Buffer[] = [];
  peer.on('message', (b) => received.push(b));
  const s = mux.createSession();
  const connected = once(s, 'connected');
  const check = buildCheckRequest({
    localUfrag: 'peer',
    remoteUfrag: s.localUfrag,
    remotePwd: s.localPwd,
    priority: 1862270975,
    role: 'controlling',
    tieBreaker: 7n,
    useCandidate: true,
  });
  peer.send(check, mux.address.port, '127.0.0.1');
  await connected;
  while (received.length === 0) await new Promise((r) => setTimeout(r, 5));
  received.length = 0; // the check's response

  const packet = (i: number) => Buffer.from([0x80, 0x60, 0, i, 1, 2, 3, 4]);
  let accepted = 0;
  for (let i = 0; i < 100; i++) if (s.send(packet(i))) accepted++;
  t.equal(accepted, 100);
  t.equal(mux.counters().sent, 100, 'counted when queued');
  const deadline = Date.now() + 3000;
  while (received.length < 100 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  t.equal(received.length, 100, 'all arrived');
  t.same(
    received.map((b) => b[3]),
    Array.from({ length: 100 }, (_, i) => i),
    'in the order sent',
  );

  // Datagrams built in the mux's pooled buffers (as the endpoint's SRTP is): far more in one
  // task than the pool has slots, each arrives with its own bytes.
  const n = 150; // over twice the pool; under the peer's receive queue (~256 small datagrams)
  for (let i = 0; i < n; i++) {
    const b = s.datagram(100 + (i % 7));
    b.fill(i % 251);
    t.equal(s.send(b), true);
  }
  const deadline2 = Date.now() + 3000;
  while (received.length < 100 + n && Date.now() < deadline2) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const pooled = received.slice(100);
  t.equal(pooled.length, n, 'all pooled datagrams arrived');
  const intact = pooled.filter(
    (b, i) => b.length === 100 + (i % 7) && b.every((x) => x === i % 251),
  ).length;
  t.equal(intact, n, 'each with its own length and bytes, in order');

  // A buffer taken and never sent (the endpoint's SRTP protect refused the packet) still
  // uses a slot: a pool's worth of such takes in the task that queued a datagram must not
  // hand out the queued datagram's buffer again before it leaves.
  const queued = s.datagram(64);
  queued.fill(0xaa);
  t.equal(s.send(queued), true);
  for (let i = 0; i < 64; i++) s.datagram(64).fill(0x55);
  const deadline3 = Date.now() + 3000;
  while (received.length < 101 + n && Date.now() < deadline3) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const last = received[100 + n];
  t.ok(
    last !== undefined && last.length === 64 && last.every((x) => x === 0xaa),
    'a queued datagram keeps its bytes through unsent takes',
  );

  // Closing with datagrams still queued: nothing throws out of the flush.
  for (let i = 0; i < 5; i++) s.send(packet(i));
  await mux.close();
  t.equal(s.state, 'closed');
});
