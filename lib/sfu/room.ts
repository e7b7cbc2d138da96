import { ActiveSpeakerDetector, type ActiveSpeakerOptions } from './active-speaker.js';
import { Emitter } from './emitter.js';
import { SfuError, SfuErrorCode } from './errors.js';
import { limitError, type ResolvedRouterOptions } from './options.js';
import { Participant, type ParticipantOptions } from './participant.js';
import type { Producer } from './producer.js';
import type { Router } from './router.js';

export type RoomEvents = {
  close: [];
  participantjoin: [participant: Participant];
  participantleave: [participant: Participant, reason: string];
  /** A track was published: the application subscribes the others to it. */
  producer: [producer: Producer];
  /** The dominant speaker changed (smoothed RFC 6464 levels). */
  activespeaker: [producer: Producer];
};

export class Room extends Emitter<RoomEvents> {
  readonly participants = new Map<string, Participant>();
  readonly activeSpeaker: ActiveSpeakerDetector;
  closed = false;
  private nextSpeakerAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly router: Router,
    readonly id: string,
    private readonly opts: ResolvedRouterOptions,
    speaker: ActiveSpeakerOptions = {},
  ) {
    super();
    this.activeSpeaker = new ActiveSpeakerDetector(speaker);
    this.onListenerError = (err, event) => opts.logger.warn({ err, event }, 'sfu listener threw');
  }

  /** Adds a participant. Throws `SfuError` (LIMIT, DUPLICATE, CLOSED). */
  join(o: ParticipantOptions): Participant {
    if (this.closed) throw new SfuError(SfuErrorCode.CLOSED, 'room closed');
    if (this.participants.size >= this.opts.maxParticipantsPerRoom) {
      throw limitError('participants per room', this.opts.maxParticipantsPerRoom);
    }
    if (o.id !== undefined && this.participants.has(o.id)) {
      throw new SfuError(SfuErrorCode.DUPLICATE, `participant ${o.id}`);
    }
    const p = new Participant(this, o, this.opts);
    this.participants.set(p.id, p);
    this.emit('participantjoin', p);
    return p;
  }

  /** Every open producer in the room. */
  *producers(): Generator<Producer> {
    for (const part of this.participants.values()) yield* part.producers.values();
  }

  producerAdded(p: Producer): void {
    this.emit('producer', p);
  }

  participantClosed(p: Participant, reason: string): void {
    if (this.participants.get(p.id) !== p) return;
    this.participants.delete(p.id);
    this.emit('participantleave', p, reason);
  }

  tick(now: number): void {
    for (const p of [...this.participants.values()]) p.tick(now);
    this.tickOwn(now);
  }

  /** The room's own timed work (the active-speaker decision), not its participants'. */
  tickOwn(now: number): void {
    if (this.closed) return;
    if (now >= this.nextSpeakerAt) {
      this.nextSpeakerAt = now + this.opts.activeSpeakerIntervalMs;
      const speaker = this.activeSpeaker.update(this.producers());
      if (speaker) this.emit('activespeaker', speaker);
    }
  }

  /** Closes every participant (reason `room-closed`), then the room. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.participants.values()]) p.close('room-closed');
    this.router.roomClosed(this);
    this.emit('close');
    this.removeAllListeners();
  }
}
