/**
 * A room peer's subscribe leg that dies under it (here: its router participant closed as an
 * endpoint losing ICE consent would close it) is re-created while the peer's publish leg and
 * membership live on: a new leg (new ICE credentials, new DTLS) offered with `restart: true`,
 * answered by @roamhq/wrtc on a new RTCPeerConnection, media flowing again without a rejoin.
 * Bounded: past `maxSubscribeRestartsPerMinute` the peer gets `error sfu-internal` as before.
 */
import t from 'tap';
import { subscriberIdOf } from '../../lib/sfu/room-service.js';
import type { SfuServerMessage } from '../../lib/signal/room-service.js';
import { exitAfterTests, RoomHarness, type WrtcClient, waitFor } from '../helpers/wrtc-client.js';

exitAfterTests(t);

type Offer = Extract<SfuServerMessage, { type: 'subscribe-offer' }>;
const offersOf = (c: WrtcClient): Offer[] =>
  c.received.filter((m): m is Offer => m.type === 'subscribe-offer');
const ufragOf = (sdp: string): string | undefined => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];

/** Ends `peerId`'s subscribe leg from the server side, as a lost consent would. */
function killSubscribeLeg(h: RoomHarness, room: string, peerId: string): void {
  const p = h.server.router.getRoom(room)?.participants.get(subscriberIdOf(peerId));
  if (p === undefined) throw new Error(`no subscribe leg for ${peerId}`);
  p.close('endpoint-consent-lost');
}

t.test('a dead subscribe leg is re-created and media flows again, no rejoin', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const a = h.join('r', 'p_a');
  const b = h.join('r', 'p_b');
  a.addTrack('video');
  b.addTrack('video');
  b.addTrack('audio');
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(
    () => a.framesFrom('p_b', 'video') > 5 && b.framesFrom('p_a', 'video') > 5,
    20_000,
    'media both ways',
  );
  const first = offersOf(a);
  t.notOk(
    first.some((o) => o.restart !== undefined),
    'offers of the first leg carry no restart field',
  );
  const oldUfrag = ufragOf(first.at(-1)?.sdp ?? '');

  killSubscribeLeg(h, 'r', 'p_a');
  await waitFor(() => a.subscribeRestarts === 1, 10_000, 'a restart offer answered');
  const restart = offersOf(a).find((o) => o.restart === true);
  t.ok(restart, 'a subscribe-offer says restart');
  t.not(ufragOf(restart?.sdp ?? ''), oldUfrag, 'new ICE credentials');
  t.same(
    restart?.tracks.map((x) => [x.peerId, x.kind]).sort(),
    [
      ['p_b', 'audio'],
      ['p_b', 'video'],
    ],
    'the room’s tracks are offered again',
  );
  const video = a.framesFrom('p_b', 'video');
  const audio = a.framesFrom('p_b', 'audio');
  const sent = b.framesFrom('p_a', 'video');
  await waitFor(
    () => a.framesFrom('p_b', 'video') > video + 5 && a.framesFrom('p_b', 'audio') > audio + 5,
    20_000,
    'a receiving b’s media on the new connection',
  );
  t.ok(b.framesFrom('p_a', 'video') > sent, 'a’s publish leg kept working');
  t.same(a.errors, [], 'no error: the peer did not have to rejoin');
  t.equal(a.publishAnswers, 1, 'no publish again');
  t.equal(h.service.size, 2);
  t.equal(h.server.router.getRoom('r')?.participants.size, 4, 'two peers, two legs each');
  // The replaced leg's later offers (renegotiation) are ordinary ones again.
  b.addTrack('audio');
  await b.publish();
  await waitFor(() => a.current.length === 3, 10_000, 'a offered b’s new track');
  t.notOk(offersOf(a).at(-1)?.restart, 'an answered leg’s re-offers do not say restart');
});

t.test('past its budget a peer gets sfu-internal and no more offers', async (t) => {
  let now = 0;
  const h = await RoomHarness.start({
    service: { maxSubscribeRestartsPerMinute: 1, now: () => now },
  });
  t.teardown(() => h.close());
  const a = h.join('b', 'p_a');
  const b = h.join('b', 'p_b');
  a.addTrack('audio');
  b.addTrack('video');
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(() => a.framesFrom('p_b', 'video') > 3, 20_000, 'a receiving');

  killSubscribeLeg(h, 'b', 'p_a');
  await waitFor(() => a.subscribeRestarts === 1, 10_000, 'first restart');
  await waitFor(() => a.framesFrom('p_b', 'video') > 10, 20_000, 'a receiving again');
  now += 30_000;
  killSubscribeLeg(h, 'b', 'p_a');
  await waitFor(() => a.errors.length > 0, 5_000, 'an error');
  t.match(a.errors[0], { type: 'error', code: 'sfu-internal' });
  t.match(a.errors[0]?.message, /subscribe connection ended: endpoint-consent-lost/);
  const offers = offersOf(a).length;
  b.addTrack('audio');
  await b.publish();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(offersOf(a).length, offers, 'no more subscribe offers');
  t.equal(a.subscribeRestarts, 1);
  t.notOk(
    h.server.router.getRoom('b')?.participants.has(subscriberIdOf('p_a')),
    'no subscribe leg',
  );
});

t.test('the budget is per minute: a restart a minute later is allowed again', async (t) => {
  let now = 0;
  const h = await RoomHarness.start({
    service: { maxSubscribeRestartsPerMinute: 1, now: () => now },
  });
  t.teardown(() => h.close());
  const a = h.join('m', 'p_a');
  const b = h.join('m', 'p_b');
  a.addTrack('audio');
  b.addTrack('video');
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(() => a.framesFrom('p_b', 'video') > 3, 20_000, 'a receiving');
  killSubscribeLeg(h, 'm', 'p_a');
  await waitFor(() => a.subscribeRestarts === 1, 10_000, 'first restart');
  await waitFor(() => a.framesFrom('p_b', 'video') > 10, 20_000, 'a receiving again');
  now += 60_000;
  killSubscribeLeg(h, 'm', 'p_a');
  await waitFor(() => a.subscribeRestarts === 2, 10_000, 'second restart, a minute later');
  t.same(a.errors, []);
});

t.test('maxSubscribeRestartsPerMinute is validated', async (t) => {
  const { resolveRoomServiceOptions } = await import('../../lib/sfu/room-service-options.js');
  t.equal(resolveRoomServiceOptions({}).maxSubscribeRestartsPerMinute, 3, 'default 3');
  t.throws(() => resolveRoomServiceOptions({ maxSubscribeRestartsPerMinute: -1 }), TypeError);
  t.throws(() => resolveRoomServiceOptions({ maxSubscribeRestartsPerMinute: 1.5 }), TypeError);
});

t.test('a subscribe leg whose answer never comes fails on time and is re-created', async (t) => {
  const h = await RoomHarness.start({ server: { pendingTimeoutMs: 3000 } });
  t.teardown(() => h.close());
  const a = h.join('q', 'p_a');
  const b = h.join('q', 'p_b');
  a.addTrack('audio');
  b.addTrack('video');
  a.ignoreSubscribeOffers = true;
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(() => a.received.some((m) => m.type === 'subscribe-offer'), 5_000, 'an offer');
  const first = a.received.find((m): m is Offer => m.type === 'subscribe-offer');
  t.notOk(first?.restart, 'the first offer is not a restart');
  await waitFor(
    () => offersOf(a).some((o) => o.restart === true),
    10_000,
    'a restart offer after the unanswered leg timed out',
  );
  t.not(
    ufragOf(offersOf(a).find((o) => o.restart === true)?.sdp ?? ''),
    ufragOf(first?.sdp ?? ''),
    'a new leg',
  );
  t.same(a.errors, [], 'no error');
  // The client answers from now on: the restart offer is resent until answered.
  a.ignoreSubscribeOffers = false;
  const restart = offersOf(a)
    .filter((o) => o.restart === true)
    .at(-1);
  if (restart !== undefined) a.receive(restart);
  await waitFor(() => a.framesFrom('p_b', 'video') > 3, 20_000, 'a receiving b');
  t.same(a.errors, []);
});
