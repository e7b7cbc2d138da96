import { parseSfuClientMessage, ROOM_NAME } from './protocol.js';
import {
  RoomServiceErrorCode,
  SFU_TRACK_SOURCES,
  type SfuClientMessage,
  type SfuServerMessage,
  type SfuTrackInfo,
} from './room-service.js';

/**
 * The frames of the SFU link (`GET /sfu`, see sfu-links.ts and room-service-link.ts): JSON text,
 * one object per WebSocket message, the `RoomService` calls carried across processes.
 *
 * Down (signal → SFU): `{"op":"join"|"leave","room","peerId"}` and
 * `{"op":"message","room","peerId","message":<SfuClientMessage>}`.
 * Up (SFU → signal): `{"op":"send","peerId","message":<SfuServerMessage>}`.
 *
 * Both sides validate what they receive with these parsers, which rebuild every object from
 * its checked fields (nothing unknown passes through) and never throw.
 */
export type LinkDownFrame =
  | { op: 'join' | 'leave'; room: string; peerId: string }
  | { op: 'message'; room: string; peerId: string; message: SfuClientMessage };

export interface LinkUpFrame {
  op: 'send';
  peerId: string;
  message: SfuServerMessage;
}

/** Default bound of one link frame, bytes: a subscribe-offer for a full room fits. */
export const LINK_MAX_FRAME_BYTES = 4 * 1024 * 1024;
const MAX_ID = 64;
/** Sections one subscribe-offer may describe. */
const MAX_TRACKS = 1024;
const MAX_ERROR_TEXT = 1024;
const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(RoomServiceErrorCode));

function isErrorCode(v: unknown): v is RoomServiceErrorCode {
  return typeof v === 'string' && ERROR_CODES.has(v);
}

type Obj = Record<string, unknown>;

function object(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function id(v: unknown, max = MAX_ID): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function json(text: string | Buffer): Obj | undefined {
  try {
    return object(JSON.parse(typeof text === 'string' ? text : text.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** A frame from the signal server, checked on the SFU side; undefined if invalid. */
export function parseLinkDownFrame(text: string | Buffer): LinkDownFrame | undefined {
  const o = json(text);
  if (o === undefined) return undefined;
  const { op, room, peerId } = o;
  if (typeof room !== 'string' || !ROOM_NAME.test(room) || !id(peerId)) return undefined;
  if (op === 'join' || op === 'leave') return { op, room, peerId };
  if (op !== 'message') return undefined;
  const message = parseSfuClientMessage(o.message);
  return message === undefined ? undefined : { op, room, peerId, message };
}

/** A frame from the SFU, checked on the signal side; undefined if invalid. */
export function parseLinkUpFrame(text: string | Buffer): LinkUpFrame | undefined {
  const o = json(text);
  if (o === undefined || o.op !== 'send' || !id(o.peerId)) return undefined;
  const message = sfuServerMessage(o.message);
  return message === undefined ? undefined : { op: 'send', peerId: o.peerId, message };
}

function sfuServerMessage(v: unknown): SfuServerMessage | undefined {
  const m = object(v);
  if (m === undefined) return undefined;
  switch (m.type) {
    case 'publish-answer':
      return typeof m.sdp === 'string' && m.sdp !== '' ? { type: m.type, sdp: m.sdp } : undefined;
    case 'subscribe-offer': {
      if (typeof m.sdp !== 'string' || m.sdp === '' || !Array.isArray(m.tracks)) return undefined;
      if (m.tracks.length > MAX_TRACKS) return undefined;
      const tracks: SfuTrackInfo[] = [];
      for (const t of m.tracks) {
        const track = trackInfo(t);
        if (track === undefined) return undefined;
        tracks.push(track);
      }
      // Optional fields of newer services (room-service.ts): kept when well-formed.
      return m.restart === true
        ? { type: m.type, sdp: m.sdp, tracks, restart: true }
        : { type: m.type, sdp: m.sdp, tracks };
    }
    case 'active-speaker':
      return id(m.peerId) && id(m.trackId)
        ? { type: m.type, peerId: m.peerId, trackId: m.trackId }
        : undefined;
    case 'error': {
      const { code, message, ref } = m;
      if (!isErrorCode(code)) return undefined;
      if (typeof message !== 'string' || message.length > MAX_ERROR_TEXT) return undefined;
      const out: SfuServerMessage = { type: 'error', code, message };
      if (ref !== undefined) {
        if (!id(ref, 32)) return undefined;
        out.ref = ref;
      }
      return out;
    }
    default:
      return undefined;
  }
}

function trackInfo(v: unknown): SfuTrackInfo | undefined {
  const t = object(v);
  if (t === undefined) return undefined;
  const { mid, trackId, peerId, kind } = t;
  if (!id(mid) || !id(trackId, 256) || !id(peerId)) return undefined;
  if (kind !== 'audio' && kind !== 'video') return undefined;
  // Optional: an unknown source (a newer SFU) is left out, not refused.
  const source = SFU_TRACK_SOURCES.find((x) => x === t.source);
  return source === undefined
    ? { mid, trackId, peerId, kind }
    : { mid, trackId, peerId, kind, source };
}
