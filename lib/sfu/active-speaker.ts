import type { Producer } from './producer.js';

export interface ActiveSpeakerOptions {
  /** Smoothed loudness (127 − dBov) a speaker must reach. Defaults to 50 (−77 dBov). */
  threshold?: number;
  /** How much louder a challenger must be than the current speaker. Defaults to 8. */
  hysteresis?: number;
  /** Weight of the newest interval in the smoothing (0–1). Defaults to 0.5. */
  smoothing?: number;
}

/**
 * Dominant speaker from RFC 6464 audio levels: each interval, every audio producer's mean
 * loudness (127 − level in −dBov; silence when it sent no level) is smoothed exponentially;
 * the loudest becomes the speaker once over the threshold and, to avoid flapping, louder than
 * the current one by the hysteresis. A silent room keeps the last speaker.
 */
export class ActiveSpeakerDetector {
  current: Producer | undefined;
  private readonly scores = new Map<Producer, number>();
  private readonly threshold: number;
  private readonly hysteresis: number;
  private readonly smoothing: number;

  constructor(o: ActiveSpeakerOptions = {}) {
    this.threshold = o.threshold ?? 50;
    this.hysteresis = o.hysteresis ?? 8;
    this.smoothing = o.smoothing ?? 0.5;
  }

  score(p: Producer): number {
    return this.scores.get(p) ?? 0;
  }

  /** Consumes the levels accumulated since the last call; returns the new speaker if changed. */
  update(producers: Iterable<Producer>): Producer | undefined {
    let best: Producer | undefined;
    let bestScore = -1;
    const seen = new Set<Producer>();
    for (const p of producers) {
      if (p.audioLevelId === 0 || p.closed) continue;
      seen.add(p);
      const mean = p.levelCount > 0 ? p.levelSum / p.levelCount : 0;
      p.levelSum = 0;
      p.levelCount = 0;
      const prev = this.scores.get(p) ?? 0;
      const s = prev + this.smoothing * (mean - prev);
      this.scores.set(p, s);
      if (s > bestScore) {
        best = p;
        bestScore = s;
      }
    }
    for (const p of this.scores.keys()) if (!seen.has(p)) this.scores.delete(p);
    if (this.current && !seen.has(this.current)) this.current = undefined;
    if (!best || best === this.current || bestScore < this.threshold) return undefined;
    if (this.current && bestScore < this.score(this.current) + this.hysteresis) return undefined;
    this.current = best;
    return best;
  }
}
