import type { SignalServerOptions } from '../signal/options.js';
import { SignalServer } from '../signal/server.js';
import type { SignalStore } from '../signal/store.js';
import type { Logger } from '../util/logger.js';

/** Constructs (validating the options) and listens; a server that fails to start is closed. */
export async function startSignalServer(
  options: SignalServerOptions,
  log: Logger,
  store?: SignalStore,
): Promise<SignalServer> {
  const server = new SignalServer({ ...options, logger: log, ...(store ? { store } : {}) });
  try {
    await server.listen();
  } catch (err) {
    await server.close().catch(() => {});
    throw err;
  }
  return server;
}
