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
import type { Participant } from './participant.js';
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
  /** The unfinished sliced pass (participants, then their room), and where it is. */
  private readonly pass: (Participant | Room)[] = [];
  private passAt = 0;
  private pending: NodeJS.Immediate | undefined;

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
   * The same work as `tick()` — every participant's, then each room's own — in slices of at
   * most `tickSliceMs` of wall time, each slice's `now` read when it starts; between slices
   * the event loop runs (`setImmediate`), so packets that arrive during a pass wait for one
   * slice, not for the whole pass over every leg. A call while a pass is unfinished does
   * nothing (that pass is still behind). Returns whether the whole pass ran in this call.
   */
  tickSliced(): boolean {
    if (this.closed || this.pass.length > 0) return false;
    for (const room of this.rooms.values()) {
      for (const p of room.participants.values()) this.pass.push(p);
      this.pass.push(room);
    }
    this.passAt = 0;
    return this.runSlice();
  }

  /** Ticks the pass's next items until it ends or the slice's time is up. */
  private runSlice(): boolean {
    this.pending = undefined;
    const start = performance.now();
    const now = this.options.now();
    const pass = this.pass;
    while (this.passAt < pass.length) {
      const item = pass[this.passAt++]!;
      if (item instanceof Room) item.tickOwn(now);
      else item.tick(now);
      if (performance.now() - start >= this.options.tickSliceMs && this.passAt < pass.length) {
        this.pending = setImmediate(this.nextSlice);
        return false;
      }
    }
    pass.length = 0;
    return true;
  }

  private readonly nextSlice = (): void => {
    if (!this.closed) this.runSlice();
  };

  /**
   * For hosts that do not drive `tick()` themselves: a pass every `intervalMs` (default 20),
   * as `tickSliced()`, on an unref'd timer until `close()` or the returned stop function.
   */
  startTicking(intervalMs = 20): () => void {
    if (!(intervalMs >= 1 && intervalMs <= 10_000)) {
      throw new TypeError('startTicking: intervalMs must be in [1, 10000]');
    }
    this.stopTicking();
    this.timer = setInterval(() => this.tickSliced(), intervalMs);
    this.timer.unref();
    return () => this.stopTicking();
  }

  stopTicking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.pass.length = 0;
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
