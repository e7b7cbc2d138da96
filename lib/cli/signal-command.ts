import { VERSION } from '../version.js';
import type { SignalCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { startSignalServer } from './start-signal.js';

/**
 * `rtcd signal`: one SignalServer in this process, its rooms in memory or, with `--redis`,
 * shared with the other nodes on that Redis; with `--sfu-secret`, SFUs link in on `/sfu` and
 * serve its rooms of session type sfu. Resolves once listening; the process then lives
 * until SIGTERM/SIGINT, which drain (clients get close 1001 and may reconnect elsewhere).
 */
export async function signalCommand(cfg: SignalCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
  let store: import('../signal/store.js').SignalStore | undefined;
  if (cfg.redis !== undefined) {
    const { RedisStore } = await import('../signal/redis-store.js');
    const ttl = cfg.redisMemberTtl;
    store = new RedisStore(
      ttl === undefined
        ? { url: cfg.redis }
        : { url: cfg.redis, memberTtlMs: ttl, heartbeatMs: Math.floor(ttl / 3) },
    );
  }
  const server = await startSignalServer(cfg.signal, log, store);
  log.info(
    {
      version: VERSION,
      ...server.address,
      store: server.store.kind,
      // Where SFUs link in to serve rooms of session type sfu (--sfu-secret), if anywhere.
      sfuLink: server.sfuLinks === undefined ? undefined : '/sfu',
    },
    'rtcd signal listening',
  );
  exitOnSignals(log, async (signal) => {
    log.info({ signal, drainTimeoutMs: server.options.drainTimeoutMs }, 'draining');
    await server.close();
  });
}
