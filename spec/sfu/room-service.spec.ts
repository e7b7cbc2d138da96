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
