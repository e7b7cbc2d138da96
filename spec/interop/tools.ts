/**
 * External programs the interop tests drive (coturn's turnutils, Chromium). A missing program
 * skips the test locally, with a message saying what to install, but FAILS it in CI
 * (`CI=true`): an interop suite that silently skips everywhere proves nothing.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export const inCI = process.env.CI === 'true';

/** Absolute path of an executable found on PATH (or checked as given when absolute). */
export function findExecutable(name: string): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}

export function missingTools(names: readonly string[]): string[] {
  return names.filter((n) => findExecutable(n) === undefined);
}

/**
 * Tap options for a test needing `names`: `{ skip: reason }` locally when one is missing,
 * `{}` in CI so the test runs and `requireTools` fails it.
 */
export function toolOptions(names: readonly string[]): { skip?: string } {
  const missing = missingTools(names);
  if (missing.length === 0 || inCI) return {};
  return { skip: `not installed: ${missing.join(', ')} (apt-get install coturn chromium)` };
}

interface Failer {
  fail(message: string): unknown;
}

/** Fails `t` (and returns false) when a program is missing; in CI this is the only outcome. */
export function requireTools(t: Failer, names: readonly string[]): boolean {
  const missing = missingTools(names);
  if (missing.length === 0) return true;
  t.fail(`required interop tool missing: ${missing.join(', ')}`);
  return false;
}
