import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Authenticator, Identity } from './auth.js';
import { roomAllowed } from './auth.js';
import { Connection, type PeerSink } from './connection.js';
import { httpStatus, type SignalErrorCode } from './errors.js';
import type { SignalHub } from './hub.js';
import { mintIceServers } from './ice-servers.js';
import type { ResolvedSignalOptions } from './options.js';
import { isSfuClientMessage, parseClientMessage, ROOM_NAME } from './protocol.js';
import type { SessionRecord } from './store.js';

/**
 * The HTTP API, for clients that cannot keep a WebSocket and for operators:
 * - `GET /api/v1/signaling/events?room=R` joins `R` and streams server-sent events
 *   (`event: <type>` + `data: <the WebSocket message>`), the first being `joined`;
 *   `?session_id=S` re-attaches an existing session's stream (a resume);
 * - `POST /api/v1/signaling/offer|answer|candidate|message` `{session_id, to, sdp|candidate|data}`
 *   relays as the WebSocket does; `…/session-state` `{session_id, state}` reports the
 *   connection state; `…/leave` `{session_id}`;
 * - sfu rooms: `…/events?room=R&session_type=sfu` joins as an sfu peer, and
 *   `POST …/publish|subscribe-answer|set-layer` `{session_id, sdp | trackId, layer}` go to the
 *   room service; its answers and offers arrive on the event stream;
 * - `GET /api/v1/sessions/:id`, `POST /api/v1/turn-credentials`, `GET /healthz`, `GET /metrics`.
 * Auth (unless `noAuth`): `Authorization: Bearer <jwt>` (or `?token=` on the event stream).
 * Errors: the status of the code and `{"error":{"code","message"}}`.
 */
export interface HttpApiContext {
  o: ResolvedSignalOptions;
  hub: SignalHub;
  auth: Authenticator;
  registry: Registry;
  now: () => number;
  /** Registers an SSE connection with the server (limits, drain); false if refused. */
  admit(conn: Connection, ip: string): boolean;
  release(conn: Connection): void;
  draining(): boolean;
}

class HttpError extends Error {
  constructor(
    readonly errorCode: SignalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function handleApi(
  ctx: HttpApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  try {
    if (path === '/healthz') return health(ctx, req, res);
    if (path === '/metrics') {
      allow(req, 'GET');
      const body = await ctx.registry.metrics();
      res.writeHead(200, { 'content-type': ctx.registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
      return true;
    }
    if (path === '/api/v1/signaling/events') return await events(ctx, req, res, url);
    const relay =
      /^\/api\/v1\/signaling\/(offer|answer|candidate|message|leave|session-state|publish|subscribe-answer|set-layer)$/.exec(
        path,
      );
    if (relay !== null) return await post(ctx, req, res, relay[1]!);
    const session = /^\/api\/v1\/sessions\/([^/]+)$/.exec(path);
    if (session !== null) return await getSession(ctx, req, res, session[1]!);
    if (path === '/api/v1/turn-credentials') {
      allow(req, 'POST');
      const identity = await authenticate(ctx, req, undefined);
      const user = identity.user ?? 'anonymous';
      const iceServers = mintIceServers(ctx.o, user, ctx.now());
      json(res, 200, { iceServers, ttl: ctx.o.turnTtl });
      return true;
    }
    if (path.startsWith('/api/')) throw new HttpError('not-found', `no route ${path}`);
    return false;
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    fail(res, err.errorCode, err.message);
    return true;
  }
}

function health(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse): true {
  allow(req, 'GET');
  const store = ctx.hub.store;
  if (ctx.draining()) json(res, 503, { status: 'draining', store: store.kind });
  else if (!store.healthy()) {
    json(res, 503, { status: 'unhealthy', store: store.kind, reason: 'redis-unavailable' });
  } else json(res, 200, { status: 'ok', store: store.kind });
  return true;
}

async function events(
  ctx: HttpApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<true> {
  allow(req, 'GET');
  const token = url.searchParams.get('token') ?? undefined;
  const identity = await authenticate(ctx, req, token);
  const sessionId = url.searchParams.get('session_id');
  const room = url.searchParams.get('room');
  const sessionType = url.searchParams.get('session_type') ?? 'p2p';
  if (sessionType !== 'p2p' && sessionType !== 'sfu') {
    throw new HttpError('bad-message', '?session_type= must be p2p or sfu');
  }
  let peer = undefined as ReturnType<SignalHub['peerBySession']>;
  if (sessionId !== null) {
    peer = ctx.hub.peerBySession(sessionId);
    if (peer === undefined) throw new HttpError('unknown-session', 'no such live session');
    if (peer.user !== identity.user) throw new HttpError('unauthorized', 'not your session');
  } else if (room === null || !ROOM_NAME.test(room)) {
    throw new HttpError(
      'bad-message',
      'give ?room=NAME (letters, digits, . _ ~ -) or ?session_id=',
    );
  } else if (!roomAllowed(identity, room)) {
    throw new HttpError('forbidden-room', `the token does not admit room "${room}"`);
  }
  const sink = sseSink(res);
  const ip = req.socket.remoteAddress ?? '';
  const conn = new Connection(
    sink,
    ip,
    identity,
    { perSecond: ctx.o.messagesPerSecond, burst: ctx.o.messageBurst },
    ctx.now(),
  );
  if (!ctx.admit(conn, ip)) {
    throw new HttpError('rate-limited', 'too many connections from this address');
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': rtcd signal\n\n');
  const keepAlive = setInterval(() => res.write(': ping\n\n'), ctx.o.heartbeatIntervalMs);
  keepAlive.unref();
  res.on('close', () => {
    clearInterval(keepAlive);
    ctx.release(conn);
    ctx.hub.detach(conn);
  });
  if (peer !== undefined) {
    ctx.hub.resume(conn, peer);
  } else {
    ctx.hub.dispatch(conn, { type: 'join', room: room!, sessionType });
  }
  return true;
}

/** `POST /api/v1/signaling/<type>` with `{session_id, to, …}`. */
async function post(
  ctx: HttpApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  type: string,
): Promise<true> {
  allow(req, 'POST');
  const identity = await authenticate(ctx, req, undefined);
  const text = await readBody(req, ctx.o.maxMessageBytes);
  let body: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    body = v as Record<string, unknown>;
  } catch {
    throw new HttpError('bad-message', 'the body must be a JSON object');
  }
  const sessionId = body.session_id;
  if (typeof sessionId !== 'string') throw new HttpError('bad-message', '"session_id" is missing');
  if (body.type !== undefined && body.type !== type) {
    throw new HttpError('bad-message', `"type" must be "${type}" on this path`);
  }
  const peer = ctx.hub.peerBySession(sessionId);
  if (peer === undefined) throw new HttpError('unknown-session', 'no such live session');
  if (peer.user !== identity.user) throw new HttpError('unauthorized', 'not your session');
  const conn = peer.conn;
  if (conn !== undefined && !conn.take(ctx.now())) {
    throw new HttpError('rate-limited', 'too many messages; slow down');
  }
  if (type === 'leave') {
    await ctx.hub.leave(peer, 'left');
    json(res, 200, { ok: true });
    return true;
  }
  const parsed = parseClientMessage(JSON.stringify({ ...body, type, sessionId }));
  if (!parsed.ok) throw new HttpError(parsed.code, parsed.message);
  const m = parsed.message;
  if (m.type === 'session-state') {
    const code = ctx.hub.sessionState(peer, m);
    if (code !== undefined) throw new HttpError(code, 'not your session');
    json(res, 200, { ok: true });
    return true;
  }
  if (isSfuClientMessage(m)) {
    const code = ctx.hub.sfuMessage(peer, m);
    if (code !== undefined) throw new HttpError(code, `${m.type} refused: ${code}`);
    json(res, 200, { ok: true });
    return true;
  }
  if (m.type !== 'offer' && m.type !== 'answer' && m.type !== 'candidate' && m.type !== 'message') {
    throw new HttpError('bad-message', 'not a relayable message');
  }
  const code = await ctx.hub.relay(peer, m);
  if (code !== undefined)
    throw new HttpError(code, `${m.type} to "${m.to}" not delivered: ${code}`);
  json(res, 200, { ok: true });
  return true;
}

async function getSession(
  ctx: HttpApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<true> {
  allow(req, 'GET');
  const identity = await authenticate(ctx, req, undefined);
  let record: SessionRecord | undefined;
  try {
    record = await ctx.hub.store.getSession(decodeURIComponent(id));
  } catch {
    throw new HttpError('redis-unavailable', 'session records are unavailable');
  }
  if (record === undefined || !roomAllowed(identity, record.room)) {
    throw new HttpError('not-found', 'no such session');
  }
  json(res, 200, sessionJson(record));
  return true;
}

/** A session record as the API shows it: times as ISO 8601. */
export function sessionJson(r: SessionRecord): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    room: r.room,
    type: r.type,
    peerId: r.peerId,
    user: r.user ?? null,
    participants: r.participants,
    status: r.status,
    createdAt: iso(r.createdAt),
    connectedAt: iso(r.connectedAt),
    endedAt: iso(r.endedAt),
  };
}

async function authenticate(
  ctx: HttpApiContext,
  req: IncomingMessage,
  queryToken: string | undefined,
): Promise<Identity> {
  const header = req.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  const r = await ctx.auth.verify(bearer ?? queryToken);
  if (!r.ok) throw new HttpError('unauthorized', r.message);
  return r.identity;
}

function allow(req: IncomingMessage, method: 'GET' | 'POST'): void {
  const ok = req.method === method || (method === 'GET' && req.method === 'HEAD');
  if (!ok) throw new HttpError('method-not-allowed', `use ${method}`);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError('message-too-large', `bodies are limited to ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const FRAME_TYPE = /^\{"type":"([a-z-]+)"/;

/** Frames as server-sent events named by their type. */
function sseSink(res: ServerResponse): PeerSink {
  return {
    send(frame) {
      if (res.writableEnded || res.destroyed) return false;
      const type = FRAME_TYPE.exec(frame)?.[1] ?? 'message';
      res.write(`event: ${type}\ndata: ${frame}\n\n`);
      return true;
    },
    close(code, reason) {
      res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
    },
  };
}

export function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function fail(res: ServerResponse, code: SignalErrorCode, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  json(res, httpStatus(code), { error: { code, message } });
}
