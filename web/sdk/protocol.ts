/**
 * The `rtcd signal` WebSocket protocol (JSON text frames on `/ws`), as the browser sees it.
 * The server validates what we send; we still check what we receive, because a client must
 * not crash on a message from a newer server.
 */

// The SFU room messages are the room-service contract's own types (type-only: nothing of
// lib/ is bundled), so the browser and the server cannot drift apart.
import type {
  SfuClientMessage,
  SfuServerMessage,
  SfuTrackInfo,
  SfuTrackSource,
} from '../../lib/signal/room-service.js';

export type { SfuTrackInfo, SfuTrackSource };

/** The sources this client knows (room-service.ts `SFU_TRACK_SOURCES`; not bundled from lib). */
const TRACK_SOURCES: readonly SfuTrackSource[] = ['camera', 'microphone', 'screen', 'screen-audio'];

export interface IceCandidateMessage {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** `p2p` (default): a mesh of RTCPeerConnections; `sfu`: media through the room's SFU. */
export type SessionType = 'p2p' | 'sfu';

export type ClientMessage =
  | { type: 'join'; room: string; token?: string; resume?: string; sessionType?: SessionType }
  | { type: 'offer' | 'answer'; to: string; sdp: string }
  | { type: 'candidate'; to: string; candidate: IceCandidateMessage | null }
  | { type: 'leave' }
  | { type: 'ping'; id: number }
  | { type: 'session-state'; sessionId: string; state: 'connected' | 'disconnected' }
  | { type: 'message'; to: string; data: unknown }
  // Rooms of session type `sfu` (README "SFU rooms"): the publishing connection's offer, the
  // answer to the SFU's latest subscribe offer, and a preferred simulcast layer (0 = lowest).
  | SfuClientMessage;

export interface JoinedMessage {
  type: 'joined';
  room: string;
  peerId: string;
  sessionId: string;
  resumeToken: string;
  peers: string[];
  iceServers: RTCIceServer[];
}

export type ServerMessage =
  | JoinedMessage
  | { type: 'peer-joined' | 'peer-left'; peerId: string }
  | { type: 'offer' | 'answer'; from: string; sdp: string }
  | { type: 'candidate'; from: string; candidate: IceCandidateMessage | null }
  | { type: 'message'; from: string; data: unknown }
  | { type: 'error'; code: string; message: string; ref?: string }
  | { type: 'pong'; id: number }
  // From the SFU (its errors are the `error` above, whose codes a client may not know yet).
  | Exclude<SfuServerMessage, { type: 'error' }>;

/** WebSocket close codes the server uses (see the README's Signaling section). */
export const CloseCode = {
  goingAway: 1001,
  messageTooBig: 1009,
  unauthorized: 4401,
  forbiddenRoom: 4403,
  heartbeatTimeout: 4408,
  tooMany: 4429,
} as const;

/** Close codes after which reconnecting cannot help: the same join would be refused again. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.unauthorized,
  CloseCode.forbiddenRoom,
  CloseCode.messageTooBig,
]);

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;
const isString = (v: unknown): v is string => typeof v === 'string';

function isCandidate(v: unknown): v is IceCandidateMessage | null {
  return v === null || (isObject(v) && isString(v.candidate));
}

function isTrackInfo(v: unknown): v is SfuTrackInfo {
  return (
    isObject(v) &&
    isString(v.mid) &&
    isString(v.trackId) &&
    isString(v.peerId) &&
    (v.kind === 'audio' || v.kind === 'video')
  );
}

/** The fields of a track entry this client knows; an unknown `source` is left out. */
function trackInfo({ mid, trackId, peerId, kind, source }: SfuTrackInfo): SfuTrackInfo {
  const known = TRACK_SOURCES.find((x) => x === source);
  return known === undefined
    ? { mid, trackId, peerId, kind }
    : { mid, trackId, peerId, kind, source: known };
}

function isIceServer(v: unknown): v is RTCIceServer {
  if (!isObject(v)) return false;
  const urls = v.urls;
  return isString(urls) || (Array.isArray(urls) && urls.every(isString));
}

/** Parses one text frame; `undefined` for anything that is not a well-formed server message. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v)) return undefined;
  switch (v.type) {
    case 'joined':
      return isString(v.peerId) &&
        isString(v.sessionId) &&
        isString(v.room) &&
        Array.isArray(v.peers) &&
        v.peers.every(isString)
        ? {
            type: 'joined',
            room: v.room,
            peerId: v.peerId,
            sessionId: v.sessionId,
            resumeToken: isString(v.resumeToken) ? v.resumeToken : '',
            peers: v.peers,
            iceServers: Array.isArray(v.iceServers) ? v.iceServers.filter(isIceServer) : [],
          }
        : undefined;
    case 'peer-joined':
    case 'peer-left':
      return isString(v.peerId) ? { type: v.type, peerId: v.peerId } : undefined;
    case 'offer':
    case 'answer':
      return isString(v.from) && isString(v.sdp)
        ? { type: v.type, from: v.from, sdp: v.sdp }
        : undefined;
    case 'candidate':
      return isString(v.from) && isCandidate(v.candidate)
        ? { type: 'candidate', from: v.from, candidate: v.candidate }
        : undefined;
    case 'message':
      return isString(v.from) ? { type: 'message', from: v.from, data: v.data } : undefined;
    case 'error':
      return isString(v.code)
        ? {
            type: 'error',
            code: v.code,
            message: isString(v.message) ? v.message : v.code,
            ...(isString(v.ref) ? { ref: v.ref } : {}),
          }
        : undefined;
    case 'pong':
      return typeof v.id === 'number' ? { type: 'pong', id: v.id } : undefined;
    case 'publish-answer':
      return isString(v.sdp) ? { type: 'publish-answer', sdp: v.sdp } : undefined;
    case 'active-speaker':
      return isString(v.peerId) && isString(v.trackId)
        ? { type: 'active-speaker', peerId: v.peerId, trackId: v.trackId }
        : undefined;
    case 'subscribe-offer':
      // Entries this client cannot read are left out rather than failing the whole offer.
      return isString(v.sdp) && Array.isArray(v.tracks)
        ? {
            type: 'subscribe-offer',
            sdp: v.sdp,
            tracks: v.tracks.filter(isTrackInfo).map(trackInfo),
            ...(v.restart === true ? { restart: true } : {}),
          }
        : undefined;
    default:
      return undefined;
  }
}
