import type { TurnMetrics } from '../turn/metrics.js';
import type { TurnServerOptions } from '../turn/options.js';
import { TurnServer } from '../turn/server.js';
import type { Logger } from '../util/logger.js';

/** Constructs (validating the options) and starts; a server that fails to start is closed. */
export async function startTurnServer(
  options: TurnServerOptions,
  log: Logger,
  metrics: TurnMetrics | undefined,
): Promise<TurnServer> {
  const server = new TurnServer(
    options,
    metrics ? { logger: log, observer: metrics } : { logger: log },
  );
  try {
    await server.start();
  } catch (err) {
    await server.close({ drainTimeoutMs: 0 }).catch(() => {});
    throw err;
  }
  return server;
}

export function closeTurnServer(server: TurnServer, options: TurnServerOptions): Promise<void> {
  return options.drainTimeoutMs === undefined
    ? server.close()
    : server.close({ drainTimeoutMs: options.drainTimeoutMs });
}
