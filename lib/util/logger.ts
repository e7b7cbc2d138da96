/**
 * The logging surface every role and adapter takes. pino's Logger satisfies it, so the CLI
 * passes a pino instance; library users may pass their own or nothing (silent).
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * Whether `level` (e.g. `'debug'`) would be written, as pino's `isLevelEnabled`: lets a hot
   * path skip building log objects. Absent means "assume it would".
   */
  isLevelEnabled?(level: string): boolean;
}

const noop = (): void => {};

/** A logger that drops everything: the default when an embedding program passes none. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
};
