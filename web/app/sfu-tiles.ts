/**
 * Remote media of an SFU room: one tile per remote video track (a camera and a screen share
 * of the same peer are two tiles; a screen share, as its publisher labelled it, spans the grid
 * and says so), captioned with the peer id and with a simulcast layer picker; one hidden audio element per remote audio track. A track's elements go as soon as
 * the SDK says it ended.
 */
import type { RemoteTrack } from '../sdk/index.js';
import { byId, el } from './dom.js';
import type { InboundView, RemoteTrackView } from './test-state.js';

interface Shown {
  remote: RemoteTrack;
  node: HTMLElement;
}

export class SfuTiles {
  readonly #shown = new Map<string, Shown>();
  readonly #grid = byId('videos');
  readonly #audio = byId('remote-audio');

  constructor(private readonly setLayer: (trackId: string, layer: number) => void) {}

  add(remote: RemoteTrack): void {
    this.remove(remote);
    const stream = new MediaStream([remote.track]);
    let node: HTMLElement;
    if (remote.kind === 'audio') {
      const audio = el('audio', { autoplay: true, 'data-peer': remote.peerId });
      audio.srcObject = stream;
      node = audio;
      this.#audio.append(node);
    } else {
      const video = el('video', { autoplay: true, playsinline: true, muted: true });
      video.srcObject = stream;
      // A screen share (its publisher said so) spans the grid and is captioned as one;
      // `object-fit: contain` already shows it uncropped.
      const screen = remote.source === 'screen';
      const nth = this.#videosOf(remote.peerId) + 1;
      const caption = screen
        ? `${remote.peerId} (screen)`
        : nth > 1
          ? `${remote.peerId} (${nth})`
          : remote.peerId;
      node = el(
        'figure',
        {
          class: screen ? 'tile screen' : 'tile',
          'data-peer': remote.peerId,
          'data-track': remote.trackId,
          ...(remote.source === undefined ? {} : { 'data-source': remote.source }),
        },
        video,
        el('figcaption', {}, caption),
        this.#layerPicker(remote.trackId),
      );
      this.#grid.append(node);
    }
    this.#shown.set(remote.trackId, { remote, node });
  }

  /** Outlines the tiles of the room's active speaker (`peerId`), and only those. */
  speaker(peerId: string): void {
    for (const node of this.#grid.querySelectorAll('.tile[data-peer]')) {
      node.classList.toggle('speaking', node.getAttribute('data-peer') === peerId);
    }
  }

  remove(remote: RemoteTrack): void {
    const shown = this.#shown.get(remote.trackId);
    if (shown === undefined) return;
    shown.node.remove();
    this.#shown.delete(remote.trackId);
  }

  clear(): void {
    for (const { node } of this.#shown.values()) node.remove();
    this.#shown.clear();
  }

  views(): RemoteTrackView[] {
    return [...this.#shown.values()].map(({ remote, node }) => ({
      peerId: remote.peerId,
      trackId: remote.trackId,
      kind: remote.kind,
      mid: remote.mid,
      ...(remote.source === undefined ? {} : { source: remote.source }),
      caption: node.querySelector('figcaption')?.textContent ?? '',
      screenTile: node.classList.contains('screen'),
      shown: node.isConnected,
    }));
  }

  get videoElements(): number {
    return this.#grid.querySelectorAll('figure[data-track] video').length;
  }

  async inbound(): Promise<InboundView[]> {
    return Promise.all(
      [...this.#shown.values()].map(async ({ remote }) => {
        const view: InboundView = {
          peerId: remote.peerId,
          trackId: remote.trackId,
          kind: remote.kind,
          packetsReceived: 0,
          framesDecoded: 0,
          frameWidth: 0,
        };
        type Inbound = {
          type: string;
          packetsReceived?: number;
          framesDecoded?: number;
          frameWidth?: number;
        };
        (await remote.receiver.getStats()).forEach((s: Inbound) => {
          if (s.type !== 'inbound-rtp') return;
          view.packetsReceived += s.packetsReceived ?? 0;
          view.framesDecoded += s.framesDecoded ?? 0;
          view.frameWidth = Math.max(view.frameWidth, s.frameWidth ?? 0);
        });
        return view;
      }),
    );
  }

  /** framesDecoded of a peer's first (`camera`) or second (`screen`) video track. */
  async framesDecoded(peerId: string, which: 'camera' | 'screen'): Promise<number> {
    const videos = (await this.inbound()).filter((v) => v.peerId === peerId && v.kind === 'video');
    return videos[which === 'camera' ? 0 : 1]?.framesDecoded ?? 0;
  }

  #videosOf(peerId: string): number {
    let n = 0;
    for (const { remote } of this.#shown.values()) {
      if (remote.peerId === peerId && remote.kind === 'video') n++;
    }
    return n;
  }

  /** Which simulcast layer to receive; the SFU clamps to what the publisher sends. */
  #layerPicker(trackId: string): HTMLSelectElement {
    const select = el(
      'select',
      { class: 'layer', 'aria-label': 'quality' },
      el('option', { value: '2', selected: true }, 'high'),
      el('option', { value: '1' }, 'medium'),
      el('option', { value: '0' }, 'low'),
    );
    select.addEventListener('change', () => this.setLayer(trackId, Number(select.value)));
    return select;
  }
}
