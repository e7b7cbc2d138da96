/**
 * `npm run bench -- <name> [options]`: runs `bench/<name>.ts`, whose `main(args)` does the work.
 * A new benchmark plugs in by adding `bench/<name>.ts` that exports
 * `main(args: string[]): Promise<number>` (the exit code); nothing here needs to change.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  main(args: string[]): Promise<number>;
}

const here = dirname(fileURLToPath(import.meta.url));

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3))
    .sort();
}

function isBenchModule(m: unknown): m is BenchModule {
  return typeof m === 'object' && m !== null && typeof Reflect.get(m, 'main') === 'function';
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = available();
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(`usage: npm run bench -- <name> [options]\nbenchmarks: ${names.join(', ')}`);
    return name === undefined ? 1 : 0;
  }
  if (!names.includes(name)) {
    console.error(`unknown benchmark '${name}'; available: ${names.join(', ')}`);
    return 1;
  }
  const mod: unknown = await import(pathToFileURL(`${here}/${name}.ts`).href);
  if (!isBenchModule(mod)) {
    console.error(`bench/${name}.ts does not export main(args)`);
    return 1;
  }
  return mod.main(rest);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
