import type { Logger } from '../util/logger.js';
import type { SignalErrorCode } from './errors.js';
import type { Peer } from './peer.js';
import type { RoomService, SfuClientMessage, SfuServerMessage } from './room-service.js';

/**
 * The hub's side of the room service: which peers it serves (`Peer.inService`), what goes to
 * it (validated messages of sfu peers) and what comes back (delivered to the peer, or queued
 * while it resumes). Calls into the service are guarded: a throwing service is logged, and
 * never breaks the hub.
 */
export interface ServiceCounters {
  /** Messages handed to the room service (publish, subscribe-answer, set-layer). */
  toService: number;
  /** Messages from the room service delivered (or queued) to a peer of this node. */
  fromService: number;
}

export class ServiceBridge {
  /**
   * @param service where the peers of `sfu` rooms go; without one, sfu joins get
   *   `sfu-unavailable`. Its sink is attached here.
   * @param handOver what the service is told when another node resumes one of its peers:
   *   default `service.leave`; the link's proxy forgets the peer without a leave instead, as
   *   the same SFU serves the peer through the other node's link.
   */
  constructor(
    private readonly peers: ReadonlyMap<string, Peer>,
    private readonly queueSize: number,
    private readonly counters: ServiceCounters,
    private readonly log: Logger,
    private readonly service: RoomService | undefined,
    private readonly handOver: ((room: string, peerId: string) => void) | undefined,
  ) {
    service?.attach((peerId, message) => this.deliver(peerId, message));
  }

  /** Whether sfu rooms can be joined now. */
  available(): boolean {
    return this.service !== undefined && this.service.available?.() !== false;
  }

  /** Why `available()` is false, for the `sfu-unavailable` message. */
  unavailableReason(): string {
    const why = this.service === undefined ? 'no SFU is attached' : 'the SFU link is down';
    return `sfu rooms are unavailable: ${why}`;
  }

  /** A message for the service from `peer`; returns an error code if refused. */
  message(peer: Peer | undefined, m: SfuClientMessage): SignalErrorCode | undefined {
    if (peer === undefined || peer.left) return 'not-joined';
    if (peer.session.type !== 'sfu') return 'not-sfu-session';
    const service = this.service;
    if (service === undefined || !peer.inService || !this.available()) return 'sfu-unavailable';
    try {
      service.message(peer.room, peer.id, m);
      this.counters.toService++;
    } catch (err) {
      this.log.error({ err, peerId: peer.id, type: m.type }, 'room service message failed');
      return 'internal';
    }
    return undefined;
  }

  /** Hands `peer` (of an sfu room) to the service; false if it is unavailable. */
  join(peer: Peer): boolean {
    const service = this.service;
    if (service === undefined || !this.available()) return false;
    peer.inService = true;
    try {
      service.join(peer.room, peer.id);
    } catch (err) {
      this.log.error({ err, peerId: peer.id }, 'room service join failed');
    }
    return true;
  }

  /** `peer` is gone (`handOver`: to another node); the service hears it once. */
  leave(peer: Peer, handOver: boolean): void {
    if (!peer.inService || this.service === undefined) return;
    peer.inService = false;
    try {
      if (handOver && this.handOver !== undefined) this.handOver(peer.room, peer.id);
      else this.service.leave(peer.room, peer.id);
    } catch (err) {
      this.log.error({ err, peerId: peer.id }, 'room service leave failed');
    }
  }

  /** The service's message to one of this node's peers: sent, or queued while it resumes. */
  private deliver(peerId: string, message: SfuServerMessage): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.left || !peer.inService) {
      this.log.debug({ peerId, type: message.type }, 'room service message for no peer here');
      return;
    }
    peer.deliver(JSON.stringify(message), this.queueSize);
    this.counters.fromService++;
  }
}

/** The `message` of an error for a refused sfu message. */
export function sfuRefusal(code: SignalErrorCode): string {
  switch (code) {
    case 'not-joined':
      return 'join a room first';
    case 'not-sfu-session':
      return 'only peers of an sfu room (join with "sessionType":"sfu") talk to the SFU';
    case 'sfu-unavailable':
      return 'the SFU is unavailable';
    default:
      return code;
  }
}
