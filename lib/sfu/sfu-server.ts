/**
 * `SfuServer`: the SFU's HTTP front (WHIP publish, WHEP view, DELETE of either resource) over
 * one `IceLiteMux`, one DTLS certificate and one `Router`, whose `tick()` it drives.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { type DtlsCertificate, generateCertificate } from '../dtls/certificate.js';
import { IceLiteOptionsError } from '../ice/lite-options.js';
import { IceLiteMux } from '../ice/udp-mux.js';
import type { TransportAddress } from '../stun/transport-address.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { WebRtcEndpoint } from '../webrtc/endpoint.js';
import { WebRtcOptionsError, type WebRtcRemoteParameters } from '../webrtc/options.js';
import { answerTransportOf } from '../webrtc/remote-description.js';
import {
  bindEndpoint,
  endpointSenders,
  ingressDropFilter,
  type TestIngressDrop,
} from './endpoint-leg.js';
import { SfuError } from './errors.js';
import {
  checkFingerprints,
  RetryError,
  readBody,
  requireSdpBody,
  takeRequest,
  viewLayerOf,
} from './http-input.js';
import { listenHttp } from './http-listen.js';
import { type SfuStats, SfuStatsCollector, sfuRegistry } from './metrics.js';
import {
  type ResolvedSfuServerLimits,
  resolveSfuServerLimits,
  type SfuServerOptions,
} from './options.js';
import type { Participant } from './participant.js';
import { AddressRateLimiter } from './request-limiter.js';
import type { Room } from './room.js';
import { Router } from './router.js';
import { answerPublish, answerView, readOffer, WhipError } from './whip.js';

export { viewLayerOf } from './http-input.js';
export type { SfuServerOptions } from './options.js';

interface Resource {
  kind: 'whip' | 'whep';
  room: Room;
  participant: Participant;
  endpoint: WebRtcEndpoint;
}

/**
 * The SFU's HTTP front and media port. Limits (all finite by default, see `SfuServerOptions`):
 * sessions in all and per room (503), requests per second per client address (429), SDP size
 * (413), tracks per publisher (422 from the router), sessions that never connect (ended after
 * `pendingTimeoutMs`), and per participant the router's packet-rate and bad-packet budgets,
 * which also count its endpoint's SRTP/DTLS drops. `stats()` and `GET /metrics` report it.
 */
export class SfuServer {
  readonly router: Router;
  /** Live WHIP/WHEP sessions by resource id. */
  readonly resources = new Map<string, Resource>();
  /** The Prometheus registry `GET /metrics` serves (its own, not prom-client's global one). */
  readonly registry: Registry;
  private http: Server | undefined;
  private mux: IceLiteMux | undefined;
  private certificate: DtlsCertificate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly limits: ResolvedSfuServerLimits;
  private readonly collector: SfuStatsCollector;
  private readonly limiter: AddressRateLimiter;
  private lastSweepAt = performance.now();

  /** @throws TypeError naming an option out of range. */
  constructor(private readonly o: SfuServerOptions = {}) {
    this.limits = resolveSfuServerLimits(o);
    this.logger = o.logger ?? silentLogger;
    this.router = new Router({ logger: this.logger, ...o.router });
    this.collector = new SfuStatsCollector(this.router);
    this.limiter = new AddressRateLimiter(this.limits.requestsPerSecond, this.limits.requestBurst);
    this.registry = sfuRegistry(() => this.stats());
  }

  /** Binds the UDP mux and the HTTP server; resolves with the HTTP base URL. */
  async listen(): Promise<{ url: string; port: number }> {
    this.certificate = this.o.certificate ?? (await generateCertificate());
    this.mux = await IceLiteMux.bind({
      address: this.o.udpAddress ?? '127.0.0.1',
      port: this.limits.udpPort,
      announcedAddress: this.o.announcedAddress,
      fastUdpSend: this.o.fastUdpSend,
      logger: this.logger,
    });
    const {
      server: http,
      url,
      port,
    } = await listenHttp(
      this.limits,
      this.o.host ?? '127.0.0.1',
      (req, res) => this.handle(req, res),
      (res, err) => this.fail(res, err),
    );
    this.http = http;
    this.timer = setInterval(() => this.tick(), this.limits.tickIntervalMs);
    this.timer.unref();
    return { url, port };
  }

  /**
   * What another front (the room service, lib/sfu/room-service.ts) needs to make endpoints on
   * this server's shared UDP port: the mux, the DTLS certificate, the logger, the test-only
   * ingress drop, the pending timeout (pass it as the endpoint's `connectTimeoutMs`) and
   * `watch`, which counts an endpoint in `stats()`/metrics and closes its participant
   * (`abuse`) when it drops more bad packets per second than the router allows.
   * Throws `WhipError` 503 before `listen()`.
   */
  media(): {
    mux: IceLiteMux;
    certificate: DtlsCertificate;
    logger: Logger;
    testIngressDrop: TestIngressDrop | undefined;
    pendingTimeoutMs: number;
    watch: (endpoint: WebRtcEndpoint, participant: Participant) => void;
  } {
    const { mux, certificate } = this;
    if (!mux || !certificate) throw new WhipError(503, 'not-listening', 'server not listening');
    return {
      mux,
      certificate,
      logger: this.logger,
      testIngressDrop: this.o.testIngressDrop,
      pendingTimeoutMs: this.limits.pendingTimeoutMs,
      watch: (endpoint, participant) => this.collector.watchEndpoint(endpoint, participant),
    };
  }

  /** The bound ICE-lite UDP address, once listening. */
  get udpAddress(): TransportAddress | undefined {
    return this.mux?.address;
  }

  /** Counters of the router, the endpoints, the shared UDP port and the HTTP front. */
  stats(): SfuStats {
    return this.collector.stats(this.mux?.counters(), this.resources.size);
  }

  /** Ends every session, the router, the mux and the HTTP server. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const id of [...this.resources.keys()]) this.end(id);
    this.router.close();
    await this.mux?.close();
    const http = this.http;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  private tick(): void {
    this.router.tickSliced();
    const now = performance.now();
    const elapsed = now - this.lastSweepAt;
    if (elapsed < 1000) return;
    this.lastSweepAt = now;
    this.collector.sweep(this.router.options.maxBadPacketsPerSecond, elapsed, this.logger);
    this.limiter.sweep(now);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.collector.http.requests++;
    res.setHeader('access-control-allow-origin', this.o.corsOrigin ?? '*');
    res.setHeader('access-control-expose-headers', 'location');
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/metrics' && this.o.metrics !== false) {
      await this.serveMetrics(req, res);
      return;
    }
    takeRequest(this.limiter, req, this.o.clientAddress, this.logger);
    const m = /^\/(whip|whep)\/([A-Za-z0-9_.~-]{1,128})$/.exec(path);
    const r = /^\/resource\/([0-9a-f-]{36})$/.exec(path);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, DELETE, OPTIONS',
        'access-control-allow-headers': 'content-type',
      });
      res.end();
      return;
    }
    if (m && req.method === 'POST') {
      const kind = m[1] === 'whip' ? 'whip' : 'whep';
      await this.post(kind, m[2]!, req, res, viewLayerOf(url.searchParams));
      return;
    }
    if (r && req.method === 'DELETE') {
      if (!this.end(r[1]!)) throw new WhipError(404, 'no-such-resource', 'unknown resource');
      res.writeHead(200);
      res.end();
      return;
    }
    if (m || r) throw new WhipError(405, 'method-not-allowed', `${req.method} not allowed`);
    throw new WhipError(404, 'not-found', 'no such route');
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      throw new WhipError(405, 'method-not-allowed', `${req.method} not allowed`);
    }
    const body = await this.registry.metrics();
    res.writeHead(200, {
      'content-type': this.registry.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** 503 before any work when the server or the room holds all the sessions it may. */
  private checkCapacity(room: Room | undefined): void {
    if (this.resources.size >= this.limits.maxSessions) {
      throw new RetryError(503, 'server-full', `${this.limits.maxSessions} sessions held`, 5);
    }
    if (room && room.participants.size >= this.limits.maxSessionsPerRoom) {
      const max = this.limits.maxSessionsPerRoom;
      throw new RetryError(503, 'room-full', `room ${room.id} holds ${max} sessions`, 5);
    }
  }

  private async post(
    kind: 'whip' | 'whep',
    roomId: string,
    req: IncomingMessage,
    res: ServerResponse,
    layer: number | undefined,
  ): Promise<void> {
    requireSdpBody(req);
    const mux = this.mux;
    const certificate = this.certificate;
    if (!mux || !certificate) {
      req.resume();
      throw new WhipError(503, 'not-listening', 'server not listening');
    }
    try {
      this.checkCapacity(this.router.getRoom(roomId));
    } catch (err) {
      req.resume();
      throw err;
    }
    const body = await readBody(req, this.limits.maxBodyBytes);
    let room = this.router.getRoom(roomId);
    if (kind === 'whep' && room === undefined) {
      throw new WhipError(404, 'no-such-room', `room ${roomId} has no publisher`);
    }
    this.checkCapacity(room); // again: other requests may have joined while the body came
    const { offer, remote } = readOffer(body);
    checkFingerprints(remote);
    const endpoint = this.newEndpoint(mux, certificate, remote);
    const transport = answerTransportOf(endpoint, mux.candidates);
    let sdp: string;
    let participant: Participant | undefined;
    try {
      if (kind === 'whip') {
        const a = answerPublish(offer, transport);
        room ??= this.router.createRoom(roomId);
        participant = room.join(endpointSenders(endpoint));
        for (const p of a.producers) participant.publish(p);
        sdp = a.sdp;
      } else {
        const target = room!;
        const a = answerView(offer, transport, [...target.producers()], `rtcd-${roomId}`);
        const viewer = target.join(endpointSenders(endpoint));
        participant = viewer;
        endpoint.once('connected', () => {
          for (const c of a.consumers) {
            if (c.producer.closed || viewer.closed) continue;
            try {
              viewer.subscribe(
                c.producer,
                layer === undefined ? c.options : { ...c.options, preferredLayer: layer },
              );
            } catch (err) {
              this.logger.warn({ err, participant: viewer.id }, 'sfu: whep subscribe failed');
            }
          }
        });
        sdp = a.sdp;
      }
    } catch (err) {
      // A refused offer leaves nothing behind: no endpoint, participant or new empty room.
      endpoint.close();
      participant?.close('refused');
      if (room?.participants.size === 0) room.close();
      throw err;
    }
    const drop = this.o.testIngressDrop;
    bindEndpoint(
      endpoint,
      participant,
      kind === 'whip' && drop ? ingressDropFilter(drop, participant) : undefined,
    );
    this.collector.watchEndpoint(endpoint, participant);
    const id = randomUUID();
    const joined = participant;
    this.resources.set(id, { kind, room: joined.room, participant: joined, endpoint });
    joined.on('close', (reason) => {
      this.resources.delete(id);
      this.logger.info(
        { resource: id, kind, room: joined.room.id, participant: joined.id, reason },
        'sfu session ended',
      );
      const r = joined.room;
      if (r.participants.size === 0) r.close();
      this.o.onSessionEnded?.(id, r.id);
    });
    res.writeHead(201, {
      'content-type': 'application/sdp',
      location: `/resource/${id}`,
    });
    res.end(sdp);
  }

  /**
   * The offer's transport as an endpoint. What the SDP parser lets through but ICE refuses (a
   * ufrag or password outside ice-chars or its lengths) is the offer's fault: 400 `bad-sdp`;
   * a full mux is 503 `server-full`.
   */
  private newEndpoint(
    mux: IceLiteMux,
    certificate: DtlsCertificate,
    remote: WebRtcRemoteParameters,
  ): WebRtcEndpoint {
    try {
      return new WebRtcEndpoint({
        mux,
        certificate,
        remote,
        logger: this.logger,
        connectTimeoutMs: this.limits.pendingTimeoutMs,
      });
    } catch (err) {
      if (err instanceof WebRtcOptionsError) throw new WhipError(400, 'bad-sdp', err.message);
      if (err instanceof IceLiteOptionsError) {
        if (err.option.startsWith('remote')) throw new WhipError(400, 'bad-sdp', err.message);
        if (err.option === 'maxSessions') throw new RetryError(503, 'server-full', err.message, 5);
      }
      throw err;
    }
  }

  /** Ends one session (its participant leaves; its producers' consumers close). */
  private end(id: string): boolean {
    const r = this.resources.get(id);
    if (!r) return false;
    this.resources.delete(id);
    r.participant.close('deleted');
    r.endpoint.close();
    return true;
  }

  private fail(res: ServerResponse, err: unknown): void {
    let status = 500;
    let code = 'internal';
    let message = 'internal error';
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (err instanceof WhipError) ({ status, code, message } = err);
    else if (err instanceof SfuError) {
      status = 422;
      code = String(err.code);
      message = err.message;
    } else this.logger.warn({ err }, 'sfu http handler failed');
    if (err instanceof RetryError) headers['retry-after'] = String(err.retryAfterSeconds);
    this.collector.httpError(code);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: code, message }));
  }
}
