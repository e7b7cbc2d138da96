import type { Logger } from '../util/logger.js';

/**
 * SIGTERM and SIGINT run `stop` once (a graceful drain) and then exit 0, or 1 if it fails.
 * A second signal while draining exits 1 at once: the operator has lost patience.
 * `ignoreSigint` is for cluster workers, whose primary turns the terminal's SIGINT (sent to
 * the whole process group) into one SIGTERM per worker.
 */
export function exitOnSignals(
  log: Logger,
  stop: (signal: NodeJS.Signals) => Promise<void>,
  o: { ignoreSigint?: boolean } = {},
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal while draining: exiting now');
      process.exit(1);
    }
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', o.ignoreSigint ? () => {} : onSignal);
}

/** SIGHUP runs `reload` (re-read TLS certificate and key); a failure is logged, not fatal. */
export function reloadOnSighup(log: Logger, reload: () => Promise<void>): void {
  process.on('SIGHUP', () => {
    reload().then(
      () => log.info({ signal: 'SIGHUP' }, 'TLS certificate and key reloaded'),
      (err: unknown) => log.error({ err, signal: 'SIGHUP' }, 'TLS reload failed; keeping the old'),
    );
  });
}
