/**
 * `SfuRoomService` refusing bad input (rooms-contract): malformed or non-WebRTC SDP gets
 * `error bad-sdp` and leaves no endpoint, participant or room behind; nothing publishable is
 * `sfu-not-acceptable`; a `subscribe-answer` with no offer out, `set-layer` for an unknown
 * track and messages from peers that did not join are `sfu-bad-state`; limits are `sfu-limit`.
 * No media flows here: the SfuServer is real, the offers are written by hand.
 */
import t, { type Test } from 'tap';
import { createAnswer, parse, serialize } from '../../lib/sdp/index.js';
import { SfuRoomService, type SfuRoomServiceOptions } from '../../lib/sfu/room-service.js';
import { SfuServer, type SfuServerOptions } from '../../lib/sfu/sfu-server.js';
import type { SfuServerMessage } from '../../lib/signal/room-service.js';
import { listenSfu } from '../helpers/sfu-fixture.js';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0')).join(':');

/** A publisher's offer: audio and video `sendonly` with SSRCs (video with an RTX FID pair). */
function publishOffer(o: { ufrag?: string; videoSsrc?: number } = {}): string {
  const v = o.videoSsrc ?? 2222;
  const transport = [
    `a=ice-ufrag:${o.ufrag ?? 'pubU'}`,
    'a=ice-pwd:publisherPasswordOf22chars',
    `a=fingerprint:sha-256 ${FP.toUpperCase()}`,
    'a=setup:actpass',
  ];
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    ...transport,
    'a=mid:0',
    'a=sendonly',
    'a=msid:s a1',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=ssrc:1111 cname:c',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
    'c=IN IP4 0.0.0.0',
    ...transport,
    'a=mid:1',
    'a=sendonly',
    'a=msid:s v1',
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 nack',
    'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96',
    `a=ssrc-group:FID ${v} ${v + 1}`,
    `a=ssrc:${v} cname:c`,
    `a=ssrc:${v + 1} cname:c`,
    '',
  ].join('\r\n');
}

/** A client's answer to a subscribe-offer (DTLS active, full ICE), by lib/sdp's answerer. */
function answerTo(offer: string): string {
  const parsed = parse(offer);
  if (!parsed.ok) throw new Error(`the subscribe-offer does not parse: ${parsed.error.code}`);
  const answer = createAnswer(parsed.value, {
    ice: { ufrag: 'cliU', pwd: 'clientPasswordOf22chars' },
    fingerprints: [{ algorithm: 'sha-256', value: FP }],
    setup: 'active',
    iceLite: false,
  });
  if (!answer.ok) throw new Error(`no answer to the subscribe-offer: ${answer.error.code}`);
  return serialize(answer.value);
}

/** An SfuServer and its room service with an inbox per peer; `t`'s teardown closes both. */
async function start(
  t: Test,
  o: { server?: SfuServerOptions; service?: SfuRoomServiceOptions } = {},
) {
  const { sfu: server } = await listenSfu(o.server);
  const service = new SfuRoomService(server, o.service);
  const inbox = new Map<string, SfuServerMessage[]>();
  service.attach((peerId, m) => {
    const list = inbox.get(peerId) ?? [];
    list.push(m);
    inbox.set(peerId, list);
  });
  const last = (peerId: string) => inbox.get(peerId)?.at(-1);
  const empty = () => ({
    rooms: server.router.rooms.size,
    sessions: server.media().mux.sessionCount,
  });
  t.teardown(async () => {
    service.close();
    await server.close();
  });
  return { server, service, last, empty };
}

/** p_1 and p_2 join room r and publish; resolves once the subscribe-offers have gone out. */
async function twoPublishers(h: Awaited<ReturnType<typeof start>>): Promise<void> {
  h.service.join('r', 'p_1');
  h.service.join('r', 'p_2');
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  h.service.message('r', 'p_2', { type: 'publish', sdp: publishOffer({ ufrag: 'pub2' }) });
  await new Promise((r) => setImmediate(r));
}

t.test('malformed and non-WebRTC publish offers: bad-sdp and no state', async (t) => {
  const h = await start(t);
  h.service.join('r', 'p_1');
  const cases: [string, string][] = [
    ['not SDP at all', 'hello'],
    ['no BUNDLE group', publishOffer().replace('a=group:BUNDLE 0 1\r\n', '')],
    ['no ICE credentials', publishOffer().replace(/a=ice-(ufrag|pwd):.*\r\n/g, '')],
    ['no fingerprint', publishOffer().replace(/a=fingerprint:.*\r\n/g, '')],
    ['no rtcp-mux', publishOffer().replace(/a=rtcp-mux\r\n/g, '')],
    ['a repeated mid', publishOffer().replace('a=mid:1', 'a=mid:0')],
  ];
  for (const [name, sdp] of cases) {
    h.service.message('r', 'p_1', { type: 'publish', sdp });
    const m = h.last('p_1');
    t.match(m, { type: 'error', code: 'bad-sdp', ref: 'publish' }, name);
    t.same(h.empty(), { rooms: 0, sessions: 0 }, `${name}: no room, no ICE session`);
  }
});

t.test('an offer with nothing to publish: sfu-not-acceptable and no state', async (t) => {
  const h = await start(t);
  h.service.join('r', 'p_1');
  const sdp = publishOffer().replace(/a=sendonly/g, 'a=recvonly');
  h.service.message('r', 'p_1', { type: 'publish', sdp });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-not-acceptable', ref: 'publish' });
  t.same(h.empty(), { rooms: 0, sessions: 0 });
});

t.test('a good offer is answered; leaving removes every trace', async (t) => {
  const h = await start(t);
  h.service.join('r', 'p_1');
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  const m = h.last('p_1');
  t.equal(m?.type, 'publish-answer');
  const sdp = m?.type === 'publish-answer' ? m.sdp : '';
  t.match(sdp, /a=ice-lite/);
  t.match(sdp, /a=recvonly/);
  t.notMatch(sdp, /candidate:candidate:/, 'candidates written once');
  t.equal(h.server.router.getRoom('r')?.participants.get('p_1')?.producers.size, 2);
  t.equal(h.empty().sessions, 1);
  h.service.leave('r', 'p_1');
  t.same(h.empty(), { rooms: 0, sessions: 0 });
  t.equal(h.service.size, 0);
});

t.test('protocol misuse is sfu-bad-state', async (t) => {
  const h = await start(t);
  h.service.message('r', 'p_x', { type: 'publish', sdp: publishOffer() });
  t.match(h.last('p_x'), { type: 'error', code: 'sfu-bad-state', ref: 'publish' }, 'not joined');
  h.service.join('r', 'p_1');
  h.service.message('r', 'p_1', { type: 'subscribe-answer', sdp: publishOffer() });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-bad-state', ref: 'subscribe-answer' });
  h.service.message('r', 'p_1', { type: 'set-layer', trackId: 'nope', layer: 1 });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-bad-state', ref: 'set-layer' });
  h.service.message('other', 'p_1', { type: 'publish', sdp: publishOffer() });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-bad-state' }, 'the wrong room');
  t.same(h.empty(), { rooms: 0, sessions: 0 });
});

t.test('limits: peers per service, tracks per publisher', async (t) => {
  const h = await start(t, {
    service: { maxPeers: 1 },
    server: { router: { maxProducersPerParticipant: 1 } },
  });
  h.service.join('r', 'p_1');
  h.service.join('r', 'p_2');
  t.match(h.last('p_2'), { type: 'error', code: 'sfu-limit', ref: 'join' });
  t.equal(h.service.size, 1);
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-limit', ref: 'publish' }, 'two tracks > 1');
  t.same(h.empty(), { rooms: 0, sessions: 0 }, 'the refused offer left nothing');
});

t.test(
  'a re-offer with a new ICE ufrag replaces the endpoint; changed SSRCs a track',
  async (t) => {
    const h = await start(t);
    h.service.join('r', 'p_1');
    h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
    const part = () => h.server.router.getRoom('r')?.participants.get('p_1');
    const first = [...(part()?.producers.values() ?? [])];
    t.equal(first.length, 2);
    h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer({ videoSsrc: 5000 }) });
    t.equal(h.last('p_1')?.type, 'publish-answer');
    const second = [...(part()?.producers.values() ?? [])];
    t.equal(second[0], first[0], 'the unchanged audio producer is kept');
    t.ok(first[1]?.closed, 'the video producer whose SSRC changed closed');
    t.equal(second.length, 2);
    t.equal(h.empty().sessions, 1, 'same ICE session');
    h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer({ ufrag: 'newU' }) });
    t.equal(h.last('p_1')?.type, 'publish-answer');
    t.ok(second[0]?.closed, 'an ICE restart ends the old tracks');
    t.equal(part()?.producers.size, 2);
    t.equal(h.empty().sessions, 1, 'the old session is gone, one new');
  },
);

t.test('options are validated', async (t) => {
  const server = new SfuServer();
  t.throws(() => new SfuRoomService(server, { maxPeers: 0 }), TypeError);
  t.throws(() => new SfuRoomService(server, { subscribeAnswerTimeoutMs: 1.5 }), TypeError);
  t.throws(() => new SfuRoomService(server, { maxSubscribeSections: Number.NaN }), TypeError);
});

t.test('a bad subscribe-answer is bad-sdp and leaves the offer outstanding', async (t) => {
  const h = await start(t);
  await twoPublishers(h);
  const offer = h.last('p_1');
  t.equal(offer?.type, 'subscribe-offer', 'p_1 is offered p_2’s tracks');
  const sdp = offer?.type === 'subscribe-offer' ? offer.sdp : '';
  t.same(
    offer?.type === 'subscribe-offer' ? offer.tracks.map((x) => [x.mid, x.peerId, x.kind]) : [],
    [
      ['0', 'p_2', 'audio'],
      ['1', 'p_2', 'video'],
    ],
  );
  const answer = answerTo(sdp);
  const bad: [string, string][] = [
    ['garbage', 'nope'],
    ['sections missing', answer.slice(0, answer.indexOf('m=video'))],
    ['no fingerprint', answer.replace(/a=fingerprint:.*\r\n/g, '')],
    ['mids swapped', answer.replace('a=mid:0', 'a=mid:X').replace('a=mid:1', 'a=mid:0')],
  ];
  for (const [name, s] of bad) {
    h.service.message('r', 'p_1', { type: 'subscribe-answer', sdp: s });
    t.match(h.last('p_1'), { type: 'error', code: 'bad-sdp', ref: 'subscribe-answer' }, name);
  }
  const before = h.last('p_1');
  h.service.message('r', 'p_1', { type: 'subscribe-answer', sdp: answer });
  t.equal(h.last('p_1'), before, 'the good answer is taken silently');
  h.service.message('r', 'p_1', { type: 'subscribe-answer', sdp: answer });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-bad-state' }, 'no second answer');
  h.service.message('r', 'p_1', { type: 'set-layer', trackId: 'unknown', layer: 0 });
  t.match(h.last('p_1'), { type: 'error', code: 'sfu-bad-state', ref: 'set-layer' });
  // p_2 leaves: p_1 is offered its sections again, inactive, and no tracks.
  h.service.leave('r', 'p_2');
  await new Promise((r) => setImmediate(r));
  const again = h.last('p_1');
  t.match(again, { type: 'subscribe-offer', tracks: [] });
  const inactive = again?.type === 'subscribe-offer' ? again.sdp.match(/a=inactive/g) : null;
  t.equal(inactive?.length, 2, 'both sections inactive');
  t.equal(h.server.router.getRoom('r')?.participants.size, 2, 'p_1’s two legs remain');
});

t.test('an unanswered subscribe-offer is replaced after subscribeAnswerTimeoutMs', async (t) => {
  const h = await start(t, { service: { subscribeAnswerTimeoutMs: 50 } });
  await twoPublishers(h);
  const first = h.last('p_1');
  t.equal(first?.type, 'subscribe-offer');
  await new Promise((r) => setTimeout(r, 150));
  const second = h.last('p_1');
  t.equal(second?.type, 'subscribe-offer');
  t.not(second, first, 'a new offer was sent');
  const version = (m: typeof first) =>
    m?.type === 'subscribe-offer' ? /o=rtcd \d+ (\d+)/.exec(m.sdp)?.[1] : undefined;
  t.ok(Number(version(second)) > Number(version(first)), 'with a higher o= version');
});

t.test('changes while an offer is out coalesce into one next offer', async (t) => {
  const h = await start(t);
  const offers: SfuServerMessage[] = [];
  h.service.attach((peerId, m) => {
    if (peerId === 'p_1' && m.type === 'subscribe-offer') offers.push(m);
  });
  const tick = () => new Promise((r) => setImmediate(r));
  for (const p of ['p_1', 'p_2', 'p_3']) h.service.join('r', p);
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  h.service.message('r', 'p_2', { type: 'publish', sdp: publishOffer({ ufrag: 'pub2' }) });
  await tick();
  t.equal(offers.length, 1, 'the first offer: p_2’s tracks');
  h.service.message('r', 'p_3', { type: 'publish', sdp: publishOffer({ ufrag: 'pub3' }) });
  await tick();
  h.service.leave('r', 'p_2');
  await tick();
  t.equal(offers.length, 1, 'nothing more while the first is unanswered');
  const first = offers[0];
  const answer = answerTo(first?.type === 'subscribe-offer' ? first.sdp : '');
  h.service.message('r', 'p_1', { type: 'subscribe-answer', sdp: answer });
  await tick();
  t.equal(offers.length, 2, 'one next offer for both changes');
  const second = offers[1];
  t.same(
    second?.type === 'subscribe-offer' ? second.tracks.map((x) => [x.peerId, x.kind]) : [],
    [
      ['p_3', 'audio'],
      ['p_3', 'video'],
    ],
    'p_3’s tracks in new sections',
  );
  const sdp = second?.type === 'subscribe-offer' ? second.sdp : '';
  t.equal(sdp.match(/a=inactive/g)?.length, 2, 'p_2’s two sections inactive');
  t.equal(sdp.match(/^m=/gm)?.length, 4);
});

t.test('a leg the router ends under a peer is reported; the peer can publish again', async (t) => {
  const h = await start(t);
  h.service.join('r', 'p_1');
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  t.equal(h.last('p_1')?.type, 'publish-answer');
  h.server.router.getRoom('r')?.participants.get('p_1')?.close('abuse');
  t.match(h.last('p_1'), {
    type: 'error',
    code: 'sfu-internal',
    message: 'publish connection ended: abuse',
  });
  t.same(h.empty(), { rooms: 0, sessions: 0 }, 'its endpoint and the empty room are gone');
  h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
  t.equal(h.last('p_1')?.type, 'publish-answer', 'a new publish leg');
  t.equal(h.server.router.getRoom('r')?.participants.get('p_1')?.producers.size, 2);
  h.service.leave('r', 'p_1');
  t.same(h.empty(), { rooms: 0, sessions: 0 });
  t.equal(h.last('p_1')?.type, 'publish-answer', 'leaving is not reported as an error');
});

t.test(
  'a room publisher that never does ICE/DTLS is watched and dropped like a WHIP one',
  async (t) => {
    const h = await start(t, { server: { pendingTimeoutMs: 300 } });
    h.service.join('r', 'p_1');
    h.service.message('r', 'p_1', { type: 'publish', sdp: publishOffer() });
    t.match(h.last('p_1'), { type: 'publish-answer' });
    t.equal(h.server.stats().pendingEndpoints, 1, 'the publish leg counts as pending');
    await new Promise((r) => setTimeout(r, 1_000));
    t.equal(h.server.stats().pendingEndpoints, 0, 'no endpoint left pending');
    t.equal(
      h.server.stats().closed['endpoint-connect-timeout'],
      1,
      'closed on the pending timeout',
    );
    t.equal(h.server.stats().producers, 0, 'its producers are gone');
  },
);
