/**
 * Which worker holds which WHIP/WHEP room, for a front that spreads rooms over several SFU
 * processes (`SfuWorkerFront`). A room must live in one process (its packets are forwarded in
 * memory), so its first request picks the worker with the fewest sessions (held and being
 * answered), and every later request of the room goes to the same worker until the room has
 * no session and no request in flight: only then is it forgotten, and may land elsewhere next.
 *
 * No race can split a room: a session is counted from the moment the front sees the worker's
 * 201 (in the same step that ends the request's in-flight count) until the worker reports it
 * ended; a report that overtakes the 201 is held back (`ended` before `finish`) and cancels
 * the session when the 201 comes. So "no session, nothing in flight" at the front means the
 * worker holds no WHIP/WHEP participant of the room either (SfuServer closes an empty room).
 *
 * Peers of `rtcd signal` rooms (the front's `WorkerRoomService`) are placed by the same map:
 * a peer's join goes to its room's worker, else the least loaded, and counts as one session
 * there until it leaves, so WHIP publishers and room peers of one name meet as in one process,
 * and they count in the least-loaded choice and the front's `maxSessions`. A room that a worker
 * reports open without the front's doing (`roomOpened`/`roomClosed`) is placed there too.
 *
 * Pure bookkeeping: no sockets, no processes, no clock but the one passed in.
 */

interface RoomEntry {
  slot: number;
  /** Requests of this room sent to `slot` and not answered yet. */
  pending: number;
  /** Its sessions held (which ones: `resources`, by resource). */
  sessions: number;
}

/** How long a session-ended report waits for the 201 it overtook, ms. */
const EARLY_END_TTL_MS = 60_000;
/** Reports held at once; beyond, the oldest is dropped. */
const MAX_EARLY_ENDS = 10_000;

export class RoomPlacement {
  private readonly rooms = new Map<string, RoomEntry>();
  private readonly resources = new Map<string, { room: string; slot: number }>();
  /** Room peers (`joinPeer`) by peer id: each one session of its room. */
  private readonly peers = new Map<string, { room: string; slot: number }>();
  /** Session-ended reports whose 201 the front has not seen yet, by resource: time seen. */
  private readonly earlyEnds = new Map<string, number>();
  /** Rooms open on a worker, whoever made them, as the workers report them. */
  private readonly hosted = new Map<string, number>();
  /** Per live slot: sessions held and requests in flight. */
  private readonly load = new Map<number, { sessions: number; pending: number }>();

  /** Slots that can take requests now, ascending. */
  get slots(): number[] {
    return [...this.load.keys()].sort((a, b) => a - b);
  }

  /** Sessions held on all workers together: WHIP/WHEP resources and room peers. */
  get sessions(): number {
    return this.resources.size + this.peers.size;
  }

  /** Room peers placed now. */
  get peerCount(): number {
    return this.peers.size;
  }

  /** Requests sent to workers and not answered yet. */
  get pending(): number {
    let n = 0;
    for (const l of this.load.values()) n += l.pending;
    return n;
  }

  /** Rooms the front routes now. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Sessions held and requests in flight on `slot` (undefined: not a live slot). */
  loadOf(slot: number): { sessions: number; pending: number } | undefined {
    const l = this.load.get(slot);
    return l === undefined ? undefined : { ...l };
  }

  /** The worker a room is on now, if the front routes it. */
  slotOfRoom(room: string): number | undefined {
    return this.rooms.get(room)?.slot;
  }

  /** A room peer's room and worker, if it is placed. */
  peerOf(peerId: string): { room: string; slot: number } | undefined {
    const p = this.peers.get(peerId);
    return p === undefined ? undefined : { ...p };
  }

  /** The worker holding a session, if it is alive. */
  slotOfResource(resource: string): number | undefined {
    return this.resources.get(resource)?.slot;
  }

  /**
   * A worker came up (or back) on `slot`: it holds nothing yet. Returns the room peers it was
   * holding (only if it was up already), as `workerDown` does.
   */
  workerUp(slot: number): { peerId: string; room: string }[] {
    const lost = this.workerDown(slot);
    this.load.set(slot, { sessions: 0, pending: 0 });
    return lost;
  }

  /** The worker of `slot` reports that its router opened `room` (any room, any front). */
  roomOpened(slot: number, room: string): void {
    if (this.load.has(slot)) this.hosted.set(room, slot);
  }

  /** The worker of `slot` reports that its router closed `room`. */
  roomClosed(slot: number, room: string): void {
    if (this.hosted.get(room) === slot) this.hosted.delete(room);
  }

  /**
   * The worker of `slot` is gone: its rooms and sessions are forgotten with it. Returns the
   * room peers it held (no longer placed: their service places them again or tells them).
   */
  workerDown(slot: number): { peerId: string; room: string }[] {
    this.load.delete(slot);
    for (const [id, s] of this.hosted) if (s === slot) this.hosted.delete(id);
    for (const [id, r] of this.rooms) if (r.slot === slot) this.rooms.delete(id);
    for (const [id, r] of this.resources) if (r.slot === slot) this.resources.delete(id);
    const lost: { peerId: string; room: string }[] = [];
    for (const [peerId, p] of this.peers) {
      if (p.slot !== slot) continue;
      this.peers.delete(peerId);
      lost.push({ peerId, room: p.room });
    }
    return lost;
  }

  /**
   * Room peer `peerId` joins `room` (not placed yet: a peer moving rooms leaves first): the
   * slot it goes to, chosen as `begin` chooses, where it counts as one session until
   * `leavePeer`. Undefined when no worker is up.
   */
  joinPeer(room: string, peerId: string): number | undefined {
    const entry = this.entryFor(room);
    if (entry === undefined) return undefined;
    entry.sessions++;
    this.load.get(entry.slot)!.sessions++;
    this.peers.set(peerId, { room, slot: entry.slot });
    return entry.slot;
  }

  /** Room peer `peerId` left: where it was (undefined: it was not placed). */
  leavePeer(peerId: string): { room: string; slot: number } | undefined {
    const p = this.peers.get(peerId);
    if (p === undefined) return undefined;
    this.peers.delete(peerId);
    const load = this.load.get(p.slot);
    if (load !== undefined) load.sessions--;
    const entry = this.rooms.get(p.room);
    if (entry !== undefined && entry.slot === p.slot) {
      entry.sessions--;
      this.forgetIfIdle(p.room, entry);
    }
    return { ...p };
  }

  /**
   * A request for `room` is about to be sent: the slot it goes to (the room's; else the worker
   * where the room is open already; else the live slot with the least sessions + requests in
   * flight, the lowest on a tie), counted in flight until `finish`. Undefined when no worker
   * is up.
   */
  begin(room: string): number | undefined {
    const entry = this.entryFor(room);
    if (entry === undefined) return undefined;
    entry.pending++;
    this.load.get(entry.slot)!.pending++;
    return entry.slot;
  }

  /** The room's entry, made on the worker that has the room open or the least loaded one. */
  private entryFor(room: string): RoomEntry | undefined {
    let entry = this.rooms.get(room);
    if (entry !== undefined) return entry;
    let best = this.hosted.get(room);
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const slot of best === undefined ? this.slots : []) {
      const l = this.load.get(slot)!;
      if (l.sessions + l.pending < bestLoad) {
        best = slot;
        bestLoad = l.sessions + l.pending;
      }
    }
    if (best === undefined) return undefined;
    entry = { slot: best, pending: 0, sessions: 0 };
    this.rooms.set(room, entry);
    return entry;
  }

  /**
   * The request `begin` counted is answered; `resource` is the session its 201 created (none
   * for any other answer or a failed request).
   */
  finish(room: string, slot: number, resource?: string): void {
    const entry = this.rooms.get(room);
    if (entry === undefined || entry.slot !== slot) return; // the worker went meanwhile
    entry.pending--;
    const load = this.load.get(slot)!;
    load.pending--;
    if (resource !== undefined) {
      if (this.earlyEnds.delete(resource)) {
        // It ended before its 201 arrived here: never counted.
      } else {
        entry.sessions++;
        this.resources.set(resource, { room, slot });
        load.sessions++;
      }
    }
    this.forgetIfIdle(room, entry);
  }

  /** The worker of `slot` reports that session `resource` ended. */
  ended(slot: number, resource: string, now: number): void {
    const r = this.resources.get(resource);
    if (r === undefined || r.slot !== slot) {
      if (this.load.has(slot)) this.holdEarlyEnd(resource, now);
      return;
    }
    this.resources.delete(resource);
    this.load.get(slot)!.sessions--;
    const entry = this.rooms.get(r.room);
    if (entry === undefined) return;
    entry.sessions--;
    this.forgetIfIdle(r.room, entry);
  }

  /** Drops held session-ended reports older than a minute (their 201 never came). */
  sweep(now: number): void {
    for (const [id, at] of this.earlyEnds) {
      if (now - at < EARLY_END_TTL_MS) break; // insertion order is time order
      this.earlyEnds.delete(id);
    }
  }

  private holdEarlyEnd(resource: string, now: number): void {
    if (this.earlyEnds.size >= MAX_EARLY_ENDS) {
      const oldest = this.earlyEnds.keys().next().value;
      if (oldest !== undefined) this.earlyEnds.delete(oldest);
    }
    this.earlyEnds.set(resource, now);
  }

  private forgetIfIdle(room: string, entry: RoomEntry): void {
    if (entry.pending === 0 && entry.sessions === 0) this.rooms.delete(room);
  }
}
