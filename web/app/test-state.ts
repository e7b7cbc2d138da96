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

/** A remote track received through the SFU (room mode `sfu`). */
export interface RemoteTrackView {
  peerId: string;
  trackId: string;
  kind: string;
  mid: string;
  /** What its publisher said it is (SDK `RemoteTrack.source`), when it said. */
  source?: string;
  /** The video tile's caption ('' for audio). */
  caption: string;
  /** The video tile is laid out as a screen share. */
  screenTile: boolean;
  /** The page shows it: a video tile (video) or an audio element (audio) is in the DOM. */
  shown: boolean;
}

export interface SfuView {
  /** The other participants. */
  peers: string[];
  /** Live remote tracks. */
  tracks: RemoteTrackView[];
  /** Tracks that ended (SDK `trackended`), in order. */
  ended: { peerId: string; trackId: string; kind: string }[];
  /** Peers whose `peer-left` arrived, in order. */
  left: string[];
  /** Connection states of the publishing and subscribing RTCPeerConnections. */
  publishState: string;
  subscribeState: string;
  negotiations: { publish: number; subscribe: number };
  /** Kinds of the local tracks being published. */
  published: string[];
  /** Video elements of remote tracks in the page. */
  videoElements: number;
  /** The peer of the last `active-speaker` message, if any. */
  speaker?: string;
  /** Candidate types of each connection's selected ICE pair, once connected. */
  pairs: {
    publish?: PairView;
    subscribe?: PairView;
  };
}

export interface PairView {
  local: string;
  remote: string;
  /** For a local relay candidate: the transport spoken to the TURN server. */
  relayProtocol?: string;
}

/** Receive statistics of one remote track (SFU mode), from its receiver's getStats(). */
export interface InboundView {
  peerId: string;
  trackId: string;
  kind: string;
  packetsReceived: number;
  framesDecoded: number;
  frameWidth: number;
}

export interface PageState {
  /** `p2p` (a mesh of connections) or `sfu` (`?mode=sfu`: media through the SFU). */
  mode: 'p2p' | 'sfu';
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
  /** SFU mode only. */
  sfu?: SfuView;
}

export interface RtcdTestApi {
  state(): PageState;
  /** framesDecoded of a peer's camera or screen video, from the receiver's getStats(). */
  framesDecoded(peerId: string, which: 'camera' | 'screen'): Promise<number>;
  /** Drops the signaling WebSocket as a network failure would. */
  dropSignaling(): void;
  /** SFU mode: receive statistics of every live remote track. */
  inbound?(): Promise<InboundView[]>;
  /** Leaves the room as the Leave button does. */
  leave?(): void;
}
