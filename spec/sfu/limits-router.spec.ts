/**
 * The router's per-participant budgets on a fake clock (lib/sfu/ingress-limits.ts): RTP and
 * RTCP share the packet rate limit; only `maxRateLimitedSeconds` windows running over it close
 * the sender (`flood`); the retransmissions one subscriber's NACKs (RFC 4585 §6.2.1) may cause
 * per second are bounded too, so feedback cannot be amplified into a flood.
 */
import t from 'tap';
import { encodeRtcp, nackPairsFromSequences } from '../../lib/rtcp/index.js';
import { IngressLimits } from '../../lib/sfu/ingress-limits.js';
import { OPUS, rtp, setup } from './harness.js';

const rr = (ssrc: number) => encodeRtcp([{ kind: 'rr', ssrc, reports: [] }]);

t.test('RTCP counts toward the packet rate limit', async (t) => {
  const { join } = setup({ maxRtpPacketsPerSecond: 10 });
  const alice = join('alice');
  alice.participant.publish({ ...OPUS, encodings: [{ ssrc: 1 }] });
  for (let i = 0; i < 10; i++)
    alice.participant.receiveRtp(rtp({ ssrc: 1, seq: i, ts: 0, pt: 111 }));
  for (let i = 0; i < 5; i++) alice.participant.receiveRtcp(rr(1));
  t.equal(alice.participant.stats.dropped['rate-limit'], 5);
  t.equal(alice.participant.stats.rtcpReceived, 5, 'received, then limited');
  t.notOk(alice.participant.closed);
});

t.test('flood: closed only after maxRateLimitedSeconds windows running over', async (t) => {
  const { join, clock, room } = setup({ maxRtpPacketsPerSecond: 10, maxRateLimitedSeconds: 3 });
  const m = join('mallory').participant;
  m.publish({ ...OPUS, encodings: [{ ssrc: 1 }] });
  let seq = 0;
  const second = (n: number) => {
    for (let i = 0; i < n && !m.closed; i++)
      m.receiveRtp(rtp({ ssrc: 1, seq: seq++, ts: 0, pt: 111 }));
    clock.t += 1000;
  };
  let reason = '';
  m.on('close', (r) => {
    reason = r;
  });
  second(20);
  second(20);
  second(5); // under the limit: the run starts again
  second(20);
  second(20);
  t.notOk(m.closed, 'two windows over, one under, two over: not yet');
  second(20);
  t.equal(reason, 'flood', 'the third window running over closes it');
  t.notOk(room.participants.has('mallory'));
});

t.test('a silent gap also ends a run', async (t) => {
  const l = new IngressLimits({
    maxRtpPacketsPerSecond: 2,
    maxBadPacketsPerSecond: 1,
    maxRateLimitedSeconds: 2,
  });
  const burst = (now: number) => [0, 1, 2].map(() => l.packet(now));
  t.same(burst(0), ['ok', 'ok', 'drop']);
  t.same(burst(5000), ['ok', 'ok', 'drop'], 'after 5 s of silence: a new run');
  t.same(burst(6000), ['ok', 'ok', 'flood'], 'the next second running over: flood');
  t.equal(l.badPacket(0), false);
  t.equal(l.badPacket(1), true, 'over maxBadPacketsPerSecond');
  t.equal(l.badPacket(1001), false, 'a new window');
});

t.test("retransmissions a subscriber's NACKs cause are bounded per second", async (t) => {
  const { join, clock } = setup({ maxRtpPacketsPerSecond: 20 });
  const alice = join('alice');
  const bob = join('bob');
  const mic = alice.participant.publish({ ...OPUS, encodings: [{ ssrc: 1 }] });
  bob.participant.subscribe(mic, { ssrc: 10, payloadType: 111 });
  for (let i = 0; i < 20; i++)
    alice.participant.receiveRtp(rtp({ ssrc: 1, seq: i, ts: 0, pt: 111 }));
  t.equal(bob.rtp.length, 20);
  const out = bob.rtp.map((p) => p.sequenceNumber);
  clock.t += 1000;
  const nack = encodeRtcp([
    { kind: 'nack', senderSsrc: 2, mediaSsrc: 10, pairs: nackPairsFromSequences(out.slice(0, 17)) },
  ]);
  bob.participant.receiveRtcp(nack);
  t.equal(bob.rtp.length, 37, '17 retransmitted');
  bob.participant.receiveRtcp(nack);
  t.equal(bob.rtp.length, 40, 'then only 3 more: 20 a second');
  t.equal(bob.participant.stats.dropped['nack-rate-limit'], 14);
  t.equal(bob.participant.stats.retransmissionsSent, 20);
  clock.t += 1000;
  bob.participant.receiveRtcp(nack);
  t.equal(bob.rtp.length, 57, 'the next second: served again');
});
