/**
 * How the end-to-end SFU bench (bench/sfu/e2e.ts) prints: one row per step, a line under a
 * lossy row saying where packets went missing, and the summary with the anchors.
 */
import { availableParallelism } from 'node:os';
import { formatStalls } from '../cpu-stalls.js';
import type { E2eResult, E2eStep, E2eTarget } from './e2e.js';
import { type GcPauses, PACKETS_PER_SECOND } from './protocol.js';
import { formatSlow } from './slow-timeline.js';

const MEDIASOUP_CONSUMERS_PER_CORE = 500;

/** µs as ms with 2 decimals ('-' when not measured). */
export const ms = (us: number): string => (Number.isFinite(us) ? (us / 1000).toFixed(2) : '-');
export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const kb = (b: number): string => `${(b / 1024).toFixed(1)} kB`;
const pair = (a: number, b: number): string => `${ms(a)}/${ms(b)}`;

export const STEP_HEADER = [
  'tracks rooms fwd pkt/s SFU CPU SFU lag  clients CPU lag   loss    direct  ',
  'SFU p50/p99 ms  direct p50/p99 ms added p50/p99 ms tracks/core',
].join('');

/**
 * A row's tracks/core by CPU cost: forwarded packets per SFU CPU-second over 104 packets/s
 * per track. Equal to tracks / CPU share when nothing was lost; on a lossy row it counts only
 * the work the SFU did.
 */
export function tracksPerCoreByCost(s: E2eStep): number {
  return s.forwardedPerSecond / Math.max(s.sfuCpuShare, 1e-6) / PACKETS_PER_SECOND;
}

/** One row: CPU shares of a core, event-loop delay p99 (lag, ms), loss, latency in ms. */
export function formatStep(s: E2eStep): string {
  return [
    String(s.tracks).padEnd(6),
    String(s.rooms).padEnd(5),
    String(Math.round(s.forwardedPerSecond)).padEnd(9),
    s.sfuCpuShare.toFixed(2).padEnd(7),
    s.sfuLoopDelayP99Ms.toFixed(1).padEnd(8),
    s.clientCpuShare.toFixed(2).padEnd(7),
    s.clientLoopDelayP99Ms.toFixed(1).padEnd(5),
    ...lossAndLatencyColumns(s, 15),
  ].join(' ');
}

/**
 * A row's last columns, rtcd's and Janus's alike: loss on the server and direct paths, p50/p99
 * latency of each and added, tracks/core. `pathWidth`: the server path's column width.
 */
export function lossAndLatencyColumns(s: E2eStep, pathWidth: number): string[] {
  return [
    pct(s.loss).padEnd(7),
    pct(s.directLoss).padEnd(7),
    pair(s.sfuP50, s.sfuP99).padEnd(pathWidth),
    pair(s.directP50, s.directP99).padEnd(17),
    pair(s.addedP50, s.addedP99).padEnd(16),
    String(Math.round(tracksPerCoreByCost(s))),
  ];
}

/**
 * Under a lossy row: where packets went missing — the SFU's ingress (received vs published)
 * or its egress (forwarded vs expected), and what it counted as dropped.
 */
export function formatWhere(s: E2eStep): string | undefined {
  const bad =
    s.badPackets > 0 ? `; BAD PACKETS at subscribers: ${s.badPackets} of ${s.verifiedPackets}` : '';
  if (s.loss <= 0.01 && Object.keys(s.sfuDrops).length === 0) {
    return bad === '' ? undefined : `      ${bad.slice(1)}`;
  }
  const drops = Object.entries(s.sfuDrops)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const fanout = s.tracks / Math.max(1, s.rooms);
  const published = Math.round(s.publishedPerSecond);
  return [
    `       SFU received ${Math.round(s.sfuReceivedPerSecond)}/s of ${published}/s published,`,
    `forwarded ${Math.round(s.forwardedPerSecond)}/s of`,
    `${Math.round(s.publishedPerSecond * fanout)}/s expected; SFU drops: ${drops || 'none'}${bad}`,
  ].join(' ');
}

const gcPauses = (g: GcPauses): string => {
  const kinds = Object.entries(g.byKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `${g.count} pauses (${kinds || 'none'}), ${g.totalMs.toFixed(1)} ms in all, ` +
    `longest ${g.maxMs.toFixed(2)} ms`
  );
};

/**
 * Under each row: the SFU process's GC pauses in the window (its packets wait through them;
 * with several workers, the busiest one's, and its CPU share), then the client processes'
 * lag and GC on each path (part of both paths' latency: the direct path's p99 is their floor).
 */
export function formatGc(s: E2eStep): string[] {
  const g = s.sfuGc;
  const workers = s.sfuWorkers ?? 1;
  const who =
    workers > 1
      ? `SFU GC (busiest of ${workers} workers, ${s.busiestWorkerCpuShare?.toFixed(2)} of a core)`
      : 'SFU GC';
  const lines = [`       ${who}: ${g === undefined ? 'not observed' : gcPauses(g)}`];
  if (s.slow !== undefined) {
    lines.push(`       SFU path ${formatSlow(s.slow.sfu)}`);
    lines.push(`       direct path ${formatSlow(s.slow.direct)}`);
  }
  if (s.sfuArrival !== undefined) {
    const a = s.sfuArrival;
    const ms = (us: number) => (us / 1000).toFixed(2);
    lines.push(
      `       SFU path split (--sfu-arrival): send stamp -> the router has the packet p50 ` +
        `${ms(a.waitedP50)} / p99 ${ms(a.waitedP99)} ms; the router's handling of it ` +
        `(route, protect, send to every subscriber) p50 ${ms(a.handledP50)} / p99 ` +
        `${ms(a.handledP99)} ms`,
    );
  }
  if (s.relay !== undefined) lines.push(formatRelay(s));
  if (s.clientGc !== undefined && s.directClientGc !== undefined) {
    lines.push(
      `       clients: SFU path GC ${gcPauses(s.clientGc)}; direct path lag ` +
        `${s.directClientLoopDelayP99Ms?.toFixed(1)} ms, GC ${gcPauses(s.directClientGc)}`,
    );
  }
  return lines;
}

/** The target step's repeated runs (`--target-repeats`): each run's added p99, p50 and CPU. */
export function formatRepeats(s: E2eStep): string {
  const r = s.repeats;
  if (r === undefined) return '';
  const sorted = [...r.addedP99].sort((a, b) => a - b);
  return (
    `       ${s.tracks} tracks measured ${r.addedP99.length} times (--target-repeats): added p99 ` +
    `${r.addedP99.map(ms).join(' / ')} ms (min ${ms(sorted[0]!)}, max ` +
    `${ms(sorted.at(-1)!)}); p50 ${r.addedP50.map(ms).join(' / ')} ms; SFU CPU ` +
    `${r.sfuCpuShare.map((c) => c.toFixed(2)).join(' / ')}; ` +
    (r.relayAddedP99 ? `bare relay added p99 ${r.relayAddedP99.map(ms).join(' / ')} ms; ` : '') +
    'the row below is the run with the median added p99'
  );
}

/**
 * The issue's target, at the step closest to 500 tracks: each half met or not. A step over 1%
 * loss meets neither (what it forwarded is not what it was asked to).
 */
export function formatTarget(t: E2eTarget | undefined): string | undefined {
  if (t === undefined) return undefined;
  const s = t.step;
  const lossy = s.loss > 0.01 ? ` (loss ${pct(s.loss)} > 1%)` : '';
  const met = (ok: boolean) => (ok ? 'target met' : `target NOT met${lossy}`);
  const w = t.workers === 1 ? '1 SFU worker' : `${t.workers} SFU workers`;
  const busiest =
    t.workers > 1 && s.busiestWorkerCpuShare !== undefined
      ? `, busiest worker ${s.busiestWorkerCpuShare.toFixed(2)}`
      : '';
  return (
    `TARGET at ${s.tracks} tracks, ${w}: SFU CPU ${s.sfuCpuShare.toFixed(2)} of a core` +
    `${busiest}, loss ${pct(s.loss)}; tracks per core ${Math.round(t.tracksPerCore)} ` +
    `(>= 500: ${met(t.tracksMet)}); added p50 ${ms(s.addedP50)} ms, p99 ${ms(s.addedP99)} ms ` +
    `(< 2 ms: ${met(t.latencyMet)})` +
    (s.relay === undefined
      ? ''
      : `; a bare relay in the SFU's place added p99 ${ms(s.relay.addedP99)} ms in the same run`)
  );
}

/**
 * Under a row: the direct path's packets through the bare relay in the SFU's process
 * (bench/sfu/bare-relay.ts), against the direct path, and where its slow packets were.
 */
export function formatRelay(s: E2eStep): string {
  const r = s.relay;
  if (r === undefined) return '';
  return (
    "       bare relay in the SFU's place (Node dgram in the SFU's process, no SRTP, no " +
    `routing${r.workUs > 0 ? `, spinning ${r.workUs} µs per copy` : ''}): ` +
    `p50/p99 ${pair(r.p50, r.p99)} ms, added ${pair(r.addedP50, r.addedP99)} ms, ` +
    `loss ${pct(r.loss)}, process CPU ${r.cpuShare.toFixed(2)}; ${formatSlow(r.slow)}`
  );
}

/** The summary lines under the step table. */
export function formatE2eSummary(r: E2eResult): string[] {
  const lines = [`ramp stopped: ${r.stoppedBecause}`];
  const b = r.best;
  if (b) {
    const ratio = (r.tracksPerCore / MEDIASOUP_CONSUMERS_PER_CORE).toFixed(2);
    lines.push(
      `tracks per core: ${Math.round(r.tracksPerCore)} = ${b.tracks} subscriber tracks / ` +
        `${b.sfuCpuShare.toFixed(2)} of a core (the largest step with loss <= 1%; SFU process ` +
        `CPU time / window wall time); ${ratio}x mediasoup's ~500 consumers per worker core ` +
        '(quoted); target >= 500',
      `added latency at ${b.tracks} tracks: p50 ${ms(b.addedP50)} ms, p99 ${ms(b.addedP99)} ms ` +
        `(SFU path p50 ${ms(b.sfuP50)} / p99 ${ms(b.sfuP99)} minus direct path ` +
        `p50 ${ms(b.directP50)} / p99 ${ms(b.directP99)}); Janus VideoRoom ~0.3 ms p50 / ` +
        '1.4 ms p95 added (quoted, not run); target p99 < 2 ms',
    );
  } else {
    lines.push('tracks per core: no step stayed under 1% loss');
  }
  const target = formatTarget(r.target);
  if (target) lines.push(target);
  const held = r.latencyHeld;
  lines.push(
    held === undefined
      ? 'added p99 < 2 ms: at no step (with loss <= 1%)'
      : `added p99 < 2 ms: largest step ${held.tracks} tracks (SFU CPU ` +
          `${held.sfuCpuShare.toFixed(2)} of a core, added p99 ${ms(held.addedP99)} ms, ` +
          'loss <= 1%)',
  );
  const bare = r.bareSendsPerCpuSecond;
  if (bare !== undefined) {
    const bareTracks = bare / PACKETS_PER_SECOND;
    const top = r.steps.reduce((a, s) => Math.max(a, tracksPerCoreByCost(s)), 0);
    lines.push(
      'bare ceiling: Node dgram sends alone (1,216 B, no crypto, no routing) ' +
        `${Math.round(bare)}/CPU-second = ${Math.round(bareTracks)} tracks/core; ` +
        `the SFU's best row by CPU cost is ${(top / Math.max(bareTracks, 1e-6)).toFixed(2)}x of it`,
    );
    const handle = r.bareHandleSendsPerCpuSecond;
    if (handle !== undefined) {
      lines.push(
        `  through the socket's handle (UdpSender, as the SFU sends): ${Math.round(handle)}/CPU-second ` +
          `= ${(handle / Math.max(bare, 1e-6)).toFixed(2)}x Node's dgram send`,
      );
    }
  }
  const verified = r.steps.reduce((a, s) => a + s.verifiedPackets, 0);
  const bad = r.steps.reduce((a, s) => a + s.badPackets, 0);
  lines.push(
    `SRTP at subscribers: ${verified} packets fully unprotected (tag and payload, stamp ` +
      `compared with the one read from the ciphertext), ${bad} bad`,
  );
  const m = r.memory;
  lines.push(
    m === undefined
      ? 'memory per subscriber: measured with one SFU worker only (--sfu-workers 1)'
      : `memory per subscriber (${m.subscribers} idle connected subscribers, after GC): ` +
          `RSS ${kb(m.rssPerSubscriber)}, heap ${kb(m.heapPerSubscriber)}, ` +
          `ArrayBuffers ${kb(m.arrayBuffersPerSubscriber)}`,
  );
  if (r.failedConnects > 0) lines.push(`clients that failed to connect: ${r.failedConnects}`);
  const cores = availableParallelism();
  if ((r.loadAverage[0] ?? 0) > cores) {
    lines.push(
      `BUSY MACHINE: load average ${r.loadAverage[0]?.toFixed(1)} on ${cores} cores — loss and ` +
        'latency include waiting for a CPU; the tracks/core column (CPU time per forwarded ' +
        'packet) is the steadier figure',
    );
  }
  const load = r.loadAverage.map((l) => l.toFixed(2)).join(' ');
  lines.push(`load average ${load}; ${PACKETS_PER_SECOND.toFixed(0)} packets/s per track`);
  lines.push(...formatHostCheck(r.cpuStalls));
  return lines;
}

/**
 * The host check around the ramp (bench/cpu-stalls.ts), one line per CPU and moment, and the
 * worst share a CPU lost: a p99 of a few ms means little on a CPU that lost several % of its
 * time in gaps of 5–25 ms.
 */
export function formatHostCheck(c: E2eResult['cpuStalls']): string[] {
  if (c === undefined) return ['host check: not run (--stall-check 0)'];
  const all = [...c.before, ...c.after];
  const first = all[0];
  if (first === undefined) return ['host check: no CPU probed'];
  const worst = all.reduce((a, s) => (s.lostShare > a.lostShare ? s : a), first);
  return [
    `host check (bench/cpu-stalls.ts: a thread spinning on each CPU for ${first.seconds} s ` +
      'at once, gaps >= 1 ms are time the CPU was taken away):',
    ...c.before.map((s) => `  before the ramp: ${formatStalls(s)}`),
    ...c.after.map((s) => `  after the ramp:  ${formatStalls(s)}`),
    `  worst: cpu${worst.cpu} lost ${(worst.lostShare * 100).toFixed(1)}%, ` +
      `longest gap ${Math.max(...all.map((s) => s.maxMs)).toFixed(1)} ms`,
  ];
}
