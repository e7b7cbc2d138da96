/**
 * A subscriber's transport-cc feedback reaches the bandwidth estimate without garbage per
 * packet status: 2,400 Chromium-shaped feedbacks (reduced-size datagrams of ~40 statuses:
 * runs, 1-bit and 2-bit vectors, small, large and negative deltas, a few losses) through
 * `Participant.receiveRtcp`, measured with V8's sampling heap profiler as the router-core
 * bench does. Through decodeRtcp's PacketStatus objects and transportCcArrivals' array, as
 * before TransportCcReader, this was ~180 B per status (7.2 kB per feedback); now it is ~2 B
 * per status, all of it per feedback (the clock reading, the rate limiter, the allocator),
 * none per status.
 */
import t from 'tap';
import { sampleAllocations } from '../../bench/sfu/heap-sampler.js';
import { encodeRtcp, parseCompound, transportCcFromArrivals } from '../../lib/rtcp/index.js';
import { ExtensionUri } from '../../lib/rtp/index.js';
import { Router } from '../../lib/sfu/router.js';
import { Random } from '../helpers/prng.js';

const FEEDBACKS = 2400;
const ROUNDS = 3;
/** Bytes of JS heap per packet status the ingestion may allocate (see the file comment). */
const MAX_BYTES_PER_STATUS = 8;

const ext = { [ExtensionUri.transportWideCc]: 3 };

/**
 * Feedback as Chromium sends it every ~50 ms: packets ~1-3 ms apart in bursts, a frame gap
 * now and then (a large delta), a reordered packet (negative), ~2% lost in short runs.
 */
function feedbacks(n: number): { datagrams: Buffer[]; statuses: number; chunkKinds: Set<string> } {
  const rnd = new Random(0xc40e);
  const datagrams: Buffer[] = [];
  const chunkKinds = new Set<string>();
  let statuses = 0;
  let seq = 60_000;
  let clock = 3_000_000_000;
  for (let i = 0; i < n; i++) {
    const count = 30 + rnd.int(21);
    const arrivalsUs: (number | undefined)[] = [];
    for (let k = 0; k < count; k++) {
      const r = rnd.next();
      if (r < 0.05) clock += 70_000 + rnd.int(30_000);
      else if (r < 0.07) clock -= 1_000;
      else clock += 250 + rnd.int(3_000);
      const lost = k > 0 && rnd.chance(0.02);
      arrivalsUs.push(lost ? undefined : clock);
      // A run of identical small deltas, as a paced burst gives.
      if (rnd.chance(0.05)) {
        const run = Math.min(count - k - 1, 14 + rnd.int(10));
        for (let j = 0; j < run; j++, k++) {
          clock += 250;
          arrivalsUs.push(clock);
        }
      }
    }
    const fb = transportCcFromArrivals({
      senderSsrc: 0x11223344,
      mediaSsrc: 0x55667788,
      baseSequence: seq & 0xffff,
      feedbackPacketCount: i & 0xff,
      arrivalsUs,
    });
    seq += arrivalsUs.length;
    statuses += arrivalsUs.length;
    const datagram = encodeRtcp([fb]);
    const split = parseCompound(datagram);
    if (!split.ok) throw new Error(split.reason);
    const view = split.packets[0]!.view;
    let covered = 0;
    for (let at = 16; covered < arrivalsUs.length; at += 2) {
      const chunk = view.readUInt16BE(at);
      const kind = chunk & 0x8000 ? (chunk & 0x4000 ? '2-bit' : '1-bit') : 'run';
      chunkKinds.add(kind);
      covered += kind === 'run' ? chunk & 0x1fff : kind === '1-bit' ? 14 : 7;
    }
    datagrams.push(datagram);
  }
  return { datagrams, statuses, chunkKinds };
}

/** The packet status count of a transport-cc datagram (RTCP header, then 12 bytes in). */
function statusesOf(d: Buffer): number {
  return d.readUInt16BE(14);
}

t.test('transport-cc feedback to the estimate allocates (almost) nothing per status', (t) => {
  const router = new Router({ maxParticipantsPerRoom: 10 });
  const room = router.createRoom('twcc-garbage');
  const pub = room.join({ id: 'pub', sendRtp: () => {}, sendRtcp: () => {} });
  const producer = pub.publish({
    kind: 'video',
    mimeType: 'video/VP8',
    payloadType: 96,
    clockRate: 90000,
    encodings: [{ ssrc: 0x9abcdef0 }],
    headerExtensions: ext,
  });
  const sub = room.join({ id: 'sub', sendRtp: () => {}, sendRtcp: () => {} });
  sub.subscribe(producer, { ssrc: 0x55667788, payloadType: 100, headerExtensions: ext });

  const warm = feedbacks(3000);
  const { datagrams, statuses, chunkKinds } = feedbacks(FEEDBACKS);
  t.same([...chunkKinds].sort(), ['1-bit', '2-bit', 'run'], 'every chunk kind is in the mix');
  const before = sub.bandwidth.estimate;
  for (const d of warm.datagrams) sub.receiveRtcp(d);
  // Best of three rounds: the allocator's own per-feedback garbage (its Map iterators) depends
  // on whether V8 has (re)optimized it yet, none of it on the feedback's size.
  let best = { bytes: Number.POSITIVE_INFINITY, statuses: 1, sites: [] as unknown[] };
  const round = FEEDBACKS / ROUNDS;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const profile = sampleAllocations(() => {
      for (let i = r * round; i < (r + 1) * round; i++) {
        const d = datagrams[i]!;
        sub.receiveRtcp(d);
        n += statusesOf(d);
      }
    }, 256);
    if (profile.bytes / n < best.bytes / best.statuses) {
      best = { bytes: profile.bytes, statuses: n, sites: profile.sites.slice(0, 6) };
    }
  }
  t.same(sub.stats.dropped, {}, 'every feedback was read');
  t.not(sub.bandwidth.estimate, before, 'and reached the estimate');
  const perStatus = best.bytes / best.statuses;
  const perFeedback = best.bytes / round;
  t.ok(
    perStatus < MAX_BYTES_PER_STATUS,
    `${perStatus.toFixed(1)} B per status, ${perFeedback.toFixed(0)} B per feedback ` +
      `(${(statuses / FEEDBACKS).toFixed(1)} statuses each; under ${MAX_BYTES_PER_STATUS} ` +
      `B per status; best of ${ROUNDS} rounds): ${JSON.stringify(best.sites)}`,
  );
  router.close();
  t.end();
});
