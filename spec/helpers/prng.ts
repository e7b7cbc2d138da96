/**
 * Seeded randomness for the fuzz specs, so a failure reproduces from its seed alone
 * (`FUZZ_SEED=<n> npx tap spec/...`). Not for anything that needs real randomness.
 */

/** mulberry32: small, fast, good enough to drive a fuzzer. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The usual draws on top of `prng`. */
export class Random {
  readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = prng(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new TypeError('pick from an empty array');
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    this.fill(b, 0, n);
    return b;
  }

  /** Overwrites `b[start, end)` with random bytes, four at a time. */
  fill(b: Buffer, start: number, end: number): void {
    let i = start;
    for (; i + 4 <= end; i += 4) b.writeUInt32BE((this.next() * 4294967296) >>> 0, i);
    for (; i < end; i++) b[i] = this.int(256);
  }
}

/**
 * `FUZZ_SEED` and `FUZZ_ITERATIONS` from the environment (decimal or 0x hex), else the
 * defaults. Specs only: libraries never read the environment.
 */
export function fuzzSettings(defaults: { seed: number; iterations: number }): {
  seed: number;
  iterations: number;
} {
  const seed = Number(process.env.FUZZ_SEED ?? defaults.seed);
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? defaults.iterations);
  if (!Number.isInteger(seed) || !Number.isInteger(iterations) || iterations < 0) {
    throw new TypeError('FUZZ_SEED and FUZZ_ITERATIONS must be integers');
  }
  return { seed, iterations };
}
