import { readFileSync } from 'node:fs';

/** The package version, read from package.json so `rtcd --version` never drifts from npm. */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'rtcd' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate: sources live one level deeper than the build output
    }
  }
  return '0.0.0';
})();
