/**
 * `rtcd sfu --workers 2 --signal-url` with `rtcd signal` as real processes: the primary holds
 * the signal link and places each room's peers with the WHIP/WHEP rooms, so
 * - a WHIP publisher's room and a signal room of the same name meet on one worker whichever
 *   came first (each room's WHIP answer and room peer's publish-answer name the same worker's
 *   UDP port), and a room peer on @roamhq/wrtc decodes the WHIP publisher's video;
 * - room peers count as sessions: with `--max-sessions 2`, two peers make the next WHIP POST
 *   get 503 `server-full`, a third peer's join gets `sfu-limit`, and one leaving frees a place;
 * - a room peer whose worker is killed hears `sfu-unavailable` and can publish again at once.
 */
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import type { SfuClientMessage, SfuServerMessage } from '../../lib/signal/room-service.js';
import { cliOffer, postSdp, startLinkSignal, startSfuChild } from '../helpers/cli-sfu.js';
import { exitAfterTests, WrtcClient, waitFor } from '../helpers/wrtc-client.js';
import { type WhipSession, whipPublish } from '../helpers/wrtc-whip.js';
import { stop, waitForOutput } from '../signal/child.js';

exitAfterTests(t);

const SECRET = 'workers-rooms-secret';

type Frame = { type: string } & Record<string, unknown>;
const SERVICE_TYPES = ['publish-answer', 'subscribe-offer', 'active-speaker', 'error'];
const isServiceMessage = (f: Frame): f is Frame & SfuServerMessage =>
  SERVICE_TYPES.includes(f.type);

const candidatePort = (sdp: string) =>
  Number(/a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(sdp)?.[1]);

/** `rtcd signal` and `rtcd sfu --workers 2` linked to it, both killed when `t` ends. */
async function linkedPair(t: Test, extra: string[] = []) {
  const { signal, port } = await startLinkSignal(t, SECRET);
  const { child: sfu, ready } = await startSfuChild<{ url: string; udp: { ports: number[] } }>(
    t,
    ['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--workers', '2', ...extra],
    {
      RTCD_SIGNAL_URL: `ws://127.0.0.1:${port}/sfu`,
      RTCD_SIGNAL_SECRET: SECRET,
      RTCD_LOG_LEVEL: 'info',
    },
  );
  await waitForOutput(sfu, (out) =>
    out.includes('SFU linked to the signal server') ? true : undefined,
  );
  const links = sfu
    .out()
    .split('\n')
    .filter((l) => l.includes('SFU linked to the signal server'));
  t.equal(links.length, 1, 'one link, from the primary');
  return { signal, sfu, port, url: ready.url, ports: ready.udp.ports };
}

/** A signal client in an sfu room, over its WebSocket. */
class RoomPeer {
  readonly frames: Frame[] = [];
  onService: ((m: SfuServerMessage) => void) | undefined;
  peerId = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      this.frames.push(f);
      if (isServiceMessage(f)) this.onService?.(f);
    });
  }

  static async join(t: Test, port: number, room: string): Promise<RoomPeer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    t.teardown(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const peer = new RoomPeer(ws);
    peer.send({ type: 'join', room, sessionType: 'sfu' });
    const joined = await peer.next('joined');
    peer.peerId = String(joined.peerId);
    return peer;
  }

  send(m: SfuClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The first frame of `type` after the first `skip` of them. */
  async next(type: string, skip = 0): Promise<Record<string, unknown>> {
    for (let i = 0; i < 400; i++) {
      const f = this.frames.filter((x) => x.type === type)[skip];
      if (f !== undefined) return f;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${type}: ${JSON.stringify(this.frames)}`);
  }

  /** The room-service calls of a `WrtcClient`, over this connection. */
  service() {
    return {
      join: () => {},
      message: (_room: string, _peer: string, m: SfuClientMessage) => this.send(m),
      leave: () => this.send({ type: 'leave' }),
    };
  }
}

t.test('WHIP first, then a signal room of the same name: one worker, media', async (t) => {
  const { url, port, sfu, signal, ports } = await linkedPair(t);
  const sessions: WhipSession[] = [];
  t.teardown(() => {
    for (const s of sessions) s.close();
  });
  // Rooms opened by WHIP, each then joined by a room peer: both land on the same worker.
  // (Placed by the signal node's hash over one link per worker, about half of them split.)
  const rooms = ['meet-a', 'meet-b', 'meet-c', 'meet-d'];
  const used = new Set<number>();
  for (const [i, room] of rooms.entries()) {
    const whip = await postSdp(`${url}/whip/${room}`, cliOffer('sendonly', `wrm${i}`));
    t.equal(whip.status, 201);
    const whipPort = candidatePort(await whip.text());
    used.add(whipPort);
    const peer = await RoomPeer.join(t, port, room);
    peer.send({ type: 'publish', sdp: cliOffer('sendonly', `prm${i}`) });
    const answer = await peer.next('publish-answer');
    t.equal(candidatePort(String(answer.sdp)), whipPort, `${room}: the peer is on its worker`);
    peer.send({ type: 'leave' });
  }
  t.same([...used].sort(), [...ports].sort(), 'the rooms spread over both workers');

  // Media: a WHIP publisher first, then a room peer of that name decodes its video.
  const pub = await whipPublish(`${url}/whip/media`);
  sessions.push(pub);
  t.equal(pub.status, 201);
  const peer = await RoomPeer.join(t, port, 'media');
  const client = new WrtcClient(peer.service(), 'media', peer.peerId);
  t.teardown(() => client.close());
  peer.onService = (m) => client.receive(m);
  client.addTrack('audio');
  await client.publish();
  const answer = client.received.find((m) => m.type === 'publish-answer');
  t.equal(
    candidatePort(answer?.type === 'publish-answer' ? answer.sdp : ''),
    candidatePort(pub.answer),
    'the room peer is on the WHIP publisher’s worker',
  );
  const video = () => [...client.remote.values()].find((r) => r.kind === 'video')?.frames ?? 0;
  await waitFor(() => video() > 10, 20_000, 'the WHIP publisher’s video at the room peer');
  t.ok(video() > 10, `the room peer decodes the WHIP publisher's video (${video()} frames)`);
  client.close();
  pub.close();
  t.equal(await stop(sfu), 0);
  t.equal(await stop(signal), 0);
});

t.test('room peers count toward --max-sessions', async (t) => {
  const { url, port, sfu, signal } = await linkedPair(t, ['--max-sessions', '2']);
  const a = await RoomPeer.join(t, port, 'cap-a');
  const b = await RoomPeer.join(t, port, 'cap-b');
  // Their joins reached a worker: its room service answers their publish.
  for (const p of [a, b]) {
    p.send({ type: 'publish', sdp: 'not SDP' });
    t.match(await p.next('error'), { code: 'bad-sdp', ref: 'publish' });
  }
  const full = await postSdp(`${url}/whip/cap-c`, cliOffer('sendonly', 'capc'));
  t.equal(full.status, 503, 'two room peers fill --max-sessions 2');
  t.equal(full.headers.get('retry-after'), '5');
  t.same(await full.json(), { error: 'server-full', message: '2 sessions held' });
  const c = await RoomPeer.join(t, port, 'cap-c');
  t.match(await c.next('error'), { code: 'sfu-limit', message: '2 sessions held', ref: 'join' });
  a.send({ type: 'leave' });
  let again: Response | undefined;
  // The leave reaches the front through the signal node and its link: poll (within the
  // default 20-request burst of this address).
  for (let i = 0; i < 15 && again?.status !== 201; i++) {
    await new Promise((r) => setTimeout(r, 200));
    again = await postSdp(`${url}/whip/cap-c`, cliOffer('sendonly', `cpc${i}`));
    if (again.status !== 201) await again.text();
  }
  t.equal(again?.status, 201, 'the peer left: a WHIP publisher takes its place');
  t.equal(await stop(sfu), 0);
  t.equal(await stop(signal), 0);
});

t.test('a worker dies under a room peer: sfu-unavailable, then it publishes again', async (t) => {
  const { port, sfu, signal } = await linkedPair(t);
  const peer = await RoomPeer.join(t, port, 'doomed');
  peer.send({ type: 'publish', sdp: cliOffer('sendonly', 'dm01') });
  const udpPort = candidatePort(String((await peer.next('publish-answer')).sdp));
  const line = sfu
    .out()
    .split('\n')
    .find((l) => l.includes('"worker listening"') && l.includes(`"udpPort":${udpPort}`));
  const pid = (JSON.parse(line ?? '{}') as { workerPid?: number }).workerPid;
  t.ok(pid, 'the worker holding the room');
  process.kill(pid!, 'SIGKILL');
  t.match(await peer.next('error'), { code: 'sfu-unavailable' }, 'the peer hears it');
  peer.send({ type: 'publish', sdp: cliOffer('sendonly', 'dm02') });
  const again = await peer.next('publish-answer', 1);
  t.ok(candidatePort(String(again.sdp)) > 0, 'joined afresh on a live worker: answered');
  t.equal(await stop(sfu), 0);
  t.equal(await stop(signal), 0);
});
