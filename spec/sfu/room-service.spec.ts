/**
 * `SfuRoomService` with real peers: @roamhq/wrtc participants (libwebrtc in Node) publish
 * synthetic video and audio through the room protocol (publish → publish-answer,
 * subscribe-offer → subscribe-answer) and receive each other's tracks through the router.
 */
import t from 'tap';
import { exitAfterTests, RoomHarness, waitFor } from '../helpers/wrtc-client.js';

exitAfterTests(t);

t.test('two peers each receive the other one’s video frames and audio', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const a = h.join('r1', 'p_a');
  const b = h.join('r1', 'p_b');
  for (const c of [a, b]) {
    c.addTrack('video');
    c.addTrack('audio');
  }
  await Promise.all([a.publish(), b.publish()]);
  t.equal(a.publishAnswers, 1);
  await waitFor(
    () =>
      a.framesFrom('p_b', 'video') > 5 &&
      b.framesFrom('p_a', 'video') > 5 &&
      a.framesFrom('p_b', 'audio') > 5 &&
      b.framesFrom('p_a', 'audio') > 5,
    20_000,
    'media both ways',
  );
  t.same(a.errors, []);
  t.same(b.errors, []);
  t.same(
    a.current.map((x) => [x.peerId, x.kind]).sort(),
    [
      ['p_b', 'audio'],
      ['p_b', 'video'],
    ],
    'a is offered only b’s tracks',
  );
  t.equal(a.framesFrom('p_a', 'video'), 0, 'a never receives its own tracks');
});

t.test('three peers see the other two; one leaves and its tracks end for the others', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const ids = ['p_1', 'p_2', 'p_3'];
  const [c1, c2, c3] = ids.map((id) => h.join('three', id));
  const all = [c1!, c2!, c3!];
  for (const c of all) {
    c.addTrack('video');
    c.addTrack('audio');
  }
  await Promise.all(all.map((c) => c.publish()));
  await waitFor(
    () =>
      all.every((c) =>
        ids
          .filter((id) => id !== c.peerId)
          .every((id) => c.framesFrom(id, 'video') > 3 && c.framesFrom(id, 'audio') > 3),
      ),
    30_000,
    'every peer receiving the other two',
  );
  for (const c of all) {
    t.equal(c.current.length, 4, `${c.peerId} is offered the other two peers' four tracks`);
    t.same(c.errors, [], `${c.peerId}: no errors`);
  }
  const offersBefore = [c1!.subscribeOffers, c2!.subscribeOffers];
  const c3Mids = c1!.current.filter((x) => x.peerId === 'p_3').map((x) => x.mid);
  c3!.close();
  for (const [i, c] of [c1!, c2!].entries()) {
    await waitFor(
      () => c.subscribeOffers > offersBefore[i]! && c.current.every((x) => x.peerId !== 'p_3'),
      10_000,
      `${c.peerId}: a new subscribe-offer without p_3`,
    );
    t.equal(c.current.length, 2, `${c.peerId} keeps the remaining peer's two tracks`);
  }
  await waitFor(
    () =>
      c1!.lastAnswer !== '' && c3Mids.every((m) => c1!.answeredDirections().get(m) === 'inactive'),
    5_000,
    'p_3’s sections inactive in p_1’s answer',
  );
  t.pass('p_3’s sections are a=inactive in the answered description');
  const before = c1!.framesFrom('p_3', 'video');
  const beforeAudio = c1!.framesFrom('p_3', 'audio');
  const other = c1!.framesFrom('p_2', 'video');
  await new Promise((r) => setTimeout(r, 600));
  t.equal(c1!.framesFrom('p_3', 'video'), before, 'no frames from the peer that left');
  t.equal(c1!.framesFrom('p_3', 'audio'), beforeAudio, 'no audio from the peer that left');
  t.ok(c1!.framesFrom('p_2', 'video') > other, 'the remaining peer still delivers frames');
  t.equal(h.server.router.getRoom('three')?.participants.size, 4, 'two peers, two legs each');
});

t.test('a second track published later reaches the others on the same transport', async (t) => {
  // What the service warns: a re-answer lists the live sections already consumed too, and
  // subscribing those again threw DUPLICATE and warned 'sfu room subscribe failed'.
  const warnings: string[] = [];
  const quiet = (): void => {};
  const logger = {
    debug: quiet,
    info: quiet,
    error: quiet,
    warn: (_: object, msg?: string) => warnings.push(msg ?? ''),
  };
  const h = await RoomHarness.start({ service: { logger } });
  t.teardown(() => h.close());
  const a = h.join('re', 'p_a');
  const b = h.join('re', 'p_b');
  const video = a.addTrack('video');
  b.addTrack('audio');
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(() => b.framesFrom('p_a', 'video') > 3, 20_000, 'b receiving a’s video');
  const sessions = h.server.media().mux.sessionCount;
  t.equal(b.current.length, 1);
  a.addTrack('audio');
  await a.publish();
  await waitFor(() => b.framesFrom('p_a', 'audio') > 3, 10_000, 'b receiving a’s new audio');
  t.equal(b.current.length, 2, 'b is offered both of a’s tracks');
  t.equal(h.server.media().mux.sessionCount, sessions, 'no new ICE session for the re-offer');
  t.equal(a.publishAnswers, 2);
  // Removing the video: its producer closes and b's section for it goes inactive.
  const videoMid = b.current.find((x) => x.kind === 'video')?.mid;
  a.removeTrack(video);
  await a.publish();
  await waitFor(
    () => b.current.length === 1 && b.answeredDirections().get(videoMid ?? '') === 'inactive',
    10_000,
    'a’s video section inactive for b',
  );
  t.equal(b.current[0]?.kind, 'audio');
  t.same([...a.errors, ...b.errors], []);
  t.same(warnings, [], 'no warnings: re-offers subscribe only what is new');
});

t.test('set-layer reaches the subscription of a simulcast track', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const a = h.join('sl', 'p_a');
  a.addTrack('audio');
  await a.publish();
  // A three-layer publisher straight on the router (as a WHIP simulcast publisher would be).
  const room = h.server.router.getRoom('sl');
  const other = room?.join({ id: 'p_sim', sendRtp: () => {}, sendRtcp: () => {} });
  const sim = other?.publish({
    kind: 'video',
    mimeType: 'video/VP8',
    payloadType: 96,
    clockRate: 90000,
    encodings: [{ rid: 'l' }, { rid: 'm' }, { rid: 'h' }],
  });
  const consumer = () =>
    [...(room?.participants.get('p_a~sub')?.consumers.values() ?? [])].find(
      (c) => c.producer === sim,
    );
  await waitFor(() => consumer() !== undefined, 10_000, 'a subscribed to the simulcast track');
  t.same(
    a.current.map((x) => [x.peerId, x.kind]),
    [['p_sim', 'video']],
  );
  t.equal(consumer()?.preferredLayer, 2, 'the highest layer by default');
  a.send({ type: 'set-layer', trackId: sim?.id ?? '', layer: 0 });
  t.equal(consumer()?.preferredLayer, 0, 'set-layer 0: the lowest');
  a.send({ type: 'set-layer', trackId: sim?.id ?? '', layer: 3 });
  t.equal(consumer()?.preferredLayer, 2, 'clamped to the layers that exist');
  t.same(a.errors, []);
});

t.test('the test-only ingress drop applies to room publishers: NACK + RTX repair it', async (t) => {
  const h = await RoomHarness.start({ server: { testIngressDrop: { ratio: 0.1, seed: 7 } } });
  t.teardown(() => h.close());
  const a = h.join('loss', 'p_a');
  const b = h.join('loss', 'p_b');
  a.addTrack('video');
  b.addTrack('audio');
  await Promise.all([a.publish(), b.publish()]);
  const video = () =>
    [...(h.server.router.getRoom('loss')?.participants.get('p_a')?.producers.values() ?? [])][0];
  await waitFor(
    () => (video()?.layers[0]?.retransmissionsReceived ?? 0) > 3,
    20_000,
    'retransmissions from the publisher',
  );
  const frames = b.framesFrom('p_a', 'video');
  await waitFor(() => b.framesFrom('p_a', 'video') > frames + 10, 10_000, 'b still decoding');
  t.pass(`b decodes through 10% ingress loss (${b.framesFrom('p_a', 'video')} frames)`);
  t.ok((h.server.router.getRoom('loss')?.participants.get('p_a')?.stats.rtpReceived ?? 0) > 0);
});

t.test('RFC 6464 audio levels: the room hears who the active speaker is', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const a = h.join('r6', 'p_a');
  const b = h.join('r6', 'p_b');
  a.addTrack('audio', { amplitude: 12_000 });
  b.addTrack('audio', { amplitude: 0 });
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(
    () => a.speakers.length > 0 && b.speakers.length > 0,
    15_000,
    'active-speaker messages',
  );
  t.equal(b.speakers.at(-1), 'p_a', 'the silent peer hears that the speaking one speaks');
  t.equal(a.speakers.at(-1), 'p_a', 'the speaker is told too');
  t.notOk([...a.speakers, ...b.speakers].includes('p_b'), 'the silent peer never speaks');
  const m = b.received.find((x) => x.type === 'active-speaker');
  t.match(m, { type: 'active-speaker', peerId: 'p_a', trackId: String });
});
