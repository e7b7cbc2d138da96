/**
 * How the SFU bench's Janus rows print (bench/sfu/janus.ts): rtcd's columns
 * (bench/sfu/report.ts) less the event-loop lags, and the lines comparing rtcd with Janus.
 */
import type { E2eResult, E2eStep } from './e2e.js';
import type { JanusResult } from './janus.js';
import { lossAndLatencyColumns, ms, tracksPerCoreByCost } from './report.js';

export const JANUS_HEADER =
  'tracks rooms fwd pkt/s Janus CPU clients CPU loss    direct  Janus p50/p99 ms ' +
  'direct p50/p99 ms added p50/p99 ms tracks/core';
/** One Janus row, the columns of rtcd's (bench/sfu/report.ts) less the event-loop lags. */
export function formatJanusStep(s: E2eStep): string {
  return [
    String(s.tracks).padEnd(6),
    String(s.rooms).padEnd(5),
    String(Math.round(s.forwardedPerSecond)).padEnd(9),
    s.sfuCpuShare.toFixed(2).padEnd(9),
    s.clientCpuShare.toFixed(2).padEnd(11),
    ...lossAndLatencyColumns(s, 16),
  ].join(' ');
}

/** The largest track count at which both ramps have a step with loss <= 1%. */
function commonStep(a: E2eStep[], b: E2eStep[]): [E2eStep, E2eStep] | undefined {
  const ok = (s: E2eStep) => s.loss <= 0.01;
  const pairs = a.filter(ok).flatMap((x) => {
    const y = b.find((s) => ok(s) && s.tracks === x.tracks);
    return y ? [[x, y] as [E2eStep, E2eStep]] : [];
  });
  return pairs.at(-1);
}

/**
 * The lines comparing rtcd's end-to-end result with Janus's, measured in the same run: the
 * headline tracks per core of each (at its largest step under 1% loss), and at the largest
 * step both passed, tracks/core by CPU cost (forwarded packets per CPU-second / 104) and the
 * latency of each path, so the two are compared under the same offered load.
 */
export function formatRatios(rtcd: E2eResult | undefined, j: JanusResult): string[] {
  const lines = [`Janus ramp stopped: ${j.stoppedBecause}`];
  if (j.failedConnects > 0) lines.push(`Janus clients that failed to connect: ${j.failedConnects}`);
  const b = j.best;
  if (!b) return [...lines, 'Janus: no step stayed under 1% loss'];
  lines.push(
    `Janus tracks per core: ${Math.round(j.tracksPerCore)} = ${b.tracks} subscriber tracks / ` +
      `${b.sfuCpuShare.toFixed(2)} of a core; added latency p50 ${ms(b.addedP50)} ms, ` +
      `p99 ${ms(b.addedP99)} ms; RSS per idle subscriber ` +
      `${(j.rssPerSubscriber / 1024).toFixed(1)} kB (${j.memorySubscribers} subscribers)`,
  );
  if (!rtcd?.best) return [...lines, 'rtcd/Janus: no rtcd step under 1% loss to compare'];
  const ratio = (x: number, y: number): string => (y > 0 ? (x / y).toFixed(2) : '-');
  lines.push(
    `rtcd/Janus tracks per core: ${Math.round(rtcd.tracksPerCore)}/` +
      `${Math.round(j.tracksPerCore)} = ${ratio(rtcd.tracksPerCore, j.tracksPerCore)}x ` +
      `(each at its largest step under 1% loss: ${rtcd.best.tracks}/${b.tracks} tracks)`,
  );
  const common = commonStep(rtcd.steps, j.steps);
  if (!common) return [...lines, 'rtcd/Janus: no step count both passed under 1% loss'];
  const [r, x] = common;
  const [rc, xc] = [tracksPerCoreByCost(r), tracksPerCoreByCost(x)];
  lines.push(
    `rtcd/Janus at ${r.tracks} tracks (both under 1% loss): tracks/core by CPU cost ` +
      `${Math.round(rc)}/${Math.round(xc)} = ${ratio(rc, xc)}x; added latency p50 ` +
      `${ms(r.addedP50)}/${ms(x.addedP50)} ms, p99 ${ms(r.addedP99)}/${ms(x.addedP99)} ms; ` +
      `path p50 ${ms(r.sfuP50)}/${ms(x.sfuP50)} ms, p99 ${ms(r.sfuP99)}/${ms(x.sfuP99)} ms ` +
      '(latency: lower is better)',
  );
  return lines;
}
