/**
 * The publishing RTCPeerConnection of an SFU room: the client offers (`publish`), the SFU
 * answers (`publish-answer`), again whenever the set of published tracks changes. Only this
 * side ever offers on this connection, so there is no glare to settle; exchanges run one at a
 * time and changes made while one is in flight coalesce into the next.
 *
 * The SFU is ICE-lite with its candidates in its answer: the browser's checks reach it from
 * the addresses it would have trickled, so the offer goes out at once, candidates or not.
 */
import type { SfuTrackSource } from './protocol.js';
import { SignalError } from './signal-socket.js';

export interface PublishOptions {
  /**
   * Simulcast for a video track: `true` for three layers (rids `q`, `h`, `f`: a quarter, half
   * and full resolution), or the encodings to send, lowest first (the SFU numbers layers in
   * this order, 0 = lowest). Default: one encoding.
   */
  simulcast?: boolean | RTCRtpEncodingParameters[];
  /**
   * What the track is, told to the SFU and by it to the other participants (their
   * `RemoteTrack.source`). Default: `screen` for a video track of `getDisplayMedia` (its
   * settings name a `displaySurface`), else `camera` or `microphone` by kind.
   */
  source?: SfuTrackSource;
}

/** Three layers, lowest first; the bitrates are libwebrtc's usual ladder for 720p. */
export const DEFAULT_SIMULCAST: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

export interface PublisherHooks {
  /** Sends `{type: 'publish', sdp, sources}` (`sources`: by mid, omitted when empty). */
  send(sdp: string, sources: Record<string, SfuTrackSource>): void;
  connectionState(state: RTCPeerConnectionState): void;
}

export interface PublisherSetup {
  config: RTCConfiguration;
  /** How long to wait for `publish-answer` before the exchange fails. Default 15,000 ms. */
  answerTimeoutMs?: number;
}

interface Waiting {
  resolve(sdp: string): void;
  reject(err: Error): void;
}

export class SfuPublisher {
  readonly pc: RTCPeerConnection;
  /** Completed offer/answer exchanges, for tests and diagnostics. */
  exchanges = 0;
  readonly #tracks = new Map<MediaStreamTrack, RTCRtpTransceiver>();
  readonly #sources = new Map<RTCRtpTransceiver, SfuTrackSource>();
  readonly #answerTimeoutMs: number;
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  #waiting: Waiting | undefined;
  #closed = false;

  constructor(
    setup: PublisherSetup,
    private readonly hooks: PublisherHooks,
  ) {
    // One transport for every section: the SFU requires BUNDLE and rtcp-mux.
    this.pc = new RTCPeerConnection({ ...setup.config, bundlePolicy: 'max-bundle' });
    this.#answerTimeoutMs = setup.answerTimeoutMs ?? 15_000;
    this.pc.addEventListener('connectionstatechange', () =>
      this.hooks.connectionState(this.pc.connectionState),
    );
  }

  /** The tracks being sent. */
  get tracks(): MediaStreamTrack[] {
    return [...this.#tracks.keys()];
  }

  has(track: MediaStreamTrack): boolean {
    return this.#tracks.has(track);
  }

  /** Adds a send-only section for `track`; `negotiate()` tells the SFU. */
  add(
    track: MediaStreamTrack,
    stream: MediaStream | undefined,
    options: PublishOptions = {},
  ): void {
    if (this.#closed || this.#tracks.has(track)) return;
    const init: RTCRtpTransceiverInit = { direction: 'sendonly' };
    if (stream !== undefined) init.streams = [stream];
    const encodings = simulcastEncodings(track, options);
    if (encodings !== undefined) init.sendEncodings = encodings;
    const transceiver = this.pc.addTransceiver(track, init);
    this.#tracks.set(track, transceiver);
    this.#sources.set(transceiver, options.source ?? sourceOf(track));
  }

  /**
   * Stops sending `track`: its section turns `inactive` in the next offer, which closes its
   * producer at the SFU (the section itself stays, as m-lines never go away).
   */
  remove(track: MediaStreamTrack): boolean {
    const transceiver = this.#tracks.get(track);
    if (transceiver === undefined) return false;
    this.#tracks.delete(track);
    // sendonly → inactive, and the sender stops (webrtc-pc §5.1 removeTrack).
    if (!this.#closed) this.pc.removeTrack(transceiver.sender);
    return true;
  }

  async replace(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const transceiver = this.#tracks.get(old);
    if (transceiver === undefined) throw new TypeError('that track is not published');
    await transceiver.sender.replaceTrack(next);
    this.#tracks.delete(old);
    this.#tracks.set(next, transceiver);
  }

  /**
   * Offers what is published now; resolves once the SFU's answer is applied. Calls made while
   * an exchange runs share the one queued after it.
   */
  negotiate(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#chain
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#exchange();
      });
    this.#queued = run;
    this.#chain = run;
    return run;
  }

  /** The SFU's `publish-answer`. An answer nobody waits for (late, duplicate) is ignored. */
  answer(sdp: string): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(sdp);
  }

  /** The SFU refused the offer (`error` with ref `publish`). */
  refused(code: string, message: string): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(new SignalError(code, message));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.refused('closed', 'the room was left');
    this.pc.close();
  }

  async #exchange(): Promise<void> {
    if (this.#closed) return;
    const pc = this.pc;
    if (pc.getTransceivers().length === 0) {
      // Nothing to send (a viewer): the SFU still needs a connection with one section to
      // answer before it offers the room's tracks; an inactive one publishes nothing.
      pc.addTransceiver('audio', { direction: 'inactive' });
    }
    await pc.setLocalDescription();
    const offer = pc.localDescription;
    if (offer === null || offer.type !== 'offer') return;
    // Mids are known once the offer is set; a replaced track keeps its section's source.
    const sources: Record<string, SfuTrackSource> = {};
    for (const transceiver of this.#tracks.values()) {
      const source = this.#sources.get(transceiver);
      if (transceiver.mid !== null && source !== undefined) sources[transceiver.mid] = source;
    }
    let sdp: string;
    try {
      sdp = await this.#awaitAnswer(offer.sdp, sources);
    } catch (err) {
      // Back to stable, so the next exchange can offer again.
      if (!this.#closed && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' });
      }
      throw err;
    }
    if (this.#closed) return;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    this.exchanges++;
  }

  #awaitAnswer(offer: string, sources: Record<string, SfuTrackSource>): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#waiting !== waiting) return;
        this.#waiting = undefined;
        reject(new SignalError('publish-timeout', 'no publish-answer from the SFU'));
      }, this.#answerTimeoutMs);
      const waiting: Waiting = {
        resolve: (sdp) => {
          clearTimeout(timer);
          resolve(sdp);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiting = waiting;
      this.hooks.send(offer, sources);
    });
  }
}

/** A screen capture's track names its `displaySurface` (Media Capture Screen Share §5.4). */
function sourceOf(track: MediaStreamTrack): SfuTrackSource {
  const screen = track.getSettings().displaySurface !== undefined;
  if (track.kind === 'video') return screen ? 'screen' : 'camera';
  return screen ? 'screen-audio' : 'microphone';
}

function simulcastEncodings(
  track: MediaStreamTrack,
  options: PublishOptions,
): RTCRtpEncodingParameters[] | undefined {
  const s = options.simulcast;
  if (track.kind !== 'video' || s === undefined || s === false) return undefined;
  if (s === true) return DEFAULT_SIMULCAST.map((e) => ({ ...e }));
  if (s.length === 0 || s.some((e) => typeof e.rid !== 'string' || e.rid === '')) {
    throw new TypeError('simulcast encodings need a non-empty rid each');
  }
  return s;
}
