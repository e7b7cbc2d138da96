/**
 * The V8 flag the SFU wants. Forwarding makes ~3.6 kB of short-lived Buffers per packet
 * (copies and node:crypto's GCM output, held outside the JS heap); with Node's default 16 MB
 * semi-space those die late, external memory piles up and V8 runs full GCs of 10-25 ms a few
 * times a second — the SFU's added p99 (17 ms at 100 tracks) and a third of its CPU
 * (bench/RESULTS.md, "SFU"). A 1 MB semi-space frees them in cheap scavenges. The `rtcd` bin
 * passes it in its shebang; a program embedding `SfuServer` passes it to node itself.
 */
export const SMALL_SEMI_SPACE_FLAG = '--max-semi-space-size=1';

/** Whether node was started with any `--max-semi-space-size` (argv or NODE_OPTIONS). */
export function hasSemiSpaceFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  const set = (a: string) => a.startsWith('--max-semi-space-size');
  return execArgv.some(set) || (nodeOptions ?? '').split(/\s+/).some(set);
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
