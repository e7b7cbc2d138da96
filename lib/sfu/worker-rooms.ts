/**
 * `WorkerRoomService`: the room service of an SFU spread over worker processes (`rtcd sfu
 * --workers N`), run by the front. The signal links end here, so the whole server is one SFU
 * to the signal nodes; each peer's calls go to the worker that holds its room, placed by the
 * front's `RoomPlacement` with the WHIP/WHEP rooms (a room peer and a WHIP publisher of one
 * name meet on one worker, as in one process), and each peer counts as one session in the
 * least-loaded choice and in `maxSessions` (a join beyond it gets `sfu-limit`).
 *
 * It manages no process: `send` hands a call to a worker (which runs an `SfuRoomService`),
 * `fromWorker` takes what a worker's service says to a peer. A worker that is gone: its peers
 * hear `sfu-unavailable` (they must publish again, as when a signal link is lost) and are
 * joined afresh on a live worker, or on the next one up.
 */
import type {
  RoomService,
  RoomServiceSink,
  SfuClientMessage,
  SfuServerMessage,
} from '../signal/room-service.js';
import { type Logger, silentLogger } from '../util/logger.js';
import type { RoomPlacement } from './room-placement.js';

/** A room-service call for a worker's `SfuRoomService`. */
export type WorkerRoomCall =
  | { op: 'join'; room: string; peerId: string }
  | { op: 'message'; room: string; peerId: string; message: SfuClientMessage }
  | { op: 'leave'; room: string; peerId: string };

export interface WorkerRoomServiceOptions {
  /** The front's placement (shared with WHIP/WHEP). */
  placement: RoomPlacement;
  /** Hands `call` to the worker of `slot` (calls to one worker arrive in order). */
  send: (slot: number, call: WorkerRoomCall) => void;
  /** Sessions the whole server may hold (WHIP/WHEP and room peers together). */
  maxSessions: number;
  /** Default: silent. */
  logger?: Logger;
}

export class WorkerRoomService implements RoomService {
  private sink: RoomServiceSink = () => {};
  /** Peers of a worker that went, waiting for one to be up: their rooms. */
  private readonly waiting = new Map<string, string>();
  private readonly logger: Logger;

  constructor(private readonly o: WorkerRoomServiceOptions) {
    this.logger = o.logger ?? silentLogger;
  }

  attach(sink: RoomServiceSink): void {
    this.sink = sink;
  }

  available(): boolean {
    return this.o.placement.slots.length > 0;
  }

  join(room: string, peerId: string): void {
    const p = this.o.placement;
    const old = p.peerOf(peerId);
    if (old !== undefined) {
      if (old.room === room) return;
      this.leave(old.room, peerId);
    }
    this.waiting.delete(peerId);
    // Peers waiting for a worker count too: with every worker down, `waiting` stays finite.
    if (p.sessions + p.pending + this.waiting.size >= this.o.maxSessions) {
      this.error(peerId, 'sfu-limit', `${this.o.maxSessions} sessions held`, 'join');
      return;
    }
    if (!this.place(room, peerId))
      this.error(peerId, 'sfu-unavailable', 'no SFU worker is up', 'join');
  }

  message(room: string, peerId: string, message: SfuClientMessage): void {
    const at = this.o.placement.peerOf(peerId);
    if (at === undefined || at.room !== room) {
      if (this.waiting.get(peerId) === room) {
        this.error(peerId, 'sfu-unavailable', 'no SFU worker is up', message.type);
      } else this.error(peerId, 'sfu-bad-state', 'not joined to this sfu room', message.type);
      return;
    }
    this.o.send(at.slot, { op: 'message', room, peerId, message });
  }

  leave(room: string, peerId: string): void {
    if (this.waiting.get(peerId) === room) this.waiting.delete(peerId);
    const at = this.o.placement.peerOf(peerId);
    if (at === undefined || at.room !== room) return;
    this.o.placement.leavePeer(peerId);
    this.o.send(at.slot, { op: 'leave', room, peerId });
  }

  /** What the service of worker `slot` says to `peerId` (dropped if the peer is not there). */
  fromWorker(slot: number, peerId: string, message: SfuServerMessage): void {
    if (this.o.placement.peerOf(peerId)?.slot === slot) this.sink(peerId, message);
  }

  /**
   * Peers a worker held when it went (`RoomPlacement.workerDown`): each hears
   * `sfu-unavailable` and is joined afresh on a live worker, or waits for one.
   */
  workerLost(peers: readonly { peerId: string; room: string }[]): void {
    if (peers.length > 0) this.logger.warn({ peers: peers.length }, 'sfu worker lost its peers');
    for (const { peerId, room } of peers) {
      this.error(peerId, 'sfu-unavailable', 'the SFU worker went away; publish again');
      this.place(room, peerId);
    }
  }

  /** A worker is up: peers waiting for one are joined there. */
  workerUp(): void {
    for (const [peerId, room] of [...this.waiting]) {
      this.waiting.delete(peerId);
      this.place(room, peerId);
    }
  }

  /** Joins the peer on its room's worker; false: none is up, it waits for one. */
  private place(room: string, peerId: string): boolean {
    const slot = this.o.placement.joinPeer(room, peerId);
    if (slot === undefined) {
      this.waiting.set(peerId, room);
      return false;
    }
    this.o.send(slot, { op: 'join', room, peerId });
    return true;
  }

  private error(peerId: string, code: SfuErrorCode, message: string, ref?: string): void {
    const m: SfuServerMessage = { type: 'error', code, message };
    if (ref !== undefined) m.ref = ref;
    this.sink(peerId, m);
  }
}

type SfuErrorCode = Extract<SfuServerMessage, { type: 'error' }>['code'];
