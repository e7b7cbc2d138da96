/**
 * SfuRoom: a participant in an `rtcd signal` room of session type `sfu`, whose media goes
 * through the SFU instead of to every peer. Two RTCPeerConnections, so neither side meets
 * offer glare: one publishes (this client offers, `publish` → `publish-answer`), one
 * subscribes (the SFU offers, `subscribe-offer` → `subscribe-answer`).
 *
 *   const room = await SfuRoom.join({ url: '/ws', room: 'abc', localStream });
 *   room.on('track', ({ peerId, track, stream }) => show(peerId, stream));
 *   room.on('trackended', ({ track }) => hide(track));
 *   await room.publish(screenTrack);            // a second video (source 'screen'), re-offered
 *   room.setLayer(trackId, 0);                  // the lowest simulcast layer of that track
 *
 * When the SFU loses this peer (`error` `sfu-unavailable` with no `ref`: its link to the
 * signal server dropped, or the SFU restarted), the room recovers by itself: the remote tracks
 * end, both connections start over and the published tracks are offered again, retried with
 * backoff while the SFU stays unavailable (`sfu-lost`, then `sfu-restored`).
 */

import { websocketUrl } from './client.js';
import type { Listener } from './emitter.js';
import { Emitter } from './emitter.js';
import { type CandidatePairInfo, selectedCandidatePair } from './peer.js';
import type { JoinedMessage, ServerMessage } from './protocol.js';
import { type PublishOptions, SfuPublisher } from './sfu-publisher.js';
import { type RemoteTrack, SfuSubscriber } from './sfu-subscriber.js';
import { type ReconnectOptions, SignalSocket, type SocketState } from './signal-socket.js';

export interface SfuJoinOptions {
  /** The signaling WebSocket (`wss://host/ws`); an http(s) URL means its `/ws`. */
  url: string;
  room: string;
  /** JWT, when the server requires one. */
  token?: string;
  /** Its tracks are published before the first offer. */
  localStream?: MediaStream;
  /** Publish options for the tracks of `localStream` (e.g. `{ simulcast: true }`). */
  publishOptions?: PublishOptions;
  /** `'relay'` sends media to the SFU through TURN only. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Replaces the ICE servers of the `joined` message. */
  iceServers?: RTCIceServer[];
  reconnect?: ReconnectOptions;
  /** Application ping interval. Default 10,000 ms. */
  heartbeatMs?: number;
  /** How long to wait for each `publish-answer`. Default 15,000 ms. */
  answerTimeoutMs?: number;
  /** Listeners attached before joining, so nothing about the peers already there is missed. */
  listeners?: SfuRoomListeners;
  /**
   * Backoff of the media restarts after the SFU lost this peer, while publishing keeps being
   * refused with `sfu-unavailable`: the first delay doubles per attempt (with jitter) up to the
   * ceiling; retried for as long as the room is joined. Default 250 ms and 8,000 ms.
   */
  sfuRetry?: { minDelayMs?: number; maxDelayMs?: number };
}

export type { PublishOptions, RemoteTrack };

export type SfuRoomListeners = { [K in keyof SfuRoomEvents]?: Listener<SfuRoomEvents[K]> };

export interface SfuRoomEvents {
  state: SocketState;
  'peer-joined': { peerId: string };
  'peer-left': { peerId: string };
  /** A track of another participant arrived (play `stream`, or `new MediaStream([track])`). */
  track: RemoteTrack;
  /** That track ended: unpublished, its peer left, or this client left the room. */
  trackended: RemoteTrack;
  'connection-state': { pc: 'publish' | 'subscribe'; state: RTCPeerConnectionState };
  /** The socket came back: `resumed` when the server kept our peer id (connections kept). */
  rejoined: { resumed: boolean; peerId: string };
  error: { code: string; message: string };
  /** The SFU lost this peer (`sfu-unavailable`): remote tracks ended, media restarting. */
  'sfu-lost': { message: string };
  /** Media published again after `sfu-lost`, on new connections (`attempts` offers made). */
  'sfu-restored': { attempts: number };
  /**
   * The SFU re-created its subscribe connection to us (it had ended: consent lost, DTLS
   * closed): the remote tracks ended (`trackended`) and arrive again (`track`) on a new
   * `subscribeConnection`; `previous` is the closed one.
   */
  'subscribe-restarted': { previous: RTCPeerConnection };
  /** The room's dominant speaker changed (the SFU's RFC 6464 audio levels); may be us. */
  'active-speaker': { peerId: string; trackId: string };
}

/** Join refusals and publish errors that pass once the SFU is back. */
const SFU_UNAVAILABLE = 'sfu-unavailable';

export class SfuRoom extends Emitter<SfuRoomEvents> {
  readonly room: string;
  peerId = '';
  sessionId = '';
  readonly #options: SfuJoinOptions;
  readonly #socket: SignalSocket;
  readonly #peers = new Set<string>();
  /** What we publish, kept across a fresh join (which starts new connections). */
  readonly #published = new Map<MediaStreamTrack, { stream?: MediaStream; o: PublishOptions }>();
  #publisher: SfuPublisher | undefined;
  #subscriber: SfuSubscriber | undefined;
  #iceServers: RTCIceServer[] = [];
  /** The configuration of the current connections (a restarted subscriber reuses it). */
  #config: RTCConfiguration = {};
  /** Bumped each time the media connections start over; an older start's outcome is moot. */
  #generation = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Between `sfu-lost` and `sfu-restored`. */
  #recovering = false;
  /** A retry that came due while the socket was down: run when it is joined again. */
  #deferredAttempt: number | undefined;
  /** `join` resolved: before, a lost SFU fails the join instead of being recovered from. */
  #ready = false;
  #left = false;

  private constructor(options: SfuJoinOptions) {
    super();
    this.room = options.room;
    this.#options = options;
    const listeners = options.listeners ?? {};
    for (const name of Object.keys(listeners) as (keyof SfuRoomEvents)[]) {
      this.#listen(listeners, name);
    }
    const o = options.publishOptions ?? {};
    for (const track of options.localStream?.getTracks() ?? []) {
      this.#published.set(track, { stream: options.localStream, o });
    }
    this.#socket = new SignalSocket({
      url: websocketUrl(options.url),
      room: options.room,
      sessionType: 'sfu',
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      // A fresh join while the SFU is away (a signal restart during an SFU outage) waits.
      retryJoinCodes: [SFU_UNAVAILABLE],
    });
    this.#socket.on('state', (s) => this.emit('state', s));
    this.#socket.on('message', (m) => this.#onMessage(m));
    this.#socket.on('failed', (e) => {
      this.#stopMedia();
      this.emit('error', e);
    });
  }

  /**
   * Connects, joins `room` as an SFU participant and publishes `localStream`; resolves once the
   * SFU has answered that first offer. Rejects with a `SignalError` (e.g. `sfu-unavailable`,
   * `room-type-mismatch` when the room is a P2P one).
   */
  static async join(options: SfuJoinOptions): Promise<SfuRoom> {
    const room = new SfuRoom(options);
    let first = true;
    room.#socket.on('joined', ({ joined, resumed }) => {
      if (first) {
        first = false;
        return;
      }
      room.#rejoined(joined, resumed);
    });
    const joined = await room.#socket.open();
    try {
      await room.#start(joined);
    } catch (err) {
      room.leave();
      throw err;
    }
    room.#ready = true;
    return room;
  }

  #listen<K extends keyof SfuRoomEvents>(listeners: SfuRoomListeners, name: K): void {
    const listener = listeners[name];
    if (listener !== undefined) this.on(name, listener);
  }

  get state(): SocketState {
    return this.#socket.state;
  }

  /** The other participants. */
  get peers(): ReadonlySet<string> {
    return this.#peers;
  }

  /** Live remote tracks. */
  get tracks(): RemoteTrack[] {
    return this.#subscriber?.tracks ?? [];
  }

  /** The local tracks being published. */
  get publishedTracks(): MediaStreamTrack[] {
    return [...this.#published.keys()];
  }

  /** The two connections, for stats (`getStats()`) and diagnostics. */
  get publishConnection(): RTCPeerConnection | undefined {
    return this.#publisher?.pc;
  }

  get subscribeConnection(): RTCPeerConnection | undefined {
    return this.#subscriber?.pc;
  }

  /** The ICE candidate pair each connection uses (`peerId` is `sfu`); undefined before. */
  async selectedCandidatePairs(): Promise<{
    publish: CandidatePairInfo | undefined;
    subscribe: CandidatePairInfo | undefined;
  }> {
    const pair = (pc: RTCPeerConnection | undefined) =>
      pc === undefined ? Promise.resolve(undefined) : selectedCandidatePair(pc, 'sfu');
    const [publish, subscribe] = await Promise.all([
      pair(this.publishConnection),
      pair(this.subscribeConnection),
    ]);
    return { publish, subscribe };
  }

  /** Offer/answer exchanges done on each connection (diagnostics). */
  get negotiations(): { publish: number; subscribe: number } {
    return { publish: this.#publisher?.exchanges ?? 0, subscribe: this.#subscriber?.answered ?? 0 };
  }

  /** Sends `track` to the room; resolves once the SFU has answered the new offer. */
  publish(
    track: MediaStreamTrack,
    stream?: MediaStream,
    options: PublishOptions = {},
  ): Promise<void> {
    if (this.#published.has(track)) return Promise.resolve();
    this.#published.set(track, { ...(stream !== undefined ? { stream } : {}), o: options });
    const publisher = this.#publisher;
    if (publisher === undefined) return Promise.resolve();
    publisher.add(track, stream, options);
    return publisher.negotiate();
  }

  /** Stops sending `track` (its section goes inactive, its producer closes at the SFU). */
  unpublish(track: MediaStreamTrack): Promise<void> {
    if (!this.#published.delete(track)) return Promise.resolve();
    const publisher = this.#publisher;
    if (publisher === undefined || !publisher.remove(track)) return Promise.resolve();
    return publisher.negotiate();
  }

  /** Swaps what a published track's sender sends, without renegotiating (camera → screen). */
  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const entry = this.#published.get(old);
    if (entry === undefined) throw new TypeError('that track is not published');
    await this.#publisher?.replace(old, next);
    this.#published.delete(old);
    this.#published.set(next, entry);
  }

  /** Prefers simulcast layer `layer` (0 = lowest; the SFU clamps) of a remote track. */
  setLayer(trackId: string, layer: number): void {
    if (!Number.isInteger(layer) || layer < 0) throw new TypeError('layer must be an integer ≥ 0');
    this.#socket.send({ type: 'set-layer', trackId, layer });
  }

  /** Simulates a network drop of the signaling socket; the room resumes by itself. */
  dropSignaling(): void {
    this.#socket.drop();
  }

  leave(): void {
    this.#left = true;
    this.#socket.close();
    this.#stopMedia();
  }

  async #start(joined: JoinedMessage): Promise<void> {
    this.#adopt(joined);
    const publisher = this.#startMedia();
    await publisher.negotiate();
  }

  #adopt(joined: JoinedMessage): void {
    this.peerId = joined.peerId;
    this.sessionId = joined.sessionId;
    this.#iceServers = this.#options.iceServers ?? joined.iceServers;
    for (const id of joined.peers) this.#peerJoined(id);
  }

  /**
   * Both connections start over and publish again (the SFU has no state for us); while that
   * is refused with `sfu-unavailable` it is tried again with backoff. Any later restart (or
   * leaving) supersedes this one.
   */
  #restartMedia(attempt: number): void {
    this.#stopMedia();
    if (this.#left) return;
    const publisher = this.#startMedia();
    const generation = this.#generation;
    publisher.negotiate().then(
      () => {
        if (generation !== this.#generation || !this.#recovering) return;
        this.#recovering = false;
        this.emit('sfu-restored', { attempts: attempt + 1 });
      },
      (err: unknown) => {
        if (generation !== this.#generation || this.#left) return;
        const code = codeOf(err);
        // While recovering, an unanswered offer (the SFU went mid-exchange) is retried too.
        const passing =
          code === SFU_UNAVAILABLE || (this.#recovering && code === 'publish-timeout');
        if (!passing) {
          this.#recovering = false;
          this.#error('publish', err);
          return;
        }
        const { minDelayMs = 250, maxDelayMs = 8000 } = this.#options.sfuRetry ?? {};
        const base = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
        this.#retryTimer = setTimeout(
          () => {
            this.#retryTimer = undefined;
            // Offers sent now would only queue in the socket: wait for it to be joined again.
            if (this.#socket.state === 'joined') this.#restartMedia(attempt + 1);
            else this.#deferredAttempt = attempt + 1;
          },
          base / 2 + Math.random() * (base / 2),
        );
      },
    );
  }

  /** The SFU lost this peer: what it received from us and sent us is gone. */
  #sfuLost(message: string): void {
    if (this.#left || !this.#ready) return;
    this.#recovering = true;
    this.emit('sfu-lost', { message });
    this.#restartMedia(0);
  }

  #startMedia(): SfuPublisher {
    this.#generation++;
    const config: RTCConfiguration = {
      iceServers: this.#iceServers,
      iceTransportPolicy: this.#options.iceTransportPolicy ?? 'all',
    };
    this.#config = config;
    this.#subscriber = this.#newSubscriber(config);
    const publisher = new SfuPublisher(
      {
        config,
        ...(this.#options.answerTimeoutMs !== undefined
          ? { answerTimeoutMs: this.#options.answerTimeoutMs }
          : {}),
      },
      {
        send: (sdp, sources) =>
          this.#socket.send(
            Object.keys(sources).length === 0
              ? { type: 'publish', sdp }
              : { type: 'publish', sdp, sources },
          ),
        connectionState: (state) => this.emit('connection-state', { pc: 'publish', state }),
      },
    );
    this.#publisher = publisher;
    for (const [track, { stream, o }] of this.#published) publisher.add(track, stream, o);
    return publisher;
  }

  #newSubscriber(config: RTCConfiguration): SfuSubscriber {
    return new SfuSubscriber(config, {
      send: (sdp) => this.#socket.send({ type: 'subscribe-answer', sdp }),
      added: (t) => this.emit('track', t),
      ended: (t) => this.emit('trackended', t),
      connectionState: (state) => this.emit('connection-state', { pc: 'subscribe', state }),
      error: (what, err) => this.#error(what, err),
    });
  }

  /**
   * A `subscribe-offer` with `restart`: the SFU's subscribe connection ended and this offer is
   * for a new one (new ICE credentials and DTLS, which an existing RTCPeerConnection cannot
   * take), so the subscribing connection is replaced: its tracks end now and arrive again from
   * the new one. The publishing connection is untouched.
   */
  #restartSubscriber(): void {
    const old = this.#subscriber;
    if (old === undefined || old.offers === 0) return;
    this.#subscriber = this.#newSubscriber(this.#config);
    this.#subscriber.inherit(old);
    old.close();
    this.emit('subscribe-restarted', { previous: old.pc });
  }

  #stopMedia(): void {
    // Whatever the current connections were doing is moot now, a scheduled retry too.
    this.#generation++;
    this.#deferredAttempt = undefined;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#publisher?.close();
    this.#subscriber?.close();
    this.#publisher = undefined;
    this.#subscriber = undefined;
  }

  #rejoined(joined: JoinedMessage, resumed: boolean): void {
    if (resumed && joined.peerId === this.peerId) {
      // Same identity: the SFU kept our connections; only the peer list may have moved on.
      const now = new Set(joined.peers);
      for (const id of [...this.#peers]) if (!now.has(id)) this.#peerLeft(id);
      for (const id of joined.peers) this.#peerJoined(id);
      const deferred = this.#deferredAttempt;
      if (deferred !== undefined) this.#restartMedia(deferred);
    } else {
      // A fresh join: the SFU forgot us, so both connections start over and we publish again.
      for (const id of [...this.#peers]) this.#peerLeft(id);
      this.#adopt(joined);
      this.#restartMedia(0);
    }
    this.emit('rejoined', { resumed, peerId: joined.peerId });
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'peer-joined':
        this.#peerJoined(m.peerId);
        return;
      case 'peer-left':
        this.#peerLeft(m.peerId);
        return;
      case 'publish-answer':
        this.#publisher?.answer(m.sdp);
        return;
      case 'subscribe-offer':
        if (m.restart === true) this.#restartSubscriber();
        this.#subscriber?.offer(m.sdp, m.tracks);
        return;
      case 'active-speaker':
        this.emit('active-speaker', { peerId: m.peerId, trackId: m.trackId });
        return;
      case 'error':
        if (m.ref === 'publish') this.#publisher?.refused(m.code, m.message);
        // A refused publish while recovering is the retry's business, not the application's.
        if (m.ref === 'publish' && m.code === SFU_UNAVAILABLE && this.#recovering) {
          return;
        }
        this.emit('error', { code: m.code, message: m.message });
        if (m.code === SFU_UNAVAILABLE && m.ref === undefined) this.#sfuLost(m.message);
        return;
      default:
        return;
    }
  }

  #peerJoined(peerId: string): void {
    if (peerId === this.peerId || this.#peers.has(peerId)) return;
    this.#peers.add(peerId);
    this.emit('peer-joined', { peerId });
  }

  #peerLeft(peerId: string): void {
    this.#subscriber?.peerLeft(peerId);
    if (!this.#peers.delete(peerId)) return;
    this.emit('peer-left', { peerId });
  }

  #error(what: string, err: unknown): void {
    const message = err instanceof Error ? `${what}: ${err.message}` : `${what}: ${String(err)}`;
    this.emit('error', { code: codeOf(err) ?? `client-${what}`, message });
  }
}

function codeOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
