/**
 * What the page exposes to tests as `window.rtcdTest` (and to anyone debugging in the
 * console). Plain data only, and no DOM types, so Node-side specs can import these types.
 */

export interface StreamView {
  id: string;
  /** The sender announced it as a screen share. */
  screen: boolean;
  kinds: string[];
}

export interface PeerView {
  peerId: string;
  connectionState: string;
  /** Local and remote candidate types of the selected ICE pair, once connected. */
  localCandidateType?: string;
  remoteCandidateType?: string;
  relayProtocol?: string;
  streams: StreamView[];
  /** Diagnostics: RTCPeerConnection states and perfect-negotiation counters. */
  signalingState?: string;
  iceConnectionState?: string;
  iceGatheringState?: string;
  negotiation?: { rollbacks: number; ignoredOffers: number; candidateErrors: number };
}

export interface TransferView {
  id: string;
  peerId: string;
  direction: 'send' | 'receive';
  name: string;
  size: number;
  bytes: number;
  /** Hex SHA-256 announced by the sender. */
  sha256: string;
  /** Receiver: the checksum of what arrived matched. Sender: the receiver said so. */
  verified?: boolean;
  done: boolean;
  /** Sender: the most data the channel held unsent (backpressure keeps it bounded). */
  peakBuffered?: number;
}

export interface ChatLine {
  from: string;
  text: string;
}

export interface PageState {
  room: string;
  peerId: string;
  sessionId: string;
  clientState: string;
  sessionState?: string;
  rejoins: { resumed: boolean; peerId: string }[];
  audioMuted: boolean;
  videoMuted: boolean;
  sharing: boolean;
  peers: PeerView[];
  chat: ChatLine[];
  transfers: TransferView[];
  errors: string[];
}

export interface RtcdTestApi {
  state(): PageState;
  /** framesDecoded of a peer's camera or screen video, from the receiver's getStats(). */
  framesDecoded(peerId: string, which: 'camera' | 'screen'): Promise<number>;
  /** Drops the signaling WebSocket as a network failure would. */
  dropSignaling(): void;
}
