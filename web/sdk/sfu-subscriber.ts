/**
 * The subscribing RTCPeerConnection of an SFU room: the SFU offers (`subscribe-offer`, with
 * which section carries whose track), the client answers (`subscribe-answer`). Offers are
 * applied strictly in order. After each one the receiving sections are reconciled with the
 * offer's track list: a section that now carries a track it did not is a new remote track;
 * one whose track is gone from the list (the SFU keeps ended tracks' sections, `inactive`) is
 * an ended one. This does not depend on when, or whether, the browser fires `track`.
 */
import type { SfuTrackInfo, SfuTrackSource } from './protocol.js';

/** One track of another participant, received through the SFU. */
export interface RemoteTrack {
  peerId: string;
  /** The SFU's id of the track; what `setLayer` takes. */
  trackId: string;
  kind: 'audio' | 'video';
  /** What its publisher said it is (`camera`, `screen`…); absent when it did not say. */
  source?: SfuTrackSource;
  /** The subscribe connection's section carrying it. */
  mid: string;
  track: MediaStreamTrack;
  /** All of this peer's live tracks (one stream per peer, kept by the SDK). */
  stream: MediaStream;
  receiver: RTCRtpReceiver;
}

export interface SubscriberHooks {
  /** Sends `{type: 'subscribe-answer', sdp}`. */
  send(sdp: string): void;
  added(track: RemoteTrack): void;
  ended(track: RemoteTrack): void;
  connectionState(state: RTCPeerConnectionState): void;
  error(what: string, err: unknown): void;
}

export class SfuSubscriber {
  readonly pc: RTCPeerConnection;
  /** Offers received and answered, for tests and diagnostics. */
  offers = 0;
  answered = 0;
  /** Live remote tracks by the mid of their section. */
  readonly #byMid = new Map<string, RemoteTrack>();
  readonly #streams = new Map<string, MediaStream>();
  /** Peers known to have left: their tracks in an offer sent before the SFU knew are skipped. */
  readonly #gone = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    config: RTCConfiguration,
    private readonly hooks: SubscriberHooks,
  ) {
    this.pc = new RTCPeerConnection({ ...config, bundlePolicy: 'max-bundle' });
    this.pc.addEventListener('connectionstatechange', () =>
      this.hooks.connectionState(this.pc.connectionState),
    );
  }

  get tracks(): RemoteTrack[] {
    return [...this.#byMid.values()];
  }

  /** Applies a `subscribe-offer` after the ones before it, and answers it. */
  offer(sdp: string, tracks: readonly SfuTrackInfo[]): void {
    this.offers++;
    this.#chain = this.#chain
      .then(() => this.#apply(sdp, tracks))
      .catch((err: unknown) => this.hooks.error('subscribe', err));
  }

  /** The peer left the room: its tracks end now, without waiting for the SFU's next offer. */
  peerLeft(peerId: string): void {
    this.#gone.add(peerId);
    for (const t of [...this.#byMid.values()]) if (t.peerId === peerId) this.#end(t);
  }

  /** Takes over what `previous` (the connection this one replaces) knew of departed peers. */
  inherit(previous: SfuSubscriber): void {
    for (const id of previous.#gone) this.#gone.add(id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [...this.#byMid.values()]) this.#end(t);
    this.pc.close();
  }

  async #apply(sdp: string, tracks: readonly SfuTrackInfo[]): Promise<void> {
    if (this.#closed) return;
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.#reconcile(tracks);
    await this.pc.setLocalDescription();
    const answer = this.pc.localDescription;
    if (this.#closed || answer === null || answer.type !== 'answer') return;
    this.hooks.send(answer.sdp);
    this.answered++;
  }

  #reconcile(tracks: readonly SfuTrackInfo[]): void {
    const wanted = new Map<string, SfuTrackInfo>();
    for (const info of tracks) if (!this.#gone.has(info.peerId)) wanted.set(info.mid, info);
    for (const t of [...this.#byMid.values()]) {
      const info = wanted.get(t.mid);
      if (info === undefined || info.trackId !== t.trackId) this.#end(t);
    }
    for (const transceiver of this.pc.getTransceivers()) {
      const mid = transceiver.mid;
      const info = mid === null ? undefined : wanted.get(mid);
      if (mid === null || info === undefined || this.#byMid.has(mid)) continue;
      const track = transceiver.receiver.track;
      if (track.kind !== info.kind) continue;
      const stream = this.#streamOf(info.peerId);
      stream.addTrack(track);
      const remote: RemoteTrack = { ...info, mid, track, stream, receiver: transceiver.receiver };
      this.#byMid.set(mid, remote);
      this.hooks.added(remote);
    }
  }

  #streamOf(peerId: string): MediaStream {
    let stream = this.#streams.get(peerId);
    if (stream === undefined) {
      stream = new MediaStream();
      this.#streams.set(peerId, stream);
    }
    return stream;
  }

  #end(t: RemoteTrack): void {
    if (this.#byMid.get(t.mid) !== t) return;
    this.#byMid.delete(t.mid);
    t.stream.removeTrack(t.track);
    if (t.stream.getTracks().length === 0) this.#streams.delete(t.peerId);
    this.hooks.ended(t);
  }
}
