import type { TransportAddress } from '../stun/index.js';

/** Lifetimes the client assumes for its automatic refreshes, seconds. */
export interface AutoRefreshOptions {
  /** Permission lifetime (RFC 8656 §9: exactly 300 s). Default 300. */
  permissionLifetime?: number;
  /** Channel binding lifetime (RFC 8656 §12: 600 s). Default 600. */
  channelLifetime?: number;
  /**
   * Refresh this long before expiry; lifetimes up to twice the margin are refreshed at half
   * time instead. Default 60.
   */
  margin?: number;
}

export interface DueRefreshes {
  allocation: boolean;
  permissions: string[];
  channels: [number, TransportAddress][];
}

/**
 * When the allocation, each permission and each channel need refreshing, as timestamps
 * (ms, from the caller's clock): one timer at `nextDue()` serves all of them. Sans-IO: the
 * client feeds it successes and asks what is due.
 */
export class RefreshSchedule {
  private allocationDue: number | undefined;
  private readonly permissionsDue = new Map<string, number>();
  private readonly channelsDue = new Map<number, { peer: TransportAddress; due: number }>();
  private readonly permissionLifetime: number;
  private readonly channelLifetime: number;
  private readonly margin: number;

  constructor(o: AutoRefreshOptions = {}) {
    this.permissionLifetime = o.permissionLifetime ?? 300;
    this.channelLifetime = o.channelLifetime ?? 600;
    this.margin = o.margin ?? 60;
    for (const [name, v] of Object.entries({
      permissionLifetime: this.permissionLifetime,
      channelLifetime: this.channelLifetime,
      margin: this.margin,
    })) {
      if (!Number.isFinite(v) || v <= 0) throw new TypeError(`autoRefresh.${name} must be > 0`);
    }
  }

  /** Seconds after a grant of `lifetime` seconds at which to refresh. */
  delay(lifetime: number): number {
    return lifetime > 2 * this.margin ? lifetime - this.margin : lifetime / 2;
  }

  allocation(lifetime: number, now: number): void {
    this.allocationDue = lifetime > 0 ? now + 1000 * this.delay(lifetime) : undefined;
  }

  permission(ip: string, now: number): void {
    this.permissionsDue.set(ip, now + 1000 * this.delay(this.permissionLifetime));
  }

  channel(channel: number, peer: TransportAddress, now: number): void {
    this.channelsDue.set(channel, { peer, due: now + 1000 * this.delay(this.channelLifetime) });
  }

  clear(): void {
    this.allocationDue = undefined;
    this.permissionsDue.clear();
    this.channelsDue.clear();
  }

  /** The earliest due time, or undefined if nothing is scheduled. */
  nextDue(): number | undefined {
    let next = this.allocationDue;
    for (const due of this.permissionsDue.values())
      if (next === undefined || due < next) next = due;
    for (const { due } of this.channelsDue.values())
      if (next === undefined || due < next) next = due;
    return next;
  }

  /** Removes and returns what is due at `now`; a successful refresh schedules it again. */
  take(now: number): DueRefreshes {
    const out: DueRefreshes = { allocation: false, permissions: [], channels: [] };
    if (this.allocationDue !== undefined && this.allocationDue <= now) {
      out.allocation = true;
      this.allocationDue = undefined;
    }
    for (const [ip, due] of this.permissionsDue) {
      if (due > now) continue;
      out.permissions.push(ip);
      this.permissionsDue.delete(ip);
    }
    for (const [channel, { peer, due }] of this.channelsDue) {
      if (due > now) continue;
      out.channels.push([channel, peer]);
      this.channelsDue.delete(channel);
    }
    return out;
  }
}

/**
 * The one timer behind `autoRefresh`: re-armed for `schedule.nextDue()` after every change,
 * it hands what is due to `onDue` (which schedules each item again when its refresh
 * succeeds). Unref'd: it never keeps the process alive.
 */
export class RefreshTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly schedule: RefreshSchedule,
    private readonly onDue: (due: DueRefreshes) => void,
  ) {}

  /** Applies `change` at the current time and re-arms the timer. */
  update(change: (s: RefreshSchedule, now: number) => void): void {
    change(this.schedule, Date.now());
    clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.schedule.nextDue();
    if (due === undefined || this.stopped) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - Date.now()));
    this.timer.unref();
  }

  /** No timer from now on (the client is closing). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    const due = this.schedule.take(Date.now());
    this.update(() => {});
    this.onDue(due);
  }
}
