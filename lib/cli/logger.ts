import { type Logger as PinoLogger, pino } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogLevel } from './values.js';

export interface CliLoggerOptions {
  level: LogLevel;
  /** Human-readable lines instead of JSON. Default: when stdout is a terminal. */
  pretty?: boolean;
  /** Fields on every line, e.g. `{ worker: 2 }`. */
  bindings?: Record<string, unknown>;
}

/**
 * The CLI's pino logger: JSON lines on stdout for log collectors, or pino-pretty when a person
 * is watching a terminal. Both write synchronously (pretty in-thread rather than as a worker
 * transport) so that the last lines before `process.exit()` are not lost.
 */
export function createCliLogger(o: CliLoggerOptions): PinoLogger {
  const pretty = o.pretty ?? process.stdout.isTTY === true;
  const options = { level: o.level, base: { pid: process.pid, ...o.bindings } };
  if (!pretty) {
    // Level names and ISO times read better in log collectors than pino's numbers.
    const json = {
      ...options,
      formatters: { level: (label: string) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    };
    return pino(json, pino.destination({ fd: 1, sync: true }));
  }
  const stream = PinoPretty({
    colorize: true,
    sync: true,
    destination: 1,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return pino(options, stream);
}
