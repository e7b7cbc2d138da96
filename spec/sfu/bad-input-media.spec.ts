/**
 * Issue 7 "Bad input", end to end over the SfuServer's shared UDP port with real DTLS-SRTP
 * clients (NodePeer, spec/sfu/ops-peer.ts): a publisher flooding valid RTP is closed (`flood`)
 * and one sending garbage or forged SRTP is closed (`abuse`), each logged with its reason and
 * its WHIP resource gone, while a viewer of another publisher in the same room keeps
 * receiving; strangers' datagrams on the port are counted and harm nobody.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import t from 'tap';
import { rtpPacket } from '../webrtc/node-peer.js';
import { captureLogger, opusPacket, type Session, startOpsSfu, until } from './ops-peer.js';

const GOOD = 0x11;
const { logger, lines } = captureLogger();
const { sfu, udp, connect } = await startOpsSfu(t, {
  logger,
  router: { maxRtpPacketsPerSecond: 200, maxRateLimitedSeconds: 2, maxBadPacketsPerSecond: 100 },
});
const open = (path: string, ssrc?: number) => connect(path, [{ kind: 'audio', ssrc }]);
const resourceId = (s: Session) => s.location.replace('/resource/', '');

// One well-behaved publisher at 50 packets/s and a viewer of it, for the whole file.
const good = await open('/whip/room', 1111);
let goodSeq = 0;
const talk = setInterval(() => good.peer.sendRtp(opusPacket(1111, goodSeq++, GOOD)), 20);
t.teardown(() => clearInterval(talk));
const viewer = await open('/whep/room');
const fromGood = () => viewer.peer.rtp.filter((p) => p[12] === GOOD).length;

/** The viewer still gets the good publisher's packets: its count grows by `n` more. */
async function viewerKeepsReceiving(n = 10): Promise<boolean> {
  const before = fromGood();
  return until(() => fromGood() >= before + n);
}

/**
 * For failure messages (the viewer once received nothing for a whole loaded run and the cause
 * was not kept): what the viewer got, its session's state, and the sessions that ended.
 */
const viewerId = resourceId(viewer);
const viewerState = (): string =>
  JSON.stringify({
    rtp: viewer.peer.rtp.length,
    fromGood: fromGood(),
    session: sfu.resources.get(viewerId)?.endpoint.state ?? 'gone',
    sent: sfu.resources.get(viewerId)?.participant.stats.rtpSent,
    ended: lines.filter((l) => l.obj.resource !== undefined).map((l) => l.obj.reason),
  });

t.test('the viewer receives the good publisher', async (t) => {
  t.ok(await viewerKeepsReceiving(), `packets forwarded through the SFU (${viewerState()})`);
});

t.test('a publisher flooding valid RTP is closed (flood), the room keeps working', async (t) => {
  const flooder = await open('/whip/room', 2222);
  const id = resourceId(flooder);
  t.ok(sfu.resources.has(id));
  let seq = 0;
  const started = performance.now();
  // ~1,000 packets/s against a limit of 200/s, for up to 5 s.
  const flood = setInterval(() => {
    for (let i = 0; i < 10; i++) flooder.peer.sendRtp(opusPacket(2222, seq++, 0x22));
  }, 10);
  const closed = await until(() => !sfu.resources.has(id), 5000);
  const elapsed = performance.now() - started;
  clearInterval(flood);
  t.ok(closed, `the flooder's session ended after ${seq} packets`);
  // The second one-second window over the limit starts a second after the first packet.
  t.ok(elapsed >= 900, `not before two windows over the limit (${Math.round(elapsed)} ms)`);
  const log = lines.find((l) => l.obj.reason === 'flood');
  t.ok(log, 'the reason is logged');
  t.equal(log?.obj.participant !== undefined, true);
  t.ok(
    lines.some((l) => l.obj.resource === id && l.obj.reason === 'flood'),
    'the session end is logged with its resource id and reason',
  );
  const s = sfu.stats();
  t.equal(s.closed.flood, 1);
  t.ok((s.drops.router['rate-limit'] ?? 0) > 0, 'the excess was dropped and counted');
  t.ok(sfu.resources.has(resourceId(good)), 'the good publisher is still there');
  t.ok(
    await viewerKeepsReceiving(),
    `the viewer keeps receiving the good publisher (${viewerState()})`,
  );
});

t.test('a publisher sending garbage and forged SRTP is closed (abuse)', async (t) => {
  const garbler = await open('/whip/room', 3333);
  const id = resourceId(garbler);
  const authFailed = () => sfu.stats().drops.endpoint['srtp-auth-failed'] ?? 0;
  const before = authFailed();
  /** A valid RTP header with a random "tag": fails SRTP authentication. */
  const forged = (seq: number) => Buffer.concat([rtpPacket(3333, seq, 111, 40), randomBytes(16)]);
  // First a batch of forged SRTP under the budget (100 bad packets/s): each one is counted and
  // the sender is not closed for it. (The spray below closes it at the first once-a-second
  // check after it starts, so how many of its packets were counted by then depends on timing:
  // 4 rounds, 81 forged ones, when that check came 40 ms into a loaded run.)
  const BATCH = 50;
  for (let i = 0; i < BATCH; i++) garbler.peer.send(forged(400 + i));
  t.ok(await until(() => authFailed() >= before + BATCH), 'forged SRTP arrives');
  t.equal(authFailed() - before, BATCH, 'each forged SRTP packet counted as srtp-auth-failed');
  t.ok(sfu.resources.has(id), 'not closed while under the budget');
  const spray = setInterval(() => {
    for (let i = 0; i < 20; i++) {
      garbler.peer.send(forged(500 + i));
      // Random bytes in the RTP/RTCP and the DTLS ranges of RFC 7983.
      const junk = randomBytes(20 + (i % 60));
      junk[0] = i % 2 === 0 ? 0x80 + (junk[0]! & 0x3f) : 20 + (junk[0]! % 44);
      garbler.peer.send(junk);
    }
  }, 10);
  const closed = await until(() => !sfu.resources.has(id), 5000);
  clearInterval(spray);
  t.ok(closed, "the garbler's session ended");
  const s = sfu.stats();
  t.equal(s.closed.abuse, 1);
  t.ok(
    authFailed() > before + BATCH,
    `the spray's forged SRTP counted too (before ${before}; ${JSON.stringify(s.drops.endpoint)})`,
  );
  t.ok(
    lines.some((l) => l.obj.reason === 'abuse' && l.obj.participant !== undefined),
    'the reason is logged',
  );
  t.ok(
    await viewerKeepsReceiving(),
    `the viewer keeps receiving the good publisher (${viewerState()})`,
  );
});

t.test("strangers' datagrams on the shared port are counted; nobody is closed", async (t) => {
  const stranger = createSocket('udp4');
  t.teardown(() => stranger.close());
  const before = sfu.stats();
  for (let i = 0; i < 300; i++) {
    const junk = randomBytes(1 + (i % 200));
    if (i % 3 === 0) junk[0] = 0x80; // looks like RTP
    stranger.send(junk, udp.port, udp.address);
  }
  const muxDrops = (s = sfu.stats()) => Object.values(s.drops.mux).reduce((a, b) => a + b, 0);
  t.ok(await until(() => muxDrops() >= muxDrops(before) + 250), 'counted at the mux');
  t.ok((sfu.stats().drops.mux['unknown-remote'] ?? 0) > 0, 'as unknown-remote');
  t.same(sfu.stats().closed, before.closed, 'no participant closed');
  t.ok(await viewerKeepsReceiving(), `the viewer keeps receiving (${viewerState()})`);
});
