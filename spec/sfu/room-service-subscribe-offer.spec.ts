/**
 * The subscribe offer, sans-IO (RFC 8829 §5.2 offers from an ICE-lite server): BUNDLE of the
 * live sections, `a=ice-lite`, our candidates, `a=setup:actpass`, `sendonly` sections with
 * `a=msid:<peerId> <trackId>`, SSRC + FID RTX and the publisher's fmtp; re-offers keep mids and
 * order (RFC 8829 §5.2.2), ended tracks' sections go `inactive` and are reused only once that
 * is answered; subscriptions take the payload types and extension ids the subscriber answered.
 */
import t from 'tap';
import {
  codecsOf,
  createAnswer,
  directionOf,
  extmapsOf,
  midOf,
  msidsOf,
  parse,
  type SessionDescription,
  serialize,
  ssrcGroupsOf,
} from '../../lib/sdp/index.js';
import { Router } from '../../lib/sfu/router.js';
import { SubscribePlan } from '../../lib/sfu/subscribe-offer.js';

const FP = Array.from({ length: 32 }, () => 'AB').join(':');
const transport = {
  ice: { ufrag: 'subU', pwd: 'subscriberPasswordOf22c' },
  fingerprints: [{ algorithm: 'sha-256', value: FP }],
  candidates: ['1 1 udp 2130706431 127.0.0.1 40000 typ host'],
  setup: 'actpass' as const,
};

function room() {
  const router = new Router();
  const r = router.createRoom('r');
  const send = { sendRtp: () => {}, sendRtcp: () => {} };
  const alice = r.join({ id: 'p_alice', ...send });
  const bob = r.join({ id: 'p_bob', ...send });
  let ssrc = 1000;
  const video = (p: typeof alice) =>
    p.publish({
      kind: 'video',
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      rtxPayloadType: 97,
      encodings: [{ ssrc: ssrc++, rtxSsrc: ssrc++ }],
    });
  const audio = (p: typeof alice) =>
    p.publish({
      kind: 'audio',
      mimeType: 'audio/opus',
      payloadType: 111,
      clockRate: 48000,
      encodings: [{ ssrc: ssrc++ }],
    });
  return { router, alice, bob, video, audio };
}

const parsed = (sdp: string): SessionDescription => {
  const r = parse(sdp);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
};

/** The subscriber's answer, as an ICE-lite-agnostic answerer would write it. */
function answer(offer: string, videoExtensions?: string[]): SessionDescription {
  const r = createAnswer(parsed(offer), {
    ice: { ufrag: 'cliU', pwd: 'clientPasswordOf22chars' },
    fingerprints: [{ algorithm: 'sha-256', value: FP }],
    setup: 'active',
    iceLite: false,
    ...(videoExtensions ? { videoExtensions } : {}),
  });
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

t.test('the first offer: BUNDLE, ice-lite, candidates, sendonly + msid + FID', async (t) => {
  const { alice, video, audio } = room();
  const v = video(alice);
  const a = audio(alice);
  const plan = new SubscribePlan();
  plan.sync([v, a]);
  t.ok(plan.changed());
  const { sdp, tracks } = plan.offer(transport);
  t.notOk(plan.changed(), 'nothing new after the offer');
  t.same(tracks, [
    { mid: '0', trackId: v.id, peerId: 'p_alice', kind: 'video' },
    { mid: '1', trackId: a.id, peerId: 'p_alice', kind: 'audio' },
  ]);
  const d = parsed(sdp);
  t.match(sdp, /a=group:BUNDLE 0 1\r\n/);
  t.match(sdp, /a=ice-lite\r\n/);
  t.match(sdp, /a=setup:actpass\r\n/);
  t.match(sdp, /a=candidate:1 1 udp 2130706431 127\.0\.0\.1 40000 typ host\r\n/);
  t.notMatch(sdp, /candidate:candidate/);
  for (const m of d.media) t.equal(directionOf(m, d.session), 'sendonly');
  t.same(msidsOf(d.media[0]!), [{ streamId: 'p_alice', trackId: v.id }]);
  const fid = ssrcGroupsOf(d.media[0]!.lines).find((g) => g.semantics === 'FID');
  t.equal(fid?.ssrcs.length, 2, 'video has an RTX SSRC');
  const vp8 = codecsOf(d.media[0]!)[0];
  t.match(vp8, { name: 'VP8', clockRate: 90000 });
  t.ok(vp8?.rtxPayloadType !== undefined, 'RTX offered for video');
  t.ok(vp8?.rtcpFb.some((f) => f.type === 'nack' && f.parameter === 'pli'));
  const opus = codecsOf(d.media[1]!)[0];
  t.match(opus, { name: 'opus', payloadType: 111, channels: 2 });
  t.match(opus?.fmtp, /useinbandfec=1/);
  t.ok(extmapsOf(d.media[1]!.lines).some((e) => e.uri.endsWith('ssrc-audio-level')));
});

t.test('subscriptions use the answered payload types and extension ids', async (t) => {
  const { alice, video } = room();
  const v = video(alice);
  const plan = new SubscribePlan();
  plan.sync([v]);
  const { sdp } = plan.offer(transport);
  const onlyTwcc = ['http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'];
  const r = plan.readAnswer(answer(sdp, onlyTwcc));
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.subscriptions.length, 1);
  const s = r.subscriptions[0]!;
  t.equal(s.producer, v);
  const offered = codecsOf(parsed(sdp).media[0]!)[0]!;
  t.equal(s.options.payloadType, offered.payloadType);
  t.same(s.options.rtx, { ssrc: plan.slots[0]!.rtxSsrc, payloadType: offered.rtxPayloadType });
  t.same(s.options.headerExtensions, { [onlyTwcc[0]!]: 3 }, 'only what the answer kept');
  t.equal(s.options.ssrc, plan.slots[0]!.ssrc);
});

t.test(
  'an ended track: inactive, reused for the next track of its kind once answered',
  async (t) => {
    const { alice, bob, video, audio } = room();
    const v1 = video(alice);
    const a1 = audio(alice);
    const plan = new SubscribePlan();
    plan.sync([v1, a1]);
    let r = plan.readAnswer(answer(plan.offer(transport).sdp));
    t.ok(r.ok);
    v1.close();
    plan.sync([a1]);
    t.ok(plan.changed());
    const second = plan.offer(transport);
    t.same(
      second.tracks.map((x) => x.mid),
      ['1'],
      'the ended track is left out of tracks',
    );
    const d = parsed(second.sdp);
    t.same(
      d.media.map((m) => [midOf(m), m.port, directionOf(m, d.session)]),
      [
        ['0', 9, 'inactive'],
        ['1', 9, 'sendonly'],
      ],
      'same mids and order; the ended section is inactive, not removed',
    );
    t.match(second.sdp, /a=group:BUNDLE 0 1\r\n/, 'inactive sections stay bundled');
    // A new video before that offer is answered gets a fresh section, not the ending one.
    const v2 = video(bob);
    plan.sync([a1, v2]);
    t.equal(plan.slots.length, 3);
    t.equal(plan.slots[2]?.producer, v2);
    plan.offer(transport);
    r = plan.readAnswer(answer(plan.offer(transport).sdp));
    t.ok(r.ok);
    // Now mid 0 is answered inactive: the next video reuses it.
    const v3 = video(bob);
    plan.sync([a1, v2, v3]);
    t.equal(plan.slots.length, 3, 'no new section');
    t.equal(plan.slots[0]?.producer, v3, 'mid 0 carries the new track');
    const third = plan.offer(transport);
    t.same(
      third.tracks.map((x) => [x.mid, x.trackId, x.peerId]),
      [
        ['0', v3.id, 'p_bob'],
        ['1', a1.id, 'p_alice'],
        ['2', v2.id, 'p_bob'],
      ],
    );
    const pts = new Set(parsed(third.sdp).media.map((m) => codecsOf(m)[0]?.payloadType));
    t.equal(pts.size, 2, 'one payload type per codec across the bundle');
  },
);

t.test('a section the subscriber rejects is never used again', async (t) => {
  const { alice, video } = room();
  const v1 = video(alice);
  const plan = new SubscribePlan();
  plan.sync([v1]);
  const offer = plan.offer(transport).sdp;
  const a = answer(offer);
  a.media[0]!.port = 0;
  const r = plan.readAnswer(a);
  t.ok(r.ok);
  if (r.ok) t.equal(r.subscriptions.length, 0);
  t.equal(plan.slots[0]?.state, 'rejected');
  const v2 = video(alice);
  plan.sync([v2]);
  t.equal(plan.slots.length, 2, 'a new section for the next track');
  t.match(plan.offer(transport).sdp, /m=video 0 /, 'the rejected one stays port 0');
});

t.test('answers that do not match the offer are refused', async (t) => {
  const { alice, video } = room();
  const plan = new SubscribePlan();
  plan.sync([video(alice), video(alice)]);
  const a = answer(plan.offer(transport).sdp);
  const fewer = { ...a, media: a.media.slice(0, 1) };
  t.match(plan.readAnswer(fewer), { ok: false, reason: /sections/ });
  const swapped = { ...a, media: [a.media[1]!, a.media[0]!] };
  t.match(plan.readAnswer(swapped), { ok: false, reason: /mid/ });
});

t.test('sections are bounded: tracks beyond wait for a free one', async (t) => {
  const { alice, video } = room();
  const plan = new SubscribePlan(undefined, 2);
  const vs = [video(alice), video(alice), video(alice)];
  plan.sync(vs);
  t.equal(plan.slots.length, 2);
  t.equal(plan.tracks().length, 2);
});

t.test(
  'answers are matched by format: two H.264 publishers of one room are told apart',
  async (t) => {
    const { alice, bob } = room();
    const h264 = (p: typeof alice, ssrc: number) =>
      p.publish({
        kind: 'video',
        mimeType: 'video/H264',
        payloadType: 102,
        clockRate: 90000,
        rtxPayloadType: 103,
        encodings: [{ ssrc, rtxSsrc: ssrc + 1 }],
      });
    const baseline = h264(alice, 5000);
    const high = h264(bob, 6000);
    const fmtp = new Map([
      [baseline, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
      [high, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f'],
    ]);
    const plan = new SubscribePlan((p) => ({
      name: 'H264',
      clockRate: 90000,
      fmtp: fmtp.get(p) ?? '',
    }));
    plan.sync([baseline, high]);
    const offer = plan.offer(transport).sdp;
    const pts = parsed(offer).media.map((m) => codecsOf(m)[0]!);
    t.not(pts[0]!.payloadType, pts[1]!.payloadType, 'one payload type per format');
    t.match(pts[1]!.fmtp, /profile-level-id=640c1f/, 'the publisher’s fmtp is offered');
    // An answerer that lists both formats in each section, the other one first: only the
    // format offered in the section may be taken, whatever comes first.
    const a = createAnswer(parsed(offer), {
      ice: { ufrag: 'cliU', pwd: 'clientPasswordOf22chars' },
      fingerprints: [{ algorithm: 'sha-256', value: FP }],
      setup: 'active',
      iceLite: false,
      videoCodecs: [
        {
          name: 'H264',
          clockRate: 90000,
          parameters: { 'packetization-mode': '1', 'profile-level-id': '42e01f' },
          rtx: true,
        },
        {
          name: 'H264',
          clockRate: 90000,
          parameters: { 'packetization-mode': '1', 'profile-level-id': '640c1f' },
          rtx: true,
        },
      ],
    });
    if (!a.ok) throw new Error(a.error.code);
    const both = parsed(
      a.value.media.length === 2
        ? crossList(
            serialize(a.value),
            pts[0]!.payloadType,
            pts[1]!.payloadType,
            fmtp.get(baseline)!,
            fmtp.get(high)!,
          )
        : '',
    );
    t.same(
      both.media.map((m) => codecsOf(m).filter((c) => c.name === 'H264').length),
      [2, 2],
      'each answered section lists both H.264 formats',
    );
    const r = plan.readAnswer(both);
    t.ok(r.ok);
    if (!r.ok) return;
    t.same(
      r.subscriptions.map((s) => [s.producer.participant.id, s.options.payloadType]),
      [
        ['p_alice', pts[0]!.payloadType],
        ['p_bob', pts[1]!.payloadType],
      ],
      'each subscription forwards with its own format’s payload type',
    );
  },
);

/**
 * Each video section of `answer` also lists the other section's H.264 format, first: the
 * baseline section gets the high payload type in front and the other way round.
 */
function crossList(answer: string, ptA: number, ptB: number, fmtpA: string, fmtpB: string): string {
  const sections = answer.split('\r\nm=');
  return sections
    .map((part, i) => {
      if (i === 0) return part;
      const mine = part.includes(`a=rtpmap:${ptA} `) ? ptA : ptB;
      const other = mine === ptA ? ptB : ptA;
      const otherFmtp = other === ptA ? fmtpA : fmtpB;
      return part
        .replace(/^video (\d+) (\S+) /, `video $1 $2 ${other} `)
        .replace(
          /\r\na=rtpmap:/,
          `\r\na=rtpmap:${other} H264/90000\r\na=fmtp:${other} ${otherFmtp}\r\na=rtpmap:`,
        );
    })
    .join('\r\nm=');
}
