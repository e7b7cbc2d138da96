/**
 * The room service: the small interface through which `rtcd signal` hands the peers of rooms
 * of session type `sfu` to a media server (our SFU), in the same process or over a link
 * (`/sfu` WebSocket, see room-service-link.ts). The signal server owns identities, rooms and
 * peers; the service owns media. Neither reaches into the other: `lib/sfu` imports only this
 * file (which imports nothing).
 *
 * Per peer, the client keeps two RTCPeerConnections: a publishing one (the client offers,
 * `publish` → `publish-answer`, again on every change of its tracks) and a subscribing one
 * (the service offers, `subscribe-offer` → `subscribe-answer`, again whenever the room's
 * tracks change). Two connections means no offer glare: each side only ever offers on its own.
 */

/**
 * What a published track carries, as its publisher says (optional everywhere): a camera, a
 * microphone, a screen share's video or its audio. Receivers lay tiles out by it.
 */
export type SfuTrackSource = 'camera' | 'microphone' | 'screen' | 'screen-audio';

export const SFU_TRACK_SOURCES: readonly SfuTrackSource[] = [
  'camera',
  'microphone',
  'screen',
  'screen-audio',
];

/** A message from a peer to the service, validated by the signal server (protocol.ts). */
export type SfuClientMessage =
  /**
   * The publishing connection's offer (first, or a renegotiation adding/removing tracks).
   * `sources` (optional): what each published section carries, by the mid of its section; read
   * when the track is first published (a later change of a live track is not signalled).
   */
  | { type: 'publish'; sdp: string; sources?: Record<string, SfuTrackSource> }
  /** The answer to the latest `subscribe-offer`. */
  | { type: 'subscribe-answer'; sdp: string }
  /** Preferred simulcast layer of one subscribed track: 0 = lowest; clamped to what exists. */
  | { type: 'set-layer'; trackId: string; layer: number };

/** One remote track in a `subscribe-offer`: which m-section carries whose track. */
export interface SfuTrackInfo {
  mid: string;
  /** The producer's id; also the `a=msid` track id of the section. */
  trackId: string;
  /** The publishing peer (also the `a=msid` stream id of the section). */
  peerId: string;
  kind: 'audio' | 'video';
  /** What the publisher said the track is (optional; absent when it did not say). */
  source?: SfuTrackSource;
}

/** A message from the service to one peer; the signal server delivers it as is. */
export type SfuServerMessage =
  | { type: 'publish-answer'; sdp: string }
  /**
   * Sections of tracks that ended are kept with `a=inactive` and left out of `tracks`.
   * `restart` (optional, absent means false): the offer is for a new subscribe connection — the
   * service's previous one ended (ICE consent lost, DTLS closed) while the peer stayed — so the
   * client closes its subscribing RTCPeerConnection (its remote tracks end) and answers this
   * offer on a new one (new ICE and DTLS; a browser cannot redo DTLS on an existing one).
   */
  | { type: 'subscribe-offer'; sdp: string; tracks: SfuTrackInfo[]; restart?: boolean }
  /**
   * The room's dominant speaker changed (RFC 6464 audio levels, smoothed by the SFU): the
   * publishing peer (or a WHIP publisher's participant id) and its audio track.
   */
  | { type: 'active-speaker'; peerId: string; trackId: string }
  /** A refused message: `ref` is its type; codes are `RoomServiceErrorCode`s. */
  | { type: 'error'; code: RoomServiceErrorCode; message: string; ref?: string };

export const RoomServiceErrorCode = {
  /** The SDP did not parse or lacks what WebRTC needs (ICE, fingerprint, BUNDLE, rtcp-mux). */
  badSdp: 'bad-sdp',
  /** Nothing acceptable in the offer (no codec in common, no track). */
  notAcceptable: 'sfu-not-acceptable',
  /** `subscribe-answer` with no offer outstanding, or `set-layer` for an unknown track. */
  badState: 'sfu-bad-state',
  /** A limit (tracks per peer, peers per room, rooms) was reached. */
  limit: 'sfu-limit',
  /** No service attached to this signal server, or its link is down. */
  unavailable: 'sfu-unavailable',
  internal: 'sfu-internal',
} as const;
export type RoomServiceErrorCode = (typeof RoomServiceErrorCode)[keyof typeof RoomServiceErrorCode];

/** Where the service's messages to peers go (set by the signal server with `attach`). */
export type RoomServiceSink = (peerId: string, message: SfuServerMessage) => void;

/**
 * Implemented by the SFU (`SfuRoomService` in lib/sfu) and by the link's signal-side proxy.
 * Calls never throw at the caller for a peer's bad input: problems go back as `error`
 * messages through the sink. Peer ids are the signal server's (`p_…`), unique per server.
 */
export interface RoomService {
  /** Called once before any other call: the sink for messages to peers. */
  attach(sink: RoomServiceSink): void;
  /** `peerId` joined `room` with session type `sfu` (also after a resume on another node). */
  join(room: string, peerId: string): void;
  /** A validated message from a peer that joined. */
  message(room: string, peerId: string, message: SfuClientMessage): void;
  /** The peer left (leave, or its connection ended and the resume grace is over). */
  leave(room: string, peerId: string): void;
  /**
   * Optional: false while the service cannot take peers (the link's proxy while no SFU is
   * linked); sfu joins then get `sfu-unavailable`. Absent means always available.
   */
  available?(): boolean;
}
