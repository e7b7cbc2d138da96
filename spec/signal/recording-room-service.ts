/**
 * A small `RoomService` for the specs of the signal side: it records every call and answers
 * `publish` with a `publish-answer` echoing the offer, as the SFU would answer, so routing
 * both ways can be checked without media. The real SFU (`SfuRoomService`) is tested in
 * spec/sfu; spec/signal/room-service-sfu.spec.ts joins the two.
 */
import type {
  RoomService,
  RoomServiceSink,
  SfuClientMessage,
  SfuServerMessage,
} from '../../lib/signal/room-service.js';

export type Call =
  | { op: 'join' | 'leave'; room: string; peerId: string }
  | { op: 'message'; room: string; peerId: string; message: SfuClientMessage };

export class RecordingService implements RoomService {
  readonly calls: Call[] = [];
  up = true;
  private sink: RoomServiceSink | undefined;
  private waiters: { match: (c: Call) => boolean; resolve: (c: Call) => void }[] = [];
  attached = 0;

  attach(sink: RoomServiceSink): void {
    this.attached++;
    this.sink = sink;
  }

  available(): boolean {
    return this.up;
  }

  join(room: string, peerId: string): void {
    this.record({ op: 'join', room, peerId });
  }

  leave(room: string, peerId: string): void {
    this.record({ op: 'leave', room, peerId });
  }

  message(room: string, peerId: string, message: SfuClientMessage): void {
    this.record({ op: 'message', room, peerId, message });
    if (message.type === 'publish') {
      this.send(peerId, { type: 'publish-answer', sdp: `answer to ${message.sdp}` });
    }
  }

  /** What the SFU would send on its own (a subscribe-offer, an error). */
  send(peerId: string, message: SfuServerMessage): void {
    if (this.sink === undefined) throw new Error('not attached');
    this.sink(peerId, message);
  }

  /** The first recorded call matching, already made or yet to come. */
  next(match: (c: Call) => boolean, timeoutMs = 3000): Promise<Call> {
    const i = this.calls.findIndex(match);
    if (i >= 0) return Promise.resolve(this.calls.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching call within ${timeoutMs} ms: ${JSON.stringify(this.calls)}`));
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
    });
  }

  private record(c: Call): void {
    const i = this.waiters.findIndex((w) => w.match(c));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(c);
    else this.calls.push(c);
  }
}

export const op =
  (o: Call['op'], peerId?: unknown) =>
  (c: Call): boolean =>
    c.op === o && (peerId === undefined || c.peerId === peerId);
