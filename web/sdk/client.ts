/**
 * RtcdClient: a participant in an `rtcd signal` room. It keeps one RemotePeer (an
 * RTCPeerConnection with perfect negotiation) per other participant, sends the local tracks to
 * each, trickles ICE both ways, reports the session state to the server, and survives a
 * dropped WebSocket by resuming.
 *
 *   const call = await RtcdClient.join({ url: 'wss://example.org/ws', room: 'abc' });
 *   call.on('track', ({ peerId, streams }) => show(peerId, streams[0]));
 */
import { Emitter, type Listener } from './emitter.js';
import { type CandidatePairInfo, RemotePeer } from './peer.js';
import type { ClientMessage, JoinedMessage, ServerMessage } from './protocol.js';
import {
  type ReconnectOptions,
  SignalError,
  SignalSocket,
  type SocketState,
} from './signal-socket.js';

export interface JoinOptions {
  /** The signaling WebSocket (`wss://host/ws`); an http(s) URL means its `/ws`. */
  url: string;
  room: string;
  /** JWT, when the server requires one. */
  token?: string;
  /** Tracks of this stream are sent to every peer. */
  localStream?: MediaStream;
  /** Negotiated data channels opened with every peer, ids in this order. Default `['chat']`. */
  channels?: readonly string[];
  /** `'relay'` forces every connection through TURN. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Replaces the ICE servers the server hands out. */
  iceServers?: RTCIceServer[];
  /**
   * Where TURN credentials come from: `'joined'` (the `joined` message, default) or `'http'`
   * (`POST /api/v1/turn-credentials` on the signaling server, with the token as Bearer).
   */
  turnCredentials?: 'joined' | 'http';
  reconnect?: ReconnectOptions;
  /** Application ping interval. Default 10,000 ms. */
  heartbeatMs?: number;
  /**
   * Listeners attached before joining, so events about the peers already in the room (their
   * `peer-joined`, `datachannel`, early `track`s) are not missed.
   */
  listeners?: Listeners;
}

export type Listeners = { [K in keyof RtcdClientEvents]?: Listener<RtcdClientEvents[K]> };

export type ClientState = SocketState;

export interface RtcdClientEvents {
  state: ClientState;
  'peer-joined': { peerId: string };
  'peer-left': { peerId: string };
  track: {
    peerId: string;
    track: MediaStreamTrack;
    streams: readonly MediaStream[];
    receiver: RTCRtpReceiver;
  };
  datachannel: { peerId: string; label: string; channel: RTCDataChannel };
  'connection-state': { peerId: string; state: RTCPeerConnectionState };
  'candidate-pair': CandidatePairInfo;
  'session-state': 'connected' | 'disconnected';
  /** The socket came back: `resumed` when the server kept our peer id. */
  rejoined: { resumed: boolean; peerId: string };
  message: { from: string; data: unknown };
  error: { code: string; message: string; peerId?: string };
}

export { SignalError };

export class RtcdClient extends Emitter<RtcdClientEvents> {
  readonly room: string;
  peerId = '';
  sessionId = '';
  iceServers: RTCIceServer[] = [];
  readonly #peers = new Map<string, RemotePeer>();
  readonly #tracks: { track: MediaStreamTrack; stream: MediaStream }[] = [];
  readonly #socket: SignalSocket;
  readonly #options: JoinOptions;
  #sessionState: 'connected' | 'disconnected' | undefined;
  #held: ServerMessage[] | undefined = [];

  private constructor(options: JoinOptions) {
    super();
    this.room = options.room;
    this.#options = options;
    const listeners = options.listeners ?? {};
    for (const name of Object.keys(listeners) as (keyof RtcdClientEvents)[]) {
      this.#listen(listeners, name);
    }
    const stream = options.localStream;
    if (stream !== undefined) {
      for (const track of stream.getTracks()) this.#tracks.push({ track, stream });
    }
    this.#socket = new SignalSocket({
      url: websocketUrl(options.url),
      room: options.room,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    this.#socket.on('state', (s) => this.emit('state', s));
    this.#socket.on('message', (m) => {
      // Until the ICE servers are known, hold what arrives: a peer made now would lack them.
      if (this.#held === undefined) this.#onMessage(m);
      else this.#held.push(m);
    });
    this.#socket.on('failed', (e) => {
      this.#closePeers();
      this.emit('error', e);
    });
  }

  /** Connects, joins `room`, and starts connecting to everyone already in it. */
  static async join(options: JoinOptions): Promise<RtcdClient> {
    const client = new RtcdClient(options);
    let first = true;
    client.#socket.on('joined', ({ joined, resumed }) => {
      if (first) {
        first = false;
        return;
      }
      if (!resumed || joined.peerId !== client.peerId) client.#restart(joined);
      else client.#reconcile(joined.peers);
      client.emit('rejoined', { resumed, peerId: joined.peerId });
    });
    const joined = await client.#socket.open();
    try {
      await client.#start(joined);
    } catch (err) {
      client.leave();
      throw err;
    }
    return client;
  }

  #listen<K extends keyof RtcdClientEvents>(listeners: Listeners, name: K): void {
    const listener = listeners[name];
    if (listener !== undefined) this.on(name, listener);
  }

  get state(): ClientState {
    return this.#socket.state;
  }

  get peers(): ReadonlyMap<string, RemotePeer> {
    return this.#peers;
  }

  /** The data channel `label` with one peer, once that peer exists. */
  channel(peerId: string, label: string): RTCDataChannel | undefined {
    return this.#peers.get(peerId)?.channels.get(label);
  }

  /** Sends a track to every peer, present and future (renegotiates). */
  addTrack(track: MediaStreamTrack, stream: MediaStream): void {
    this.#tracks.push({ track, stream });
    for (const peer of this.#peers.values()) peer.addTrack(track, stream);
  }

  removeTrack(track: MediaStreamTrack): void {
    const i = this.#tracks.findIndex((t) => t.track === track);
    if (i >= 0) this.#tracks.splice(i, 1);
    for (const peer of this.#peers.values()) peer.removeTrack(track);
  }

  /** Swaps what a sender sends without renegotiating (e.g. camera → screen). */
  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const entry = this.#tracks.find((t) => t.track === old);
    if (entry !== undefined) entry.track = next;
    await Promise.all([...this.#peers.values()].map((p) => p.replaceTrack(old, next)));
  }

  /** Relays application data through the signaling server (no data channel needed). */
  sendMessage(to: string, data: unknown): void {
    this.#socket.send({ type: 'message', to, data });
  }

  /** Simulates a network drop of the signaling socket; the client resumes by itself. */
  dropSignaling(): void {
    this.#socket.drop();
  }

  leave(): void {
    this.#socket.close();
    this.#closePeers();
  }

  async #start(joined: JoinedMessage): Promise<void> {
    this.#held ??= [];
    this.peerId = joined.peerId;
    this.sessionId = joined.sessionId;
    try {
      this.iceServers = await this.#iceServersFor(joined);
    } finally {
      const held = this.#held;
      this.#held = undefined;
      for (const id of joined.peers) if (!this.#peers.has(id)) this.#addPeer(id, true);
      for (const m of held) this.#onMessage(m);
    }
  }

  /** A fresh join (the resume was refused): new identity, so every connection starts over. */
  #restart(joined: JoinedMessage): void {
    // The old session ended with the old identity; nothing is reported for it any more.
    this.#sessionState = undefined;
    this.#closePeers();
    this.#start(joined).catch((err: unknown) => this.#error('restart', err));
  }

  /**
   * After a resume: peers that left while we were away are gone, new ones are added. Those
   * joined after us (we were still a member), so they make the first offer, as newcomers do.
   */
  #reconcile(present: readonly string[]): void {
    const now = new Set(present);
    for (const id of [...this.#peers.keys()]) if (!now.has(id)) this.#removePeer(id);
    for (const id of present) if (!this.#peers.has(id)) this.#addPeer(id, false);
  }

  async #iceServersFor(joined: JoinedMessage): Promise<RTCIceServer[]> {
    const o = this.#options;
    if (o.iceServers !== undefined) return o.iceServers;
    if (o.turnCredentials !== 'http') return joined.iceServers;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    const res = await fetch(httpUrl(o.url, '/api/v1/turn-credentials'), {
      method: 'POST',
      headers,
      body: JSON.stringify({ room: this.room, session_id: joined.sessionId }),
    });
    if (!res.ok) throw new SignalError(`http-${res.status}`, 'turn-credentials refused');
    const body = (await res.json()) as { iceServers?: RTCIceServer[] };
    return Array.isArray(body.iceServers) ? body.iceServers : [];
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'peer-joined':
        // The newcomer makes the first offer; we get ready for it.
        if (m.peerId !== this.peerId && !this.#peers.has(m.peerId)) this.#addPeer(m.peerId, false);
        return;
      case 'peer-left':
        this.#removePeer(m.peerId);
        return;
      case 'offer':
      case 'answer':
        this.#peerFor(m.from)?.receive({ description: { type: m.type, sdp: m.sdp } });
        return;
      case 'candidate':
        this.#peerFor(m.from)?.receive({ candidate: m.candidate });
        return;
      case 'message':
        this.emit('message', { from: m.from, data: m.data });
        return;
      case 'error':
        this.emit('error', { code: m.code, message: m.message });
        return;
      default:
        return;
    }
  }

  /** Signaling from a peer we have not heard join yet (e.g. across nodes) creates it. */
  #peerFor(id: string): RemotePeer | undefined {
    if (id === this.peerId) return undefined;
    return this.#peers.get(id) ?? this.#addPeer(id, false);
  }

  #addPeer(id: string, initiator: boolean): RemotePeer {
    const config: RTCConfiguration = {
      iceServers: this.iceServers,
      iceTransportPolicy: this.#options.iceTransportPolicy ?? 'all',
    };
    const peer = new RemotePeer(
      id,
      this.peerId,
      { config, channels: this.#options.channels ?? ['chat'], tracks: this.#tracks, initiator },
      {
        send: (message: ClientMessage) => this.#socket.send(message),
        track: (p, e) =>
          this.emit('track', {
            peerId: p.id,
            track: e.track,
            streams: e.streams,
            receiver: e.receiver,
          }),
        datachannel: (p, channel) =>
          this.emit('datachannel', { peerId: p.id, label: channel.label, channel }),
        connectionState: (p, state) => this.emit('connection-state', { peerId: p.id, state }),
        iceConnectionState: () => this.#updateSessionState(),
        candidatePair: (info) => this.emit('candidate-pair', info),
        error: (p, what, err) => this.#error(what, err, p.id),
      },
    );
    this.#peers.set(id, peer);
    this.emit('peer-joined', { peerId: id });
    for (const [label, channel] of peer.channels) {
      this.emit('datachannel', { peerId: id, label, channel });
    }
    return peer;
  }

  #removePeer(id: string): void {
    const peer = this.#peers.get(id);
    if (peer === undefined) return;
    peer.close();
    this.#peers.delete(id);
    this.emit('peer-left', { peerId: id });
    this.#updateSessionState();
  }

  #closePeers(): void {
    for (const id of [...this.#peers.keys()]) this.#removePeer(id);
  }

  /** `connected` once ICE is up with any peer; `disconnected` when with none any more. */
  #updateSessionState(): void {
    let up = false;
    for (const p of this.#peers.values()) {
      const ice = p.pc.iceConnectionState;
      if (ice === 'connected' || ice === 'completed') up = true;
    }
    const next = up ? 'connected' : this.#sessionState === undefined ? undefined : 'disconnected';
    if (next === undefined || next === this.#sessionState) return;
    this.#sessionState = next;
    this.#socket.send({ type: 'session-state', sessionId: this.sessionId, state: next });
    this.emit('session-state', next);
  }

  #error(what: string, err: unknown, peerId?: string): void {
    const message = err instanceof Error ? `${what}: ${err.message}` : `${what}: ${String(err)}`;
    this.emit('error', { code: `client-${what}`, message, ...(peerId ? { peerId } : {}) });
  }
}

/** `http://h/` → `ws://h/ws`; a ws(s) URL is used as given. */
export function websocketUrl(url: string): string {
  const u = new URL(url, globalThis.location?.href);
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/ws';
  }
  return u.toString();
}

/** The HTTP API on the same host as the signaling socket. */
export function httpUrl(url: string, path: string): string {
  const u = new URL(url, globalThis.location?.href);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  if (u.protocol === 'wss:') u.protocol = 'https:';
  u.pathname = path;
  u.search = '';
  return u.toString();
}
