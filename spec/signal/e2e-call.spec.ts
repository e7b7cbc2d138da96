/**
 * The call page end to end: two Chromium browser contexts open `/?room=…` on a real
 * SignalServer and call each other through it (perfect negotiation, trickle ICE). Each must
 * decode the other's camera video (framesDecoded > 0 from getStats), chat over the data
 * channel, receive a screen share as a second video track, report the session as connected to
 * the server, and keep the call (and its peer id) across a dropped signaling WebSocket.
 */
import t from 'tap';
import {
  BROWSER_TOOLS,
  closeChromium,
  connected,
  openParticipant,
  sharedChromium,
  startSignal,
} from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

// The fake-capture flags of CHROMIUM_ARGS (--use-fake-device-for-media-stream and
// --use-fake-ui-for-media-stream) make getDisplayMedia return a synthetic screen, no picker.
const site = startSignal();
t.teardown(async () => {
  await closeChromium();
  await (await site).close();
});

t.test('two contexts join a room and see each other', toolOptions(BROWSER_TOOLS), async (t) => {
  if (!requireTools(t, BROWSER_TOOLS)) return;
  const { origin } = await site;
  const room = 'e2e-call';
  // Alice sends audio too, Bob (who makes the first offer) only video: Alice's audio needs a
  // second negotiation, started by her once the first one is over.
  const alice = await openParticipant(await sharedChromium(), origin, room, { audio: '1' });
  t.teardown(() => alice.close());
  const bob = await openParticipant(await sharedChromium(), origin, room);
  t.teardown(() => bob.close());
  const [a, b] = await connected(alice, bob);
  const heard = await bob.until('alice’s audio', (s) =>
    s.peers.some((p) => p.peerId === a && p.streams.some((st) => st.kinds.includes('audio'))),
  );
  t.same(
    heard.peers.find((p) => p.peerId === a)?.streams.map((st) => st.kinds),
    [['audio', 'video']],
    'bob receives alice’s audio and video in one stream',
  );
  t.not(a, b, 'two distinct peer ids');

  t.ok((await alice.waitFrames(b, 'camera', 1)) > 0, 'alice decodes bob’s camera');
  t.ok((await bob.waitFrames(a, 'camera', 1)) > 0, 'bob decodes alice’s camera');

  const withPair = await alice.until('selected pair shown', (s) =>
    s.peers.some((p) => p.peerId === b && p.localCandidateType !== undefined),
  );
  const pair = withPair.peers.find((p) => p.peerId === b);
  t.ok(
    ['host', 'srflx', 'prflx'].includes(pair?.localCandidateType ?? ''),
    `a direct candidate type is shown (${pair?.localCandidateType})`,
  );

  // The page reported ICE up through session-state; the server's record says so.
  const s = await alice.until('session connected', (s) => s.sessionState === 'connected');
  const res = await fetch(`${origin}/api/v1/sessions/${encodeURIComponent(s.sessionId)}`);
  t.equal(res.status, 200, 'the session record is readable');
  const record = (await res.json()) as { status?: string; room?: string };
  t.equal(record.status, 'connected', 'the server recorded the session as connected');
  t.equal(record.room, room, 'in the room joined');

  await alice.page.fill('#chat-input', 'hello bob');
  await alice.page.press('#chat-input', 'Enter');
  await bob.until('chat arrives', (s) =>
    s.chat.some((l) => l.from === a && l.text === 'hello bob'),
  );
  t.pass('a chat line crossed the data channel');

  await alice.page.click('#mute');
  t.equal((await alice.state()).audioMuted, true, 'mute toggles');
  await alice.page.click('#camera');
  t.equal((await alice.state()).videoMuted, true, 'camera toggles');
  await alice.page.click('#camera');
});

t.test('a screen share arrives as a second video', toolOptions(BROWSER_TOOLS), async (t) => {
  if (!requireTools(t, BROWSER_TOOLS)) return;
  const { origin } = await site;
  const room = 'e2e-screen';
  const alice = await openParticipant(await sharedChromium(), origin, room);
  t.teardown(() => alice.close());
  const bob = await openParticipant(await sharedChromium(), origin, room);
  t.teardown(() => bob.close());
  const [a] = await connected(alice, bob);

  await alice.page.click('#share');
  await alice.until('sharing', (s) => s.sharing || s.errors.length > 0);
  t.same((await alice.state()).errors, [], 'getDisplayMedia succeeded');
  const s = await bob.until('screen stream', (s) =>
    s.peers.some((p) => p.peerId === a && p.streams.some((st) => st.screen)),
  );
  const streams = s.peers.find((p) => p.peerId === a)?.streams ?? [];
  t.equal(streams.length, 2, 'bob has alice’s camera and her screen');
  t.ok((await bob.waitFrames(a, 'screen', 1)) > 0, 'bob decodes the screen share');
  t.ok((await bob.framesDecoded(a, 'camera')) > 0, 'and still the camera');

  await alice.page.click('#share');
  await bob.until('screen gone', (s) =>
    s.peers.some((p) => p.peerId === a && !p.streams.some((st) => st.screen)),
  );
  t.pass('stopping the share removes it on the other side');
});

t.test(
  'a dropped signaling socket resumes with the same peer id',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const { origin } = await site;
    const room = 'e2e-resume';
    const alice = await openParticipant(await sharedChromium(), origin, room);
    t.teardown(() => alice.close());
    const bob = await openParticipant(await sharedChromium(), origin, room);
    t.teardown(() => bob.close());
    const [a, b] = await connected(alice, bob);

    await alice.page.evaluate('window.rtcdTest.dropSignaling()');
    const s = await alice.until('rejoined', (s) => s.rejoins.length > 0);
    t.same(s.rejoins, [{ resumed: true, peerId: a }], 'resumed, same peer id');
    t.equal(s.clientState, 'joined', 'joined again');

    // Renegotiation after the resume goes through the new socket: share the screen now.
    await alice.page.click('#share');
    await bob.until('screen after resume', (s) =>
      s.peers.some((p) => p.peerId === a && p.streams.some((st) => st.screen)),
    );
    t.ok((await bob.waitFrames(a, 'screen', 1)) > 0, 'the renegotiated track plays');
    const bobView = (await bob.state()).peers.find((p) => p.peerId === a);
    t.equal(bobView?.connectionState, 'connected', 'bob never lost alice');
    const after = await alice.state();
    t.ok(
      after.peers.some((p) => p.peerId === b),
      'alice still has bob',
    );
    t.same(after.errors, [], 'and no error on the way');
  },
);

t.test('the room comes from /r/NAME, or is made up', toolOptions(BROWSER_TOOLS), async (t) => {
  if (!requireTools(t, BROWSER_TOOLS)) return;
  const { origin } = await site;
  const context = await (await sharedChromium()).newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const room = async () => {
    await page.waitForFunction('window.rtcdTest?.state().clientState === "joined"');
    return page.evaluate<string>('window.rtcdTest.state().room');
  };
  await page.goto(`${origin}/r/team.room-1?video=0&audio=0`);
  t.equal(await room(), 'team.room-1', '/r/NAME');
  await page.goto(`${origin}/?video=0&audio=0`);
  const made = await room();
  t.match(made, /^[0-9a-f]{8}$/, 'a random room');
  t.equal(new URL(page.url()).searchParams.get('room'), made, 'put in the address bar to share');
});
