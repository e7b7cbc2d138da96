import { randomUUID } from 'node:crypto';
import type { ActiveSpeakerOptions } from './active-speaker.js';
import { Emitter } from './emitter.js';
import { SfuError, SfuErrorCode } from './errors.js';
import {
  limitError,
  type ResolvedRouterOptions,
  type RouterOptions,
  resolveRouterOptions,
} from './options.js';
import { Room } from './room.js';

export type RouterEvents = { close: []; room: [room: Room] };

/**
 * The SFU's packet router, sans-IO: participants hand it clear RTP/RTCP
 * (`participant.receiveRtp/receiveRtcp`) and it calls each participant's `sendRtp/sendRtcp`.
 * Time-driven work (NACK retries, reports, active speaker) runs in `tick()`, which the host
 * calls every few tens of ms.
 */
export class Router extends Emitter<RouterEvents> {
  readonly options: ResolvedRouterOptions;
  readonly rooms = new Map<string, Room>();
  closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RouterOptions = {}) {
    super();
    this.options = resolveRouterOptions(options);
  }

  /** Creates a room. Throws `SfuError` (LIMIT, DUPLICATE, CLOSED). */
  createRoom(id: string = randomUUID(), speaker: ActiveSpeakerOptions = {}): Room {
    if (this.closed) throw new SfuError(SfuErrorCode.CLOSED, 'router closed');
    if (this.rooms.size >= this.options.maxRooms) {
      throw limitError('rooms', this.options.maxRooms);
    }
    if (this.rooms.has(id)) throw new SfuError(SfuErrorCode.DUPLICATE, `room ${id}`);
    const room = new Room(this, id, this.options, speaker);
    this.rooms.set(id, room);
    this.emit('room', room);
    return room;
  }

  getRoom(id: string): Room | undefined {
    return this.rooms.get(id);
  }

  tick(now: number = this.options.now()): void {
    for (const room of [...this.rooms.values()]) room.tick(now);
  }

  /**
   * For hosts that do not drive `tick()` themselves: calls it every `intervalMs` (default 20)
   * on an unref'd timer until `close()` or the returned stop function.
   */
  startTicking(intervalMs = 20): () => void {
    if (!(intervalMs >= 1 && intervalMs <= 10_000)) {
      throw new TypeError('startTicking: intervalMs must be in [1, 10000]');
    }
    this.stopTicking();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
    return () => this.stopTicking();
  }

  stopTicking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  roomClosed(room: Room): void {
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
  }

  /** Closes every room. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTicking();
    for (const room of [...this.rooms.values()]) room.close();
    this.emit('close');
    this.removeAllListeners();
  }
}
