/**
 * The probe of `npm run bench -- cpu-stalls`: spins on `performance.now()` for the given
 * milliseconds (after a short warm-up, so the loop is compiled before it is timed) and prints
 * one JSON line, `{ "gaps": [ms…] }`, every gap between consecutive clock readings of at least
 * the threshold. Nothing else runs in this process, and it allocates nothing while it spins,
 * so a gap is time this thread's CPU was given to something else: another task, the kernel,
 * or (in a virtual machine) the host, which the guest does not see as steal.
 *
 * argv: <measure ms> <threshold ms>. Prints `ready` first, when the timed part starts.
 */

const [measureArg, thresholdArg] = process.argv.slice(2);
const measureMs = Number(measureArg);
const thresholdMs = Number(thresholdArg);
if (!(measureMs > 0 && thresholdMs > 0)) {
  process.stderr.write('usage: probe.ts <measure ms> <threshold ms>\n');
  process.exit(2);
}

const MAX_GAPS = 100_000;
const gaps = new Float64Array(MAX_GAPS);

function spin(ms: number, threshold: number): number {
  let n = 0;
  let last = performance.now();
  const end = last + ms;
  for (;;) {
    const t = performance.now();
    const gap = t - last;
    last = t;
    if (gap >= threshold && n < MAX_GAPS) gaps[n++] = gap;
    if (t >= end) return n;
  }
}

spin(150, Number.POSITIVE_INFINITY);
process.stdout.write('ready\n');
const n = spin(measureMs, thresholdMs);
process.stdout.write(`${JSON.stringify({ gaps: Array.from(gaps.subarray(0, n)) })}\n`);
