import { setFlagsFromString } from 'node:v8';

/**
 * The V8 flag the SFU wants. Forwarding makes ~3.6 kB of short-lived Buffers per packet
 * (copies and node:crypto's GCM output, held outside the JS heap); with Node's default 16 MB
 * semi-space those die late, external memory piles up and V8 runs full GCs of 10-25 ms a few
 * times a second — the SFU's added p99 (17 ms at 100 tracks) and a third of its CPU
 * (bench/RESULTS.md, "SFU"). A 1 MB semi-space frees them in cheap scavenges. The `rtcd` bin
 * passes it in its shebang; a program embedding `SfuServer` passes it to node itself.
 */
export const SMALL_SEMI_SPACE_FLAG = '--max-semi-space-size=1';

/** Whether node was started with a flag starting `prefix` (argv or NODE_OPTIONS). */
function hasNodeFlag(
  prefix: string,
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  const set = (a: string) => a.startsWith(prefix);
  return execArgv.some(set) || (nodeOptions ?? '').split(/\s+/).some(set);
}

/** Whether node was started with any `--max-semi-space-size` (argv or NODE_OPTIONS). */
export function hasSemiSpaceFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  return hasNodeFlag('--max-semi-space-size', execArgv, nodeOptions);
}

/** The one-line warning `rtcd sfu`/`rtcd dev` log when the flag is missing, else undefined. */
export function semiSpaceAdvice(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string | undefined {
  if (hasSemiSpaceFlag(execArgv, nodeOptions)) return undefined;
  return (
    `node runs without ${SMALL_SEMI_SPACE_FLAG} (the rtcd bin sets it): expect full-GC pauses ` +
    `of 10-25 ms in forwarding; run node ${SMALL_SEMI_SPACE_FLAG} or set NODE_OPTIONS`
  );
}

/**
 * The old generation's headroom the SFU wants: V8 grows its limit to 3x what survived the last
 * full GC (`--heap-growing-percent=200`) instead of its dynamic 1.1-1.3x for a heap this small,
 * so a forwarding process of ~30 MB live runs a mark-sweep every several seconds rather than
 * about once a second; each one paused forwarding 3-12 ms and its backlog made the 10-35 ms
 * p99s of the end-to-end bench at 500 tracks (bench/RESULTS.md, "SFU", round 7: 0 mark-sweeps
 * and added p99 2.6-3.6 ms with it, 2-3 a window and 15-19 ms without, alternating runs).
 * The cost is memory: up to ~2x the live heap more before a full GC.
 */
export const HEAP_GROWING_FLAG = '--heap-growing-percent=200';

/** Whether node was started with any `--heap-growing-percent` (argv or NODE_OPTIONS). */
export function hasHeapGrowingFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  return hasNodeFlag('--heap-growing-percent', execArgv, nodeOptions);
}

/**
 * Sets `HEAP_GROWING_FLAG` in this process (V8 reads it at each full GC's new limit), unless
 * node was started with a value of its own. For the entry point of a process that forwards
 * media (`startSfuServer`), like `enableEcbResultRelease`. Returns whether it set the flag.
 */
export function applyHeapGrowing(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (hasHeapGrowingFlag(execArgv, nodeOptions)) return false;
  setFlagsFromString(HEAP_GROWING_FLAG);
  return true;
}
