import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger as PinoLogger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { TurnMetrics } from '../turn/metrics.js';
import type { TurnServerOptions } from '../turn/options.js';
import { type OpsServer, startOpsServer } from '../util/ops-server.js';
import type { TurnCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { RestartBudget } from './restart-budget.js';
import { exitOnSignals, reloadOnSighup } from './signals.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';

/** How the primary hands its workers their shared NONCE secret (never read from users). */
const NONCE_SECRET_ENV = 'RTCD_CLUSTER_NONCE_SECRET';

/**
 * `rtcd turn --workers N`: a node:cluster primary forks N workers; each runs its own
 * TurnServer with `reusePort: true`, so the kernel spreads UDP 5-tuples (and TCP connections)
 * across them by hash. The hash changes whenever the group does (a worker starts late, dies,
 * is replaced), so each UDP client with an allocation also gets a socket connected to it in
 * its worker, which the kernel prefers to the group (lib/turn/udp-client-socket.ts); TCP and
 * TLS connections stay with the worker that accepted them.
 *
 * Workers re-run the same command line (cluster's default `exec`/`args`/`execArgv`), so they
 * resolve the same flags, environment and config file; `cluster.isWorker` sends them here.
 *
 * Metrics: the primary alone serves `--metrics-listen`, answering each scrape with the sum of
 * all workers' registries through prom-client's AggregatorRegistry (an IPC round trip per
 * scrape). Serving from one worker would report a fraction of the traffic; one port per worker
 * would need N scrape targets. Workers never bind the metrics port.
 */

const READY = 'rtcd:turn-ready';
/** Past the drain timeout, a worker that has not exited is killed. */
const KILL_GRACE_MS = 5000;

interface ReadyMessage {
  type: typeof READY;
  addresses: unknown;
}

function isReady(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === READY;
}

export async function runPrimary(cfg: TurnCliConfig, log: PinoLogger): Promise<void> {
  const aggregator = new AggregatorRegistry();
  let draining = false;
  let ops: OpsServer | undefined;
  if (cfg.turn.metricsListen) {
    ops = await startOpsServer({
      ...cfg.turn.metricsListen,
      registry: { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
      healthy: () => !draining,
    });
  }
  const ready = new Set<number>();
  const restarts = new RestartBudget();
  let onAllExited: (() => void) | undefined;

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);

  const shutdown = async (code: number): Promise<void> => {
    draining = true;
    for (const w of live()) w.process.kill('SIGTERM');
    const drainMs = cfg.turn.drainTimeoutMs ?? 30000;
    const killer = setTimeout(() => {
      for (const w of live()) w.process.kill('SIGKILL');
    }, drainMs + KILL_GRACE_MS);
    if (live().length > 0) await new Promise<void>((resolve) => (onAllExited = resolve));
    clearTimeout(killer);
    await ops?.close();
    if (code !== 0) process.exit(code);
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isReady(message)) return;
    ready.add(worker.id);
    log.info(
      { worker: worker.id, workerPid: worker.process.pid, addresses: message.addresses },
      'worker listening',
    );
    if (ready.size === cfg.workers) {
      log.info({ workers: cfg.workers, metrics: ops?.address }, 'rtcd turn listening');
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (draining) {
      if (live().length === 0) onAllExited?.();
      return;
    }
    if (!ready.has(worker.id)) {
      log.error({ worker: worker.id, code, signal }, 'worker failed to start; stopping');
      void shutdown(1);
      return;
    }
    if (!restarts.allow(Date.now())) {
      log.error({ worker: worker.id, code, signal }, 'workers keep dying; stopping');
      void shutdown(1);
      return;
    }
    log.error({ worker: worker.id, code, signal }, 'worker died; starting a new one');
    fork();
  });

  exitOnSignals(log, async (signal) => {
    log.info({ signal, workers: live().length }, 'draining workers');
    await shutdown(0);
  });
  process.on('SIGHUP', () => {
    for (const w of live()) w.process.kill('SIGHUP');
  });
  // One NONCE secret for all workers: a client whose 401 came from one worker and whose
  // signed request reaches another (the reuseport group changed in between) is not sent a 438.
  const env = { [NONCE_SECRET_ENV]: randomBytes(32).toString('base64url') };
  const fork = () => cluster.fork(env);
  for (let i = 0; i < cfg.workers; i++) fork();
}

export async function runWorker(cfg: TurnCliConfig): Promise<void> {
  const id = cluster.worker?.id ?? 0;
  const log = createCliLogger({ level: cfg.logLevel, bindings: { worker: id } });
  let metrics: TurnMetrics | undefined;
  if (cfg.turn.metricsListen) {
    metrics = new TurnMetrics(undefined, { collectDefaultMetrics: true });
    // The primary asks every worker for these over IPC (constructing one adds the listener).
    AggregatorRegistry.setRegistries([metrics.registry]);
    new AggregatorRegistry();
  }
  const { metricsListen: _servedByPrimary, ...rest } = cfg.turn;
  const nonceSecret = process.env[NONCE_SECRET_ENV];
  const options: TurnServerOptions = {
    ...rest,
    reusePort: true,
    ...(nonceSecret ? { nonceSecret } : {}),
  };
  const server = await startTurnServer(options, log, metrics);
  process.send?.({ type: READY, addresses: server.addresses } satisfies ReadyMessage);
  exitOnSignals(log, () => closeTurnServer(server, options), { ignoreSigint: true });
  reloadOnSighup(log, () => server.reloadTls());
  // The primary is gone (killed hard): nobody will forward signals or serve metrics any more.
  process.on('disconnect', () => {
    log.error({}, 'lost the cluster primary; closing');
    server.close({ drainTimeoutMs: 0 }).finally(() => process.exit(1));
  });
}
