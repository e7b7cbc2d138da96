import type { Logger } from '../util/logger.js';
import { SignalOptionsError } from './errors.js';
import type { RoomService } from './room-service.js';
import type { SignalStore } from './store.js';

/**
 * Options of `SignalServer`. Every field is optional apart from the choice of authentication
 * (`jwtSecret`, `jwksUrl` or `noAuth: true`); `resolveSignalOptions` fills the documented
 * defaults and validates once, at construction, throwing `SignalOptionsError` naming the field.
 * Every resource limit is finite by default.
 */
export interface SignalServerOptions {
  /** HTTP + WebSocket listener. Default `{ host: '0.0.0.0', port: 8080 }`; port 0 picks one. */
  listen?: { host: string; port: number };
  /** HS256 secret that signs client JWTs. */
  jwtSecret?: string;
  /** JWKS document URL for RS256/ES256 client JWTs (fetched and cached by jose). */
  jwksUrl?: string;
  /** Accept everyone, no token (development). Logged at warn on `listen()`. Default `false`. */
  noAuth?: boolean;
  /** TURN REST API shared secret; with `turnUrls`, `joined` carries fresh TURN credentials. */
  turnSecret?: string;
  /** `turn:`/`turns:`/`stun:` URLs handed to clients. Default `[]`. */
  turnUrls?: string[];
  /** Lifetime of a minted TURN credential, seconds. Default 86400 (24 h). */
  turnTtl?: number;
  /** Largest accepted message, bytes (bigger: `message-too-large`; 4× bigger: close 1009). Default 65536. */
  maxMessageBytes?: number;
  /** Sustained messages per second per connection. Default 50. */
  messagesPerSecond?: number;
  /** Messages a connection may send at once above the rate. Default 100. */
  messageBurst?: number;
  /** Peers in one room (across all nodes). Default 50. */
  maxPeersPerRoom?: number;
  /** Rooms with a member on this process. Default 10000. */
  maxRooms?: number;
  /** WebSocket + SSE connections from one IP address. Default 20. */
  maxConnectionsPerIp?: number;
  /** WebSocket + SSE connections in all. Default 50000. */
  maxConnections?: number;
  /** How long a dropped peer keeps its id and room for a resume, ms. Default 30000. */
  resumeGraceMs?: number;
  /** Messages held for a dropped peer until it resumes; older ones are dropped. Default 256. */
  resumeQueueSize?: number;
  /** WebSocket ping interval; no pong by the next one closes with 4408, ms. Default 30000. */
  heartbeatIntervalMs?: number;
  /** How long ended session records stay readable, ms. Default 3600000 (1 h). */
  sessionRetentionMs?: number;
  /** `close()` waits this long for clients to go, ms. Default 5000. */
  drainTimeoutMs?: number;
  /**
   * Directory of the web client served at `/`. Default: the package's `dist/web/` when it
   * exists; `false` serves nothing.
   */
  webRoot?: string | false;
  /**
   * The media server of rooms of session type `sfu`, in this process (e.g. `new
   * SfuRoomService(sfuServer)` from rtcd/sfu). Default none: sfu joins get `sfu-unavailable`
   * unless `sfuSecret` lets an SFU link in. Not both.
   */
  roomService?: RoomService;
  /**
   * Bearer secret of SFU links: an SFU in another process connects to `GET /sfu` (WebSocket,
   * `Authorization: Bearer <sfuSecret>`, see room-service-link.ts) and serves the sfu rooms.
   * Several links may be up (rooms are spread over them). Default none: `/sfu` is not served.
   */
  sfuSecret?: string;
  /** Where rooms, membership and sessions live. Default a new `MemoryStore`. */
  store?: SignalStore;
  logger?: Logger;
  /** The clock, ms since the epoch (tests). Default `Date.now`. */
  now?: () => number;
}

export interface ResolvedSignalOptions {
  listen: { host: string; port: number };
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  noAuth: boolean;
  turnSecret: string | undefined;
  turnUrls: string[];
  turnTtl: number;
  maxMessageBytes: number;
  messagesPerSecond: number;
  messageBurst: number;
  maxPeersPerRoom: number;
  maxRooms: number;
  maxConnectionsPerIp: number;
  maxConnections: number;
  resumeGraceMs: number;
  resumeQueueSize: number;
  heartbeatIntervalMs: number;
  sessionRetentionMs: number;
  drainTimeoutMs: number;
  webRoot: string | false | undefined;
  sfuSecret: string | undefined;
}

export const SIGNAL_DEFAULTS = {
  listen: { host: '0.0.0.0', port: 8080 },
  turnTtl: 86400,
  maxMessageBytes: 65536,
  messagesPerSecond: 50,
  messageBurst: 100,
  maxPeersPerRoom: 50,
  maxRooms: 10000,
  maxConnectionsPerIp: 20,
  maxConnections: 50000,
  resumeGraceMs: 30000,
  resumeQueueSize: 256,
  heartbeatIntervalMs: 30000,
  sessionRetentionMs: 3600000,
  drainTimeoutMs: 5000,
} as const;

function positive(field: string, v: number | undefined, def: number, min = 1): number {
  const n = v ?? def;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new SignalOptionsError(field, `must be an integer >= ${min}, got ${String(v)}`);
  }
  return n;
}

export function resolveSignalOptions(o: SignalServerOptions): ResolvedSignalOptions {
  const listen = o.listen ?? SIGNAL_DEFAULTS.listen;
  if (typeof listen.host !== 'string' || !Number.isInteger(listen.port) || listen.port < 0) {
    throw new SignalOptionsError('listen', 'must be { host, port } with port 0-65535');
  }
  const noAuth = o.noAuth ?? false;
  if (!noAuth && !o.jwtSecret && !o.jwksUrl) {
    throw new SignalOptionsError('jwtSecret', 'set jwtSecret or jwksUrl, or noAuth: true');
  }
  if (o.jwtSecret !== undefined && o.jwksUrl !== undefined) {
    throw new SignalOptionsError('jwksUrl', 'give jwtSecret or jwksUrl, not both');
  }
  if (o.jwksUrl !== undefined) {
    try {
      const u = new URL(o.jwksUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new SignalOptionsError('jwksUrl', `must be an http(s) URL, got "${o.jwksUrl}"`);
    }
  }
  const turnUrls = o.turnUrls ?? [];
  for (const u of turnUrls) {
    if (!/^(stun|stuns|turn|turns):/.test(u)) {
      throw new SignalOptionsError('turnUrls', `"${u}" is not a stun:, turn: or turns: URL`);
    }
  }
  if (turnUrls.some((u) => u.startsWith('turn')) && !o.turnSecret) {
    throw new SignalOptionsError('turnSecret', 'turn: URLs need turnSecret to mint credentials');
  }
  if (o.sfuSecret !== undefined && (typeof o.sfuSecret !== 'string' || o.sfuSecret === '')) {
    throw new SignalOptionsError('sfuSecret', 'must be a non-empty string');
  }
  if (o.sfuSecret !== undefined && o.roomService !== undefined) {
    throw new SignalOptionsError('sfuSecret', 'give roomService or sfuSecret, not both');
  }
  const d = SIGNAL_DEFAULTS;
  return {
    listen: { host: listen.host, port: listen.port },
    jwtSecret: o.jwtSecret,
    jwksUrl: o.jwksUrl,
    noAuth,
    turnSecret: o.turnSecret,
    turnUrls,
    turnTtl: positive('turnTtl', o.turnTtl, d.turnTtl, 60),
    maxMessageBytes: positive('maxMessageBytes', o.maxMessageBytes, d.maxMessageBytes, 1024),
    messagesPerSecond: positive('messagesPerSecond', o.messagesPerSecond, d.messagesPerSecond),
    messageBurst: positive('messageBurst', o.messageBurst, d.messageBurst),
    maxPeersPerRoom: positive('maxPeersPerRoom', o.maxPeersPerRoom, d.maxPeersPerRoom, 2),
    maxRooms: positive('maxRooms', o.maxRooms, d.maxRooms),
    maxConnectionsPerIp: positive(
      'maxConnectionsPerIp',
      o.maxConnectionsPerIp,
      d.maxConnectionsPerIp,
    ),
    maxConnections: positive('maxConnections', o.maxConnections, d.maxConnections),
    resumeGraceMs: positive('resumeGraceMs', o.resumeGraceMs, d.resumeGraceMs, 0),
    resumeQueueSize: positive('resumeQueueSize', o.resumeQueueSize, d.resumeQueueSize, 0),
    heartbeatIntervalMs: positive(
      'heartbeatIntervalMs',
      o.heartbeatIntervalMs,
      d.heartbeatIntervalMs,
      10,
    ),
    sessionRetentionMs: positive(
      'sessionRetentionMs',
      o.sessionRetentionMs,
      d.sessionRetentionMs,
      0,
    ),
    drainTimeoutMs: positive('drainTimeoutMs', o.drainTimeoutMs, d.drainTimeoutMs, 0),
    webRoot: o.webRoot,
    sfuSecret: o.sfuSecret,
  };
}
