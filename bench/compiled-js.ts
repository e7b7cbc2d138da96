/**
 * Child processes of a bench as plain JavaScript instead of TypeScript through tsx.
 *
 * Why: tsx's module hooks run on Node 20's loader thread, and the main thread waits for that
 * thread synchronously on every module it loads. Now and then a child's main thread waited
 * for ever: the SFU bench's "no reply in 120 s" failures (about one run in eight on
 * 2026-11-29) were a child blocked in a futex while its hooks thread sat idle in epoll, before
 * it ran any of its own code (or, once, the SFU child mid-run). Compiled modules need no
 * hooks, so no such thread exists.
 *
 * How: esbuild (the transpiler tsx itself uses) writes every `.ts` file of lib/, bench/ and
 * spec/ as a `.js` module at the same relative path under a directory of this process in
 * bench/out/ (module by module, not bundled: the same module graph `tsc` emits for
 * `npm run build`), with a copy of package.json there (ESM, and what lib/version.ts reads);
 * bare imports resolve to the repository's node_modules above it. The directory is removed
 * when this process exits.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['lib', 'bench', 'spec'];
/** Output directories of bench processes gone for longer than this are swept at start. */
const STALE_MS = 3_600_000;

let out: Promise<string> | undefined;

function sourcesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
    if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.includes('node_modules')) {
      files.push(join(root, dir, name));
    }
  }
  return files;
}

/** Removes compiled trees left by bench processes that were killed before their exit hook. */
function sweepStale(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith('.js-')) continue;
    const dir = join(base, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_MS) rmSync(dir, { recursive: true });
    } catch {
      // another bench's sweep got there first
    }
  }
}

async function compileAll(): Promise<string> {
  const base = join(root, 'bench', 'out');
  mkdirSync(base, { recursive: true });
  sweepStale(base);
  const dir = join(base, `.js-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await build({
    entryPoints: SOURCE_DIRS.flatMap(sourcesUnder),
    outdir: dir,
    outbase: root,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'error',
  });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  return dir;
}

/**
 * The compiled `.js` path of a TypeScript source file of this repository (absolute, or
 * relative to the repository's root), compiling the whole tree once per process.
 */
export async function compiledJs(source: string): Promise<string> {
  out ??= compileAll();
  const dir = await out;
  const rel = relative(root, source.startsWith('/') ? source : join(root, source));
  if (rel.startsWith('..')) throw new Error(`compiledJs: ${source} is outside the repository`);
  return join(dir, rel.replace(/\.ts$/, '.js'));
}
