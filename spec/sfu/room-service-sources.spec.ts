/**
 * What a published track is (`camera`, `microphone`, `screen`, `screen-audio`): the publisher
 * says it in `publish` (`sources`, by mid), the SFU lists it in `subscribe-offer` tracks. Both
 * fields are optional: the signal server and the link keep known values and leave unknown ones
 * out, never refusing the message (the SDK's side: e2e-room.spec.ts in Chromium). End to end
 * with @roamhq/wrtc peers.
 */
import t from 'tap';
import { parseLinkDownFrame, parseLinkUpFrame } from '../../lib/signal/link-frame.js';
import { parseClientMessage } from '../../lib/signal/protocol.js';
import { exitAfterTests, RoomHarness, waitFor } from '../helpers/wrtc-client.js';

exitAfterTests(t);

t.test('signal server: publish sources kept when known, unknown ones left out', async (t) => {
  const parse = (sources: unknown) =>
    parseClientMessage(JSON.stringify({ type: 'publish', sdp: 'v=0', sources }));
  t.same(parse({ 0: 'camera', 1: 'screen' }), {
    ok: true,
    message: { type: 'publish', sdp: 'v=0', sources: { 0: 'camera', 1: 'screen' } },
  });
  t.same(
    parse({ 0: 'hologram', 1: 'microphone', ['x'.repeat(65)]: 'camera', '': 'screen' }),
    { ok: true, message: { type: 'publish', sdp: 'v=0', sources: { 1: 'microphone' } } },
    'an unknown source, a long mid and an empty mid are dropped',
  );
  for (const bad of ['screen', ['camera'], null, 7]) {
    t.same(
      parse(bad),
      { ok: true, message: { type: 'publish', sdp: 'v=0' } },
      `sources ${JSON.stringify(bad)} is ignored, the publish kept`,
    );
  }
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${i}`, 'camera']));
  const r = parse(many);
  t.equal(
    r.ok && r.message.type === 'publish' ? Object.keys(r.message.sources ?? {}).length : 0,
    64,
    'at most 64 entries',
  );
});

t.test('the link keeps sources and source both ways', async (t) => {
  const down = parseLinkDownFrame(
    JSON.stringify({
      op: 'message',
      room: 'r',
      peerId: 'p_1',
      message: { type: 'publish', sdp: 'v=0', sources: { 0: 'screen', 1: 'nope' } },
    }),
  );
  t.same(down?.op === 'message' ? down.message : undefined, {
    type: 'publish',
    sdp: 'v=0',
    sources: { 0: 'screen' },
  });
  const track = { mid: '0', trackId: 't1', peerId: 'p_1', kind: 'video' };
  const up = (source: unknown) =>
    parseLinkUpFrame(
      JSON.stringify({
        op: 'send',
        peerId: 'p_2',
        message: { type: 'subscribe-offer', sdp: 'v=0', tracks: [{ ...track, source }] },
      }),
    );
  const tracksOf = (f: ReturnType<typeof up>) =>
    f?.message.type === 'subscribe-offer' ? f.message.tracks : undefined;
  t.same(tracksOf(up('screen')), [{ ...track, source: 'screen' }]);
  t.strictSame(tracksOf(up('hologram')), [track], 'an unknown source is left out, track kept');
});

t.test('a screen share arrives labelled: subscribe-offer tracks carry source', async (t) => {
  const h = await RoomHarness.start();
  t.teardown(() => h.close());
  const a = h.join('s', 'p_a');
  const b = h.join('s', 'p_b');
  a.addTrack('video', { source: 'camera' });
  a.addTrack('audio', { source: 'microphone' });
  b.addTrack('audio');
  await Promise.all([a.publish(), b.publish()]);
  await waitFor(() => b.current.length === 2, 10_000, 'b offered a’s two tracks');
  // A screen share added later, on the same transport.
  a.addTrack('video', { source: 'screen' });
  await a.publish();
  await waitFor(() => b.current.length === 3, 10_000, 'b offered a’s screen');
  t.same(
    b.current.map((x) => [x.kind, x.source]).sort(),
    [
      ['audio', 'microphone'],
      ['video', 'camera'],
      ['video', 'screen'],
    ],
    'each of a’s tracks with the source a gave',
  );
  await waitFor(
    () =>
      (b.remote.get(b.current.find((x) => x.source === 'screen')?.trackId ?? '')?.frames ?? 0) > 3,
    20_000,
    'b receiving the screen',
  );
  t.same(
    a.current.map((x) => x.source),
    [undefined],
    'a track published without a source is listed without one',
  );
  t.same([...a.errors, ...b.errors], []);
});
