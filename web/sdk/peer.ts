/**
 * One remote participant: an RTCPeerConnection negotiated with "perfect negotiation"
 * (W3C webrtc-pc §10.7 / §4.4.1.5): both sides may offer whenever `negotiationneeded` fires;
 * when offers collide, the impolite side ignores the incoming offer and the polite side rolls
 * its own back and answers. Politeness comes from the peer ids, so both ends agree without a
 * round trip. Signaling messages for one peer are applied strictly in order.
 */
import type { ClientMessage, IceCandidateMessage } from './protocol.js';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface CandidatePairInfo {
  peerId: string;
  local: { type: CandidateType; protocol: string; address: string; port: number };
  remote: { type: CandidateType; protocol: string; address: string; port: number };
  /** For a local relay candidate: the transport spoken to the TURN server. */
  relayProtocol?: string;
}

export interface PeerHooks {
  send(message: ClientMessage): void;
  track(peer: RemotePeer, event: RTCTrackEvent): void;
  datachannel(peer: RemotePeer, channel: RTCDataChannel): void;
  connectionState(peer: RemotePeer, state: RTCPeerConnectionState): void;
  iceConnectionState(peer: RemotePeer, state: RTCIceConnectionState): void;
  candidatePair(info: CandidatePairInfo): void;
  error(peer: RemotePeer, what: string, err: unknown): void;
}

export interface PeerSetup {
  config: RTCConfiguration;
  /** Labels of negotiated data channels, opened with ids 0, 1, … on every connection. */
  channels: readonly string[];
  /** Local tracks to send, with the stream each belongs to. */
  tracks: ReadonlyArray<{ track: MediaStreamTrack; stream: MediaStream }>;
  /**
   * Whether this side makes the first offer. The newcomer does (it learns of the others from
   * `joined`); the others wait up to `firstOfferWaitMs` for it. Perfect negotiation would
   * survive both offering at once, but Chromium (156) stalls ICE gathering for good — no
   * candidate ever, `restartIce()` does not help — in about one first-offer collision out of
   * seven, when the polite side rolls back its very first offer right after setting it
   * (explicitly or implicitly). So the first exchange is kept free of glare; later ones are not
   * affected.
   */
  initiator: boolean;
  /** Default 5,000 ms. */
  firstOfferWaitMs?: number;
}

type Description = { type: 'offer' | 'answer'; sdp: string };
type Incoming = { description: Description } | { candidate: IceCandidateMessage | null };

export class RemotePeer {
  readonly pc: RTCPeerConnection;
  /** The polite side yields in an offer collision; here, the one with the smaller id. */
  readonly polite: boolean;
  readonly channels = new Map<string, RTCDataChannel>();
  /** Counters for tests and diagnostics. */
  readonly stats = { rollbacks: 0, ignoredOffers: 0, candidateErrors: 0, iceRestarts: 0 };
  lastPair: CandidatePairInfo | undefined;

  #makingOffer = false;
  #ignoreOffer = false;
  #answerPending = false;
  #queue: Promise<void> = Promise.resolve();
  #early: (IceCandidateMessage | null)[] = [];
  #closed = false;
  /** Not the initiator and no offer yet: `negotiationneeded` is deferred. */
  #awaitingOffer: boolean;
  #deferred = false;
  #waitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    localId: string,
    setup: PeerSetup,
    private readonly hooks: PeerHooks,
  ) {
    this.polite = localId < id;
    this.#awaitingOffer = !setup.initiator;
    const pc = new RTCPeerConnection(setup.config);
    this.pc = pc;
    pc.addEventListener('negotiationneeded', () => {
      if (this.#awaitingOffer) this.#deferred = true;
      else void this.#negotiate();
    });
    if (this.#awaitingOffer) {
      // The initiator may have nothing to send: then we offer after all.
      this.#waitTimer = setTimeout(() => this.#offerAwaited(true), setup.firstOfferWaitMs ?? 5000);
    }
    pc.addEventListener('icecandidate', (e) => {
      // A null candidate is end-of-candidates (RFC 8838 §8.2); the peer hears of it too.
      const c = e.candidate;
      const candidate = c === null ? null : (c.toJSON() as IceCandidateMessage);
      this.hooks.send({ type: 'candidate', to: id, candidate });
    });
    pc.addEventListener('track', (e) => this.hooks.track(this, e));
    pc.addEventListener('datachannel', (e) => this.hooks.datachannel(this, e.channel));
    pc.addEventListener('connectionstatechange', () => this.#connectionChanged());
    pc.addEventListener('iceconnectionstatechange', () => {
      this.hooks.iceConnectionState(this, pc.iceConnectionState);
      // ICE failed for good (e.g. a network change): restart it, renegotiating in-band.
      if (pc.iceConnectionState === 'failed' && !this.#closed) {
        this.stats.iceRestarts++;
        pc.restartIce();
      }
    });
    setup.channels.forEach((label, index) => {
      // Negotiated channels exist on both sides at once: no in-band open, no glare over them.
      const channel = pc.createDataChannel(label, { negotiated: true, id: index, ordered: true });
      channel.binaryType = 'arraybuffer';
      this.channels.set(label, channel);
    });
    for (const { track, stream } of setup.tracks) pc.addTrack(track, stream);
  }

  /** Applies an offer, answer or candidate from this peer, after those before it. */
  receive(message: Incoming): void {
    this.#queue = this.#queue
      .then(() => this.#apply(message))
      .catch((err: unknown) => this.hooks.error(this, 'signaling', err));
  }

  addTrack(track: MediaStreamTrack, stream: MediaStream): void {
    if (this.#closed) return;
    this.pc.addTrack(track, stream);
  }

  removeTrack(track: MediaStreamTrack): void {
    const sender = this.pc.getSenders().find((s) => s.track === track);
    if (sender !== undefined && !this.#closed) this.pc.removeTrack(sender);
  }

  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack | null): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track === old);
    if (sender !== undefined) await sender.replaceTrack(next);
  }

  /** The ICE candidate pair in use, from getStats(); undefined before ICE has chosen one. */
  selectedCandidatePair(): Promise<CandidatePairInfo | undefined> {
    return selectedCandidatePair(this.pc, this.id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#waitTimer);
    this.pc.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The first offer came (or the wait is over): negotiate what was deferred, if anything. */
  #offerAwaited(timedOut: boolean): void {
    if (!this.#awaitingOffer) return;
    this.#awaitingOffer = false;
    clearTimeout(this.#waitTimer);
    // After the offer/answer, the browser fires negotiationneeded again if something is still
    // missing (webrtc-pc §4.4.1.6); only a wait that timed out must offer by itself.
    if (timedOut && this.#deferred && this.pc.signalingState === 'stable') void this.#negotiate();
  }

  async #negotiate(): Promise<void> {
    if (this.#closed) return;
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      const local = this.pc.localDescription;
      if (local !== null && local.type === 'offer') {
        this.hooks.send({ type: 'offer', to: this.id, sdp: local.sdp });
      }
    } catch (err) {
      this.hooks.error(this, 'offer', err);
    } finally {
      this.#makingOffer = false;
    }
  }

  async #apply(message: Incoming): Promise<void> {
    if (this.#closed) return;
    const pc = this.pc;
    if ('candidate' in message) {
      if (pc.remoteDescription === null) {
        this.#early.push(message.candidate);
        return;
      }
      await this.#addCandidate(message.candidate);
      return;
    }
    const { description } = message;
    if (description.type === 'offer') this.#offerAwaited(false);
    const readyForOffer =
      !this.#makingOffer && (pc.signalingState === 'stable' || this.#answerPending);
    const collision = description.type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.polite && collision;
    if (this.#ignoreOffer) {
      this.stats.ignoredOffers++;
      return;
    }
    if (collision && pc.signalingState === 'have-local-offer') {
      // Polite side: drop our own offer, then take theirs.
      this.stats.rollbacks++;
      await pc.setLocalDescription({ type: 'rollback' });
    }
    this.#answerPending = description.type === 'answer';
    try {
      await pc.setRemoteDescription(description);
    } finally {
      this.#answerPending = false;
    }
    const early = this.#early.splice(0);
    for (const candidate of early) await this.#addCandidate(candidate);
    if (description.type === 'offer') {
      await pc.setLocalDescription();
      const local = pc.localDescription;
      if (local !== null) this.hooks.send({ type: 'answer', to: this.id, sdp: local.sdp });
    }
  }

  async #addCandidate(candidate: IceCandidateMessage | null): Promise<void> {
    try {
      // No argument: end-of-candidates for the current generation.
      if (candidate === null) await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(candidate);
    } catch (err) {
      // Candidates of an offer we ignored (or of a rolled-back generation) do not apply.
      this.stats.candidateErrors++;
      if (!this.#ignoreOffer && candidate !== null) this.hooks.error(this, 'candidate', err);
    }
  }

  #connectionChanged(): void {
    const state = this.pc.connectionState;
    this.hooks.connectionState(this, state);
    if (state !== 'connected') return;
    this.selectedCandidatePair().then(
      (info) => {
        if (info === undefined) return;
        this.lastPair = info;
        this.hooks.candidatePair(info);
      },
      (err: unknown) => this.hooks.error(this, 'stats', err),
    );
  }
}

/** The ICE candidate pair `pc` uses, from getStats(); undefined before ICE has chosen one. */
export async function selectedCandidatePair(
  pc: RTCPeerConnection,
  peerId: string,
): Promise<CandidatePairInfo | undefined> {
  const report = await pc.getStats();
  let pairId: string | undefined;
  report.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId === undefined ? undefined : report.get(pairId);
  if (pair === undefined) return undefined;
  const local = report.get(pair.localCandidateId);
  const remote = report.get(pair.remoteCandidateId);
  if (local === undefined || remote === undefined) return undefined;
  const pick = (c: Record<string, unknown>) => ({
    type: c.candidateType as CandidateType,
    protocol: String(c.protocol),
    address: String(c.address ?? c.ip ?? ''),
    port: Number(c.port),
  });
  return {
    peerId,
    local: pick(local),
    remote: pick(remote),
    ...(typeof local.relayProtocol === 'string' ? { relayProtocol: local.relayProtocol } : {}),
  };
}
