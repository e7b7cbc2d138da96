/**
 * A Node participant of an SFU room on @roamhq/wrtc (libwebrtc in Node), speaking the room
 * protocol of lib/signal/room-service.ts to an `SfuRoomService` through its sink directly (no
 * signal server): a publish RTCPeerConnection (synthetic I420 video and PCM audio sources fed
 * on timers) and a subscribe RTCPeerConnection (answers `subscribe-offer`, counts the frames
 * and audio chunks each remote track delivers through RTCVideoSink / RTCAudioSink).
 */
import wrtcModule from '@roamhq/wrtc';
import { SfuRoomService, type SfuRoomServiceOptions } from '../../lib/sfu/room-service.js';
import { SfuServer, type SfuServerOptions } from '../../lib/sfu/sfu-server.js';
import type {
  RoomService,
  SfuClientMessage,
  SfuServerMessage,
  SfuTrackInfo,
  SfuTrackSource,
} from '../../lib/signal/room-service.js';

// The parts of the W3C API used here (wrtc's own types name DOM globals this build lacks).
interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}
interface Track {
  readonly id: string;
  readonly kind: string;
  readonly readyState: string;
  muted?: boolean;
  stop(): void;
}
interface Transceiver {
  readonly mid: string | null;
  readonly receiver: { readonly track: Track };
  readonly sender: { readonly track: Track | null };
}
interface TrackEvent {
  track: Track;
  transceiver: Transceiver;
}
export interface PeerConnection {
  localDescription: Description | null;
  connectionState: string;
  ontrack: ((e: TrackEvent) => void) | null;
  addTransceiver(
    t: Track | 'audio' | 'video',
    init: { direction: 'sendonly' | 'recvonly' },
  ): Transceiver;
  getTransceivers(): Transceiver[];
  getSenders(): { readonly track: Track | null }[];
  removeTrack(sender: { readonly track: Track | null }): void;
  createOffer(): Promise<Description>;
  createAnswer(): Promise<Description>;
  setLocalDescription(d: Description): Promise<void>;
  setRemoteDescription(d: Description): Promise<void>;
  close(): void;
}
interface Sink {
  stop(): void;
  onframe?: (() => void) | null;
  ondata?: (() => void) | null;
}
interface Wrtc {
  RTCPeerConnection: new (config?: { bundlePolicy?: string }) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new () => {
      createTrack(): Track;
      onFrame(f: { width: number; height: number; data: Uint8Array }): void;
    };
    RTCAudioSource: new () => {
      createTrack(): Track;
      onData(d: { samples: Int16Array; sampleRate: number }): void;
    };
    RTCVideoSink: new (t: Track) => Sink;
    RTCAudioSink: new (t: Track) => Sink;
  };
}
/** @roamhq/wrtc typed with the parts used here (also by wrtc-whip.ts). */
export const wrtc: Wrtc = wrtcModule;

/**
 * libwebrtc's finalizers crash Node's environment teardown (a V8 fatal check after the tests
 * are done, SIGTRAP): a spec using this helper leaves with exit() once tap has written all.
 * Failures still count: the runner reads the TAP stream, and a set exit code is kept.
 */
export function exitAfterTests(t: { teardown(fn: () => void): void }): void {
  t.teardown(() => setImmediate(() => process.exit(process.exitCode ?? 0)));
}

/** Polls `cond` every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One remote track as the subscribe connection sees it. */
export interface RemoteTrack extends SfuTrackInfo {
  /** Video frames (RTCVideoSink) or audio chunks (RTCAudioSink) delivered. */
  frames: number;
}

export class WrtcClient {
  readonly pub: PeerConnection;
  /** The subscribe connection (replaced when an offer says `restart`). */
  sub: PeerConnection;
  /** Subscribe connections replaced on `restart` offers. */
  subscribeRestarts = 0;
  /** Every message the service sent this peer, in order. */
  readonly received: SfuServerMessage[] = [];
  readonly errors: Extract<SfuServerMessage, { type: 'error' }>[] = [];
  /** The peer ids of `active-speaker` messages, in order. */
  readonly speakers: string[] = [];
  /** Remote tracks by track id (kept after they end, with their counts). */
  readonly remote = new Map<string, RemoteTrack>();
  /** The `tracks` of the latest subscribe-offer. */
  current: SfuTrackInfo[] = [];
  /** The last answer sent on the subscribe connection. */
  lastAnswer = '';
  subscribeOffers = 0;
  publishAnswers = 0;
  /** While true, subscribe offers are recorded but not answered (a client gone quiet). */
  ignoreSubscribeOffers = false;
  private readonly midToTrack = new Map<string, string>();
  private readonly sinks = new Map<string, Sink>();
  private readonly feeders: (() => void)[] = [];
  private readonly tracks: Track[] = [];
  /** Sources given to `addTrack`, sent with each publish by the mid of their section. */
  private readonly sources = new Map<Track, SfuTrackSource>();
  private readonly timer: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private answerWaiter: ((sdp: string) => void) | undefined;
  private closed = false;

  constructor(
    /** An `SfuRoomService`, or anything that carries the calls to one (a signal connection). */
    readonly service: Pick<RoomService, 'join' | 'message' | 'leave'>,
    readonly room: string,
    readonly peerId: string,
  ) {
    this.pub = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.sub = this.newSubscribeConnection();
    this.timer = setInterval(() => {
      for (const f of this.feeders) f();
    }, 20);
    service.join(room, peerId);
  }

  /** Frames delivered so far by the tracks `peerId` published, by kind. */
  framesFrom(peerId: string, kind: 'audio' | 'video'): number {
    let n = 0;
    for (const t of this.remote.values()) if (t.peerId === peerId && t.kind === kind) n += t.frames;
    return n;
  }

  /**
   * Adds a synthetic source of `kind` to the publish connection (published on `publish()`);
   * audio is a tone of `amplitude` (Int16, default 8,000; 0 is silence).
   */
  addTrack(
    kind: 'audio' | 'video',
    o: { amplitude?: number; source?: SfuTrackSource } = {},
  ): Track {
    const track = this.addSource(kind, o.amplitude);
    if (o.source !== undefined) this.sources.set(track, o.source);
    return track;
  }

  private addSource(kind: 'audio' | 'video', amplitude: number | undefined): Track {
    if (kind === 'video') {
      const source = new wrtc.nonstandard.RTCVideoSource();
      const width = 160;
      const height = 120;
      const data = new Uint8Array(width * height * 1.5);
      let n = 0;
      this.feeders.push(() => {
        data.fill(n++ & 0xff, 0, width * height);
        source.onFrame({ width, height, data });
      });
      const track = source.createTrack();
      this.tracks.push(track);
      this.pub.addTransceiver(track, { direction: 'sendonly' });
      return track;
    }
    const source = new wrtc.nonstandard.RTCAudioSource();
    const samples = new Int16Array(480);
    for (let i = 0; i < samples.length; i++)
      samples[i] = Math.round((amplitude ?? 8000) * Math.sin(i / 8));
    // 20 ms per tick: two 10 ms chunks, the size RTCAudioSource takes.
    this.feeders.push(() => {
      source.onData({ samples, sampleRate: 48000 });
      source.onData({ samples, sampleRate: 48000 });
    });
    const track = source.createTrack();
    this.tracks.push(track);
    this.pub.addTransceiver(track, { direction: 'sendonly' });
    return track;
  }

  /** Stops sending `track` (its section goes inactive on the next `publish()`). */
  removeTrack(track: Track): void {
    const sender = this.pub.getSenders().find((s) => s.track === track);
    if (sender === undefined) throw new Error('not a published track');
    this.pub.removeTrack(sender);
  }

  /** The answered direction of each subscribe section, by mid (from the last answer). */
  answeredDirections(): Map<string, string> {
    const out = new Map<string, string>();
    for (const part of this.lastAnswer.split(/\r\nm=/).slice(1)) {
      const mid = /a=mid:(\S+)/.exec(part)?.[1];
      const dir = /a=(sendrecv|sendonly|recvonly|inactive)/.exec(part)?.[1];
      if (mid !== undefined)
        out.set(
          mid,
          part.startsWith('audio 0 ') || part.startsWith('video 0 ')
            ? 'rejected'
            : (dir ?? 'sendrecv'),
        );
    }
    return out;
  }

  /** Offers the publish connection's tracks (first or again) and applies the answer. */
  async publish(): Promise<void> {
    const offer = await this.pub.createOffer();
    await this.pub.setLocalDescription(offer);
    const answered = new Promise<string>((resolve) => {
      this.answerWaiter = resolve;
    });
    const sources: Record<string, SfuTrackSource> = {};
    for (const tr of this.pub.getTransceivers()) {
      const source = tr.sender.track === null ? undefined : this.sources.get(tr.sender.track);
      if (tr.mid !== null && source !== undefined) sources[tr.mid] = source;
    }
    const local = this.pub.localDescription?.sdp ?? offer.sdp;
    this.send(
      Object.keys(sources).length === 0
        ? { type: 'publish', sdp: local }
        : { type: 'publish', sdp: local, sources },
    );
    await this.pub.setRemoteDescription({ type: 'answer', sdp: await answered });
  }

  send(message: SfuClientMessage): void {
    this.service.message(this.room, this.peerId, message);
  }

  /** A message from the service (delivered by the harness). */
  receive(m: SfuServerMessage): void {
    if (this.closed) return;
    this.received.push(m);
    if (m.type === 'error') {
      this.errors.push(m);
      this.answerWaiter = undefined;
      return;
    }
    if (m.type === 'publish-answer') {
      this.publishAnswers++;
      const w = this.answerWaiter;
      this.answerWaiter = undefined;
      w?.(m.sdp);
      return;
    }
    if (m.type === 'active-speaker') {
      this.speakers.push(m.peerId);
      return;
    }
    if (this.ignoreSubscribeOffers) return;
    this.queue = this.queue
      .then(() => this.onSubscribeOffer(m.sdp, m.tracks, m.restart))
      .catch((err: unknown) => {
        // An offer still being applied when the test closes this client: its PC is closed.
        if (!this.closed) throw err;
      });
  }

  private newSubscribeConnection(): PeerConnection {
    const pc = new wrtc.RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.ontrack = (e) => this.onTrack(e);
    return pc;
  }

  private async onSubscribeOffer(
    sdp: string,
    tracks: SfuTrackInfo[],
    restart: boolean | undefined,
  ): Promise<void> {
    if (this.closed) return;
    if (restart === true && this.subscribeOffers > 0) {
      // A new connection from the SFU (its old one ended): answered on a new PC, as the SDK.
      for (const sink of this.sinks.values()) sink.stop();
      this.sinks.clear();
      this.midToTrack.clear();
      this.sub.close();
      this.sub = this.newSubscribeConnection();
      this.subscribeRestarts++;
    }
    this.subscribeOffers++;
    this.current = tracks;
    for (const t of tracks) {
      this.midToTrack.set(t.mid, t.trackId);
      if (!this.remote.has(t.trackId)) this.remote.set(t.trackId, { ...t, frames: 0 });
    }
    await this.sub.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    this.lastAnswer = this.sub.localDescription?.sdp ?? answer.sdp;
    if (!this.closed) this.send({ type: 'subscribe-answer', sdp: this.lastAnswer });
  }

  private onTrack(e: TrackEvent): void {
    const mid = e.transceiver.mid;
    if (mid === null) return;
    const count = () => {
      const id = this.midToTrack.get(mid);
      const t = id === undefined ? undefined : this.remote.get(id);
      if (t) t.frames++;
    };
    if (this.sinks.has(mid)) return; // a reused section: the same receiver track
    const sink =
      e.track.kind === 'video'
        ? new wrtc.nonstandard.RTCVideoSink(e.track)
        : new wrtc.nonstandard.RTCAudioSink(e.track);
    if (e.track.kind === 'video') sink.onframe = count;
    else sink.ondata = count;
    this.sinks.set(mid, sink);
  }

  /** Leaves the room (the service's `leave`) and closes both connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.service.leave(this.room, this.peerId);
    for (const s of this.sinks.values()) s.stop();
    for (const track of this.tracks) track.stop();
    this.pub.close();
    this.sub.close();
  }
}

/** An `SfuServer` on loopback with an `SfuRoomService` whose sink delivers to clients. */
export class RoomHarness {
  readonly clients = new Map<string, WrtcClient>();
  /** Receivers of peers that are not `WrtcClient`s (werift, hand-written SDP). */
  readonly others = new Map<string, (m: SfuServerMessage) => void>();

  private constructor(
    readonly server: SfuServer,
    readonly service: SfuRoomService,
  ) {
    // Delivered a turn later, as a socket would: no re-entrance into the service.
    service.attach((peerId, m) =>
      setImmediate(() => {
        const other = this.others.get(peerId);
        if (other) other(m);
        else this.clients.get(peerId)?.receive(m);
      }),
    );
  }

  static async start(
    o: { server?: SfuServerOptions; service?: SfuRoomServiceOptions } = {},
  ): Promise<RoomHarness> {
    const server = new SfuServer(o.server);
    await server.listen();
    return new RoomHarness(server, new SfuRoomService(server, o.service));
  }

  join(room: string, peerId: string): WrtcClient {
    const c = new WrtcClient(this.service, room, peerId);
    this.clients.set(peerId, c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.service.close();
    await this.server.close();
  }
}
