/**
 * Bundles the browser SDK and the call page with esbuild into `dist/web/` (or `--outdir`):
 * `sdk.js` (ESM, the SDK on its own, for pages of your own), `app.js` (the call page,
 * SDK included), `index.html` and `style.css`. `rtcd signal` serves this directory.
 *
 *   node --import tsx scripts/build-web.ts [--outdir DIR]
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
export const DEFAULT_OUTDIR = join(ROOT, 'dist', 'web');

/** Builds into `outdir` and returns it. Chromium 100+ and current Firefox/Safari can run it. */
export async function buildWeb(outdir: string = DEFAULT_OUTDIR): Promise<string> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { sdk: join(WEB, 'sdk', 'index.ts'), app: join(WEB, 'app', 'main.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) {
    await copyFile(join(WEB, file), join(outdir, file));
  }
  return outdir;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--outdir');
  const outdir = at >= 0 ? resolve(process.argv[at + 1] ?? '') : DEFAULT_OUTDIR;
  buildWeb(outdir).then(
    (dir) => console.log(`web client built in ${dir}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
