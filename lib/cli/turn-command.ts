import { TurnMetrics } from '../turn/metrics.js';
import { VERSION } from '../version.js';
import { runPrimary } from './cluster.js';
import type { TurnCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { reusePortSupported } from './platform.js';
import { exitOnSignals, reloadOnSighup } from './signals.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';

/**
 * `rtcd turn`: one TurnServer in this process, or with `--workers N` a cluster primary that
 * forks N processes sharing the ports through SO_REUSEPORT (see cluster.ts); the workers run
 * turn-worker-entry, not this command again.
 * Resolves once the server listens; the process then lives until a signal.
 */
export async function turnCommand(cfg: TurnCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
  if (cfg.workers > 1) {
    if (reusePortSupported()) return runPrimary(cfg, log);
    process.stderr.write(
      `rtcd: --workers needs Node >= 22.12 for dgram reusePort (this is v${process.versions.node}); running one process\n`,
    );
  }
  const metrics = cfg.turn.metricsListen
    ? new TurnMetrics(undefined, { collectDefaultMetrics: true })
    : undefined;
  const server = await startTurnServer(cfg.turn, log, metrics);
  log.info({ version: VERSION, ...server.addresses }, 'rtcd turn listening');
  exitOnSignals(log, async (signal) => {
    log.info({ signal, drainTimeoutMs: cfg.turn.drainTimeoutMs }, 'draining');
    await closeTurnServer(server, cfg.turn);
    log.info({}, 'closed');
  });
  reloadOnSighup(log, () => server.reloadTls());
}
