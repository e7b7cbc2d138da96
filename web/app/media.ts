/**
 * Local camera and microphone (with mute and camera toggles), screen sharing as a second
 * video track, and one tile per remote stream. Which remote stream is a screen share is
 * announced by its sender on the chat channel (stream ids survive signaling; track ids don't).
 */
import type { RtcdClient } from '../sdk/index.js';
import { byId, el } from './dom.js';
import type { StreamView } from './test-state.js';

interface RemoteStream {
  peerId: string;
  stream: MediaStream;
  tile: HTMLElement;
  receivers: Map<string, RTCRtpReceiver>;
}

export class Media {
  localStream: MediaStream | undefined;
  screenStream: MediaStream | undefined;
  audioMuted = false;
  videoMuted = false;
  readonly #remote = new Map<string, RemoteStream>();
  readonly #screens = new Set<string>();
  readonly #grid = byId('videos');

  /** Camera and microphone; `undefined` (receive-only) when the browser refuses. */
  async start(wantVideo: boolean, wantAudio: boolean): Promise<void> {
    if (!wantVideo && !wantAudio) return;
    this.localStream = await navigator.mediaDevices.getUserMedia({
      video: wantVideo ? { width: 640, height: 360, frameRate: 15 } : false,
      audio: wantAudio,
    });
    byId<HTMLVideoElement>('local-video').srcObject = this.localStream;
  }

  toggleAudio(): boolean {
    this.audioMuted = !this.audioMuted;
    for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = !this.audioMuted;
    return this.audioMuted;
  }

  /** Camera off sends black frames (track disabled) rather than renegotiating. */
  toggleVideo(): boolean {
    this.videoMuted = !this.videoMuted;
    for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = !this.videoMuted;
    return this.videoMuted;
  }

  /** Starts a screen share sent beside the camera; `onEnded` runs if the browser stops it. */
  async startScreen(call: RtcdClient, onEnded: () => void): Promise<MediaStream> {
    const options: DisplayMediaStreamOptions & { preferCurrentTab?: boolean } = {
      video: { frameRate: 15 },
      audio: false,
      // Chromium offers the current tab first; with --auto-accept-this-tab-capture, silently.
      preferCurrentTab: true,
    };
    const stream = await navigator.mediaDevices.getDisplayMedia(options);
    this.screenStream = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', onEnded, { once: true });
      call.addTrack(track, stream);
    }
    return stream;
  }

  stopScreen(call: RtcdClient): void {
    const stream = this.screenStream;
    if (stream === undefined) return;
    this.screenStream = undefined;
    for (const track of stream.getTracks()) {
      call.removeTrack(track);
      track.stop();
    }
  }

  addRemote(
    peerId: string,
    track: MediaStreamTrack,
    streams: readonly MediaStream[],
    receiver: RTCRtpReceiver,
  ): void {
    const stream = streams[0] ?? new MediaStream([track]);
    let remote = this.#remote.get(stream.id);
    if (remote === undefined) {
      const video = el('video', { autoplay: true, playsinline: true });
      video.srcObject = stream;
      const tile = el(
        'figure',
        { class: 'tile', 'data-peer': peerId, 'data-stream': stream.id },
        video,
        el('figcaption', {}, peerId),
      );
      remote = { peerId, stream, tile, receivers: new Map() };
      this.#remote.set(stream.id, remote);
      this.#grid.append(tile);
      stream.addEventListener('removetrack', () => {
        if (stream.getTracks().length === 0) this.#drop(stream.id);
      });
      this.#label(remote);
    }
    remote.receivers.set(track.kind, receiver);
  }

  /** The sender told us whether `streamId` is a screen share. */
  markScreen(streamId: string, on: boolean): void {
    if (on) this.#screens.add(streamId);
    else this.#screens.delete(streamId);
    const remote = this.#remote.get(streamId);
    if (remote !== undefined) this.#label(remote);
    if (!on) this.#drop(streamId);
  }

  removePeer(peerId: string): void {
    for (const [id, r] of this.#remote) if (r.peerId === peerId) this.#drop(id);
  }

  streamsOf(peerId: string): StreamView[] {
    return [...this.#remote.values()]
      .filter((r) => r.peerId === peerId)
      .map((r) => ({
        id: r.stream.id,
        screen: this.#screens.has(r.stream.id),
        kinds: [...r.receivers.keys()].sort(),
      }));
  }

  /** framesDecoded for a peer's camera (the first non-screen stream) or screen video. */
  async framesDecoded(peerId: string, which: 'camera' | 'screen'): Promise<number> {
    const wantScreen = which === 'screen';
    const remote = [...this.#remote.values()].find(
      (r) => r.peerId === peerId && this.#screens.has(r.stream.id) === wantScreen,
    );
    const receiver = remote?.receivers.get('video');
    if (receiver === undefined) return 0;
    let frames = 0;
    (await receiver.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
    });
    return frames;
  }

  #label(remote: RemoteStream): void {
    const screen = this.#screens.has(remote.stream.id);
    remote.tile.classList.toggle('screen', screen);
    const caption = remote.tile.querySelector('figcaption');
    if (caption !== null)
      caption.textContent = screen ? `${remote.peerId} (screen)` : remote.peerId;
  }

  #drop(streamId: string): void {
    const remote = this.#remote.get(streamId);
    if (remote === undefined) return;
    remote.tile.remove();
    this.#remote.delete(streamId);
  }
}
