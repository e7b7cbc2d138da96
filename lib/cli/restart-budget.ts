/**
 * How often a server's dying workers may be replaced before the whole server stops: more than
 * `perMinute` deaths in the last minute means something is wrong that restarting will not fix
 * (`rtcd turn --workers`, `rtcd sfu --workers`).
 */
export const MAX_RESTARTS_PER_MINUTE = 5;

/** Deaths seen in a sliding minute. */
export class RestartBudget {
  private readonly deaths: number[] = [];

  constructor(private readonly perMinute = MAX_RESTARTS_PER_MINUTE) {}

  /** Counts one death at `now` (ms); false once the minute holds more than `perMinute`. */
  allow(now: number): boolean {
    this.deaths.push(now);
    while (this.deaths[0]! < now - 60_000) this.deaths.shift();
    return this.deaths.length <= this.perMinute;
  }
}
