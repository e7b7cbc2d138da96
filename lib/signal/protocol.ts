import type { SignalErrorCode } from './errors.js';
import { SFU_TRACK_SOURCES, type SfuClientMessage, type SfuTrackSource } from './room-service.js';

/**
 * The WebSocket protocol: JSON text frames, one message each, validated by `parseClientMessage`
 * before anything else looks at them. Fields not named here are ignored and never relayed: the
 * server rebuilds every message it forwards from the validated fields (so `from` cannot be
 * forged).
 */

/** Room names: URL- and key-safe, so `/r/NAME`, Redis keys and logs need no escaping. */
export const ROOM_NAME = /^[A-Za-z0-9._~-]{1,64}$/;
const MAX_ID = 64;
const MAX_TOKEN = 8192;
const MAX_CANDIDATE = 1024;
/** Simulcast layers a `set-layer` may name: 0 (lowest) to 3. */
export const MAX_LAYER = 3;
/** Entries of a publish's `sources` kept (one per m-section). */
const MAX_SOURCES = 64;

export type SessionType = 'p2p' | 'sfu';

export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export type ClientMessage =
  | { type: 'join'; room: string; token?: string; resume?: string; sessionType?: SessionType }
  | { type: 'offer' | 'answer'; to: string; sdp: string }
  | { type: 'candidate'; to: string; candidate: IceCandidateInit | null }
  | { type: 'leave' }
  | { type: 'ping'; id?: number | string }
  | { type: 'session-state'; sessionId: string; state: 'connected' | 'disconnected' }
  | { type: 'message'; to: string; data: unknown }
  /** To the room's SFU (rooms of session type `sfu` only): see room-service.ts. */
  | SfuClientMessage;

/** The types that go to the room service, not to another peer. */
export const SFU_CLIENT_TYPES: ReadonlySet<string> = new Set([
  'publish',
  'subscribe-answer',
  'set-layer',
]);

export function isSfuClientMessage(m: ClientMessage): m is SfuClientMessage {
  return SFU_CLIENT_TYPES.has(m.type);
}

export type ClientMessageType = ClientMessage['type'];

export interface RtcIceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: SignalErrorCode; message: string; ref?: string };

/** A rejected field: becomes `bad-message` with `ref` = the message type. */
class FieldError extends Error {}

type Obj = Record<string, unknown>;

function str(o: Obj, key: string, max: number, optional: true): string | undefined;
function str(o: Obj, key: string, max: number, optional?: false): string;
function str(o: Obj, key: string, max: number, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new FieldError(`"${key}" must be a string`);
  if (v.length === 0 && !optional) throw new FieldError(`"${key}" must not be empty`);
  if (v.length > max) throw new FieldError(`"${key}" is longer than ${max} characters`);
  return v;
}

function candidateInit(v: unknown): IceCandidateInit | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new FieldError('"candidate" must be an RTCIceCandidateInit object or null');
  }
  const c = v as Obj;
  const out: IceCandidateInit = { candidate: '' };
  const text = c.candidate;
  if (typeof text !== 'string' || text.length > MAX_CANDIDATE) {
    throw new FieldError(`"candidate.candidate" must be a string of at most ${MAX_CANDIDATE}`);
  }
  out.candidate = text;
  for (const key of ['sdpMid', 'usernameFragment'] as const) {
    const f = c[key];
    if (f === undefined) continue;
    if (f !== null && (typeof f !== 'string' || f.length > MAX_ID)) {
      throw new FieldError(`"candidate.${key}" must be a short string or null`);
    }
    out[key] = f;
  }
  const index = c.sdpMLineIndex;
  if (index !== undefined) {
    if (index !== null && !(Number.isInteger(index) && (index as number) >= 0)) {
      throw new FieldError('"candidate.sdpMLineIndex" must be a non-negative integer or null');
    }
    out.sdpMLineIndex = index as number | null;
  }
  return out;
}

function build(type: string, o: Obj): ClientMessage | undefined {
  switch (type) {
    case 'join': {
      const room = str(o, 'room', 64);
      if (!ROOM_NAME.test(room)) {
        throw new FieldError('"room" must be 1-64 of letters, digits and . _ ~ -');
      }
      const m: ClientMessage = { type, room };
      const token = str(o, 'token', MAX_TOKEN, true);
      const resume = str(o, 'resume', MAX_ID * 2, true);
      if (token) m.token = token;
      if (resume) m.resume = resume;
      const st = o.sessionType;
      if (st !== undefined) {
        if (st !== 'p2p' && st !== 'sfu') throw new FieldError('"sessionType" must be p2p or sfu');
        m.sessionType = st;
      }
      return m;
    }
    case 'offer':
    case 'answer':
      // The size of an SDP is bounded by the message size limit.
      return { type, to: str(o, 'to', MAX_ID), sdp: str(o, 'sdp', Number.MAX_SAFE_INTEGER) };
    case 'candidate':
      if (!('candidate' in o)) throw new FieldError('"candidate" is missing');
      return { type, to: str(o, 'to', MAX_ID), candidate: candidateInit(o.candidate) };
    case 'leave':
      return { type };
    case 'ping': {
      const id = o.id;
      if (id === undefined) return { type };
      if (typeof id === 'number' && Number.isFinite(id)) return { type, id };
      if (typeof id === 'string' && id.length <= 64) return { type, id };
      throw new FieldError('"id" must be a number or a short string');
    }
    case 'session-state': {
      const state = o.state;
      if (state !== 'connected' && state !== 'disconnected') {
        throw new FieldError('"state" must be connected or disconnected');
      }
      return { type, sessionId: str(o, 'sessionId', MAX_ID), state };
    }
    case 'message':
      if (!('data' in o)) throw new FieldError('"data" is missing');
      return { type, to: str(o, 'to', MAX_ID), data: o.data };
    case 'publish':
    case 'subscribe-answer':
    case 'set-layer':
      return buildSfu(type, o);
    default:
      return undefined;
  }
}

function buildSfu(type: SfuClientMessage['type'], o: Obj): SfuClientMessage {
  if (type === 'subscribe-answer') return { type, sdp: str(o, 'sdp', Number.MAX_SAFE_INTEGER) };
  if (type === 'publish') {
    // Like offer/answer: the size of an SDP is bounded by the message size limit.
    const sdp = str(o, 'sdp', Number.MAX_SAFE_INTEGER);
    const sources = trackSources(o.sources);
    return sources === undefined ? { type, sdp } : { type, sdp, sources };
  }
  const layer = o.layer;
  if (!Number.isInteger(layer) || (layer as number) < 0 || (layer as number) > MAX_LAYER) {
    throw new FieldError(`"layer" must be an integer 0-${MAX_LAYER}`);
  }
  return { type, trackId: str(o, 'trackId', MAX_ID), layer: layer as number };
}

/**
 * A publish's optional `sources` (mid → what the track is): entries that are not a short mid
 * with a known source are left out, never refused (a newer client may know more sources).
 */
function trackSources(v: unknown): Record<string, SfuTrackSource> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, SfuTrackSource> = {};
  let n = 0;
  for (const [mid, source] of Object.entries(v)) {
    if (n >= MAX_SOURCES) break;
    if (mid.length === 0 || mid.length > MAX_ID) continue;
    const known = SFU_TRACK_SOURCES.find((x) => x === source);
    if (known === undefined) continue;
    out[mid] = known;
    n++;
  }
  return n === 0 ? undefined : out;
}

/**
 * Validates a message for the room service on its own (the SFU side of a link checks what it
 * is handed with this too). Undefined when `value` is not a valid `SfuClientMessage`.
 */
export function parseSfuClientMessage(value: unknown): SfuClientMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Obj;
  const type = o.type;
  if (type !== 'publish' && type !== 'subscribe-answer' && type !== 'set-layer') return undefined;
  try {
    return buildSfu(type, o);
  } catch (err) {
    if (err instanceof FieldError) return undefined;
    throw err;
  }
}

/**
 * Validates one frame. Pure and total: any string or bytes give a result, never an exception
 * (the fuzz spec feeds it random JSON and random bytes). Binary frames are refused: the
 * protocol is text.
 */
export function parseClientMessage(data: string | Buffer, isBinary = false): ParseResult {
  if (isBinary) return bad('binary frames are not accepted; send JSON text');
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return bad('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('a message must be a JSON object');
  }
  const o = value as Obj;
  const type = o.type;
  if (typeof type !== 'string') return bad('"type" must be a string');
  try {
    const message = build(type, o);
    if (message === undefined) {
      return {
        ok: false,
        code: 'unknown-type',
        message: `unknown message type "${type.slice(0, 32)}"`,
        ref: type.slice(0, 32),
      };
    }
    return { ok: true, message };
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    return { ok: false, code: 'bad-message', message: err.message, ref: type };
  }
}

function bad(message: string): ParseResult {
  return { ok: false, code: 'bad-message', message };
}

/** `{"type":"error",…}` as sent. */
export function errorFrame(code: SignalErrorCode, message: string, ref?: string): string {
  return JSON.stringify(
    ref === undefined
      ? { type: 'error', code, message }
      : {
          type: 'error',
          code,
          message,
          ref,
        },
  );
}
