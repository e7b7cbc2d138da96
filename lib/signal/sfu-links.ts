import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../util/logger.js';
import { CloseCode } from './errors.js';
import { LINK_MAX_FRAME_BYTES, type LinkDownFrame, parseLinkUpFrame } from './link-frame.js';
import type {
  RoomService,
  RoomServiceSink,
  SfuClientMessage,
  SfuServerMessage,
} from './room-service.js';

/**
 * The signal side of SFU links: a `RoomService` that forwards to SFUs in other processes, each
 * connected to `GET /sfu` (WebSocket) with `Authorization: Bearer <sfuSecret>`. Frames are
 * link-frame.ts's. Several links may be up: each room with sfu peers on this node is homed on
 * one link, chosen by rendezvous hashing of the room name over the SFUs' ids (so every node
 * linked to the same SFUs picks the same one), and stays there while the link lives.
 *
 * A link that goes sends every peer of its rooms `error sfu-unavailable`; the rooms move to
 * another link if one is up (their peers are joined there afresh and must publish again), else
 * they wait for the next link. While no link is up, `available()` is false and the hub refuses
 * sfu joins.
 */
export interface SfuLinksOptions {
  secret: string;
  log: Logger;
  /** Ping interval of each link; no pong by the next ping closes it, ms. */
  heartbeatMs: number;
  /** Largest frame accepted from an SFU, bytes. Default `LINK_MAX_FRAME_BYTES` (4 MiB). */
  maxFrameBytes?: number;
}

interface Link {
  ws: WebSocket;
  /** The SFU's id (`x-rtcd-sfu-id`; one per SFU, the same on its links to every node). */
  id: string;
  rooms: Set<string>;
  alive: boolean;
  ip: string;
}

export interface SfuLinkStats {
  /** Frames from SFUs that failed validation or named a peer not on that link. */
  dropped: number;
  /** Links accepted since start. */
  accepted: number;
  /** Upgrades refused for a wrong or missing secret. */
  unauthorized: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const SFU_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class SfuLinks implements RoomService {
  readonly stats: SfuLinkStats = { dropped: 0, accepted: 0, unauthorized: 0 };
  private sink: RoomServiceSink = () => {};
  private readonly links = new Set<Link>();
  private readonly roomLink = new Map<string, Link>();
  private readonly roomPeers = new Map<string, Set<string>>();
  /** Each known peer's room (peer ids are unique per server). */
  private readonly peerRoom = new Map<string, string>();
  private readonly secret: Buffer;
  private readonly wss: WebSocketServer;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: SfuLinksOptions) {
    this.secret = digest(o.secret);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxFrameBytes ?? LINK_MAX_FRAME_BYTES,
      perMessageDeflate: false,
    });
    this.timer = setInterval(() => this.beat(), o.heartbeatMs);
    this.timer.unref();
  }

  /** Number of SFU links up. */
  get linkCount(): number {
    return this.links.size;
  }

  attach(sink: RoomServiceSink): void {
    this.sink = sink;
  }

  available(): boolean {
    return this.links.size > 0;
  }

  join(room: string, peerId: string): void {
    let peers = this.roomPeers.get(room);
    if (peers === undefined) {
      peers = new Set();
      this.roomPeers.set(room, peers);
    }
    peers.add(peerId);
    this.peerRoom.set(peerId, room);
    const link = this.roomLink.get(room);
    if (link !== undefined) {
      send(link, { op: 'join', room, peerId });
      return;
    }
    const chosen = this.choose(room);
    if (chosen === undefined) {
      this.unavailable(peerId, 'no SFU is linked');
      return;
    }
    this.home(room, chosen);
  }

  message(room: string, peerId: string, message: SfuClientMessage): void {
    const link = this.roomLink.get(room);
    if (link === undefined || !this.roomPeers.get(room)?.has(peerId)) {
      this.unavailable(peerId, 'no SFU is linked for this room', message.type);
      return;
    }
    send(link, { op: 'message', room, peerId, message });
  }

  leave(room: string, peerId: string): void {
    const link = this.roomLink.get(room);
    if (this.forget(room, peerId) && link !== undefined) send(link, { op: 'leave', room, peerId });
  }

  /**
   * Drops `peerId` without telling the SFU: another node resumed it, and the same SFU serves
   * it through that node's link. True if the peer was known.
   */
  forget(room: string, peerId: string): boolean {
    const peers = this.roomPeers.get(room);
    if (peers === undefined || !peers.delete(peerId)) return false;
    this.peerRoom.delete(peerId);
    if (peers.size === 0) {
      this.roomPeers.delete(room);
      this.roomLink.get(room)?.rooms.delete(room);
      this.roomLink.delete(room);
    }
    return true;
  }

  /** `GET /sfu` with an upgrade: the secret is checked (401 if wrong), then the link is up. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const ip = req.socket.remoteAddress ?? '';
    if (this.closed || !this.authorized(req.headers.authorization)) {
      if (!this.closed) this.stats.unauthorized++;
      this.o.log.warn({ ip }, 'SFU link refused: wrong or missing secret');
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\nconnection: close\r\n' +
          'content-length: 0\r\n\r\n',
      );
      return;
    }
    const header = req.headers['x-rtcd-sfu-id'];
    const id = typeof header === 'string' && SFU_ID.test(header) ? header : randomUUID();
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onLink(ws, ip, id));
  }

  /** Closes every link (1001) and refuses new ones; resolves when they are closed. */
  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const gone = [...this.links].map(
      (link) =>
        new Promise<void>((resolve) => {
          if (link.ws.readyState === link.ws.CLOSED) return resolve();
          link.ws.once('close', () => resolve());
          link.ws.close(CloseCode.goingAway, 'signal server closing');
        }),
    );
    return Promise.all(gone).then(() => {});
  }

  /** Cuts links that did not close in time (the end of the server's drain). */
  terminate(): void {
    for (const link of this.links) link.ws.terminate();
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    // Digests have one length, so the comparison's time does not depend on the secret.
    return m !== null && timingSafeEqual(digest(m[1]!), this.secret);
  }

  private onLink(ws: WebSocket, ip: string, id: string): void {
    const link: Link = { ws, id, rooms: new Set(), alive: true, ip };
    this.links.add(link);
    this.stats.accepted++;
    this.o.log.info({ ip, links: this.links.size }, 'SFU linked');
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(link, data, isBinary));
    ws.on('pong', () => {
      link.alive = true;
    });
    ws.on('error', (err) => this.o.log.debug({ err, ip }, 'SFU link error'));
    ws.on('close', (code) => this.onLinkGone(link, code));
    // Rooms whose peers wait for an SFU (their link went, or none was up) come here.
    for (const room of this.roomPeers.keys()) {
      if (!this.roomLink.has(room)) this.home(room, this.choose(room) ?? link);
    }
  }

  private onFrame(link: Link, data: Buffer, isBinary: boolean): void {
    const frame = isBinary ? undefined : parseLinkUpFrame(data);
    if (frame === undefined) {
      this.stats.dropped++;
      this.o.log.debug({ ip: link.ip }, 'SFU link: invalid frame dropped');
      return;
    }
    if (!this.onLinkOf(link, frame.peerId)) {
      this.stats.dropped++;
      this.o.log.debug({ peerId: frame.peerId }, 'SFU link: frame for a peer not on this link');
      return;
    }
    this.sink(frame.peerId, frame.message);
  }

  /** Whether `peerId` is a peer of a room homed on `link`. */
  private onLinkOf(link: Link, peerId: string): boolean {
    const room = this.peerRoom.get(peerId);
    return room !== undefined && this.roomLink.get(room) === link;
  }

  private onLinkGone(link: Link, code: number): void {
    if (!this.links.delete(link)) return;
    this.o.log.warn({ ip: link.ip, code, rooms: link.rooms.size }, 'SFU link lost');
    const orphans = [...link.rooms];
    link.rooms.clear();
    for (const room of orphans) {
      this.roomLink.delete(room);
      for (const peerId of this.roomPeers.get(room) ?? []) {
        this.unavailable(peerId, 'the SFU link was lost; join again to publish');
      }
    }
    if (this.closed) return;
    for (const room of orphans) {
      const next = this.choose(room);
      if (next !== undefined) this.home(room, next);
    }
  }

  /** Puts `room` on `link` and joins its peers there. */
  private home(room: string, link: Link): void {
    this.roomLink.set(room, link);
    link.rooms.add(room);
    for (const peerId of this.roomPeers.get(room) ?? []) send(link, { op: 'join', room, peerId });
  }

  /**
   * The link a room goes to: rendezvous hashing of the room name over the SFUs' ids, so that
   * nodes linked to the same SFUs put a room on the same SFU (its peers on different nodes
   * meet there), and rooms spread evenly over the SFUs.
   */
  private choose(room: string): Link | undefined {
    let best: Link | undefined;
    let bestScore = '';
    for (const link of this.links) {
      const score = createHash('sha256').update(`${link.id}\n${room}`).digest('hex');
      if (best === undefined || score > bestScore) {
        best = link;
        bestScore = score;
      }
    }
    return best;
  }

  private unavailable(peerId: string, why: string, ref?: string): void {
    const m: SfuServerMessage = { type: 'error', code: 'sfu-unavailable', message: why };
    if (ref !== undefined) m.ref = ref;
    this.sink(peerId, m);
  }

  private beat(): void {
    for (const link of this.links) {
      if (!link.alive) {
        link.ws.terminate();
        continue;
      }
      link.alive = false;
      link.ws.ping();
    }
  }
}

function send(link: Link, frame: LinkDownFrame): void {
  if (link.ws.readyState === link.ws.OPEN) link.ws.send(JSON.stringify(frame));
}
