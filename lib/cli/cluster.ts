import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger as PinoLogger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { TurnMetrics } from '../turn/metrics.js';
import type { TurnServerOptions } from '../turn/options.js';
import { resolveTurnOptions } from '../turn/resolve-options.js';
import { type OpsServer, startOpsServer } from '../util/ops-server.js';
import type { TurnCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { RestartBudget } from './restart-budget.js';
import { exitOnSignals, reloadOnSighup } from './signals.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';
import { workerExecArgv } from './worker-exec-argv.js';

/**
 * `rtcd turn --workers N`: a node:cluster primary forks N workers; each runs its own
 * TurnServer with `reusePort: true`, so the kernel spreads UDP 5-tuples (and TCP connections)
 * across them by hash. The hash changes whenever the group does (a worker starts late, dies,
 * is replaced), so each UDP client with an allocation also gets a socket connected to it in
 * its worker, which the kernel prefers to the group (lib/turn/udp-client-socket.ts); TCP and
 * TLS connections stay with the worker that accepted them.
 *
 * Workers run turn-worker-entry (found next to this module, so `main()` embedded in any script
 * or `node -e` forks rtcd's worker, not the embedding program again), with the primary's node
 * flags (`workerExecArgv`: --import tsx, say, and --max-semi-space-size=1 as the bin gives).
 * A worker asks for its configuration once it listens for it (cluster drops messages sent
 * before a worker's program adds its listener) and is sent the primary's resolved config and
 * the shared NONCE secret over IPC: nothing is read twice from flags, environment or a config
 * file, and no password or secret shows in a worker's argv or environment.
 *
 * Metrics: the primary alone serves `--metrics-listen`, answering each scrape with the sum of
 * all workers' registries through prom-client's AggregatorRegistry (an IPC round trip per
 * scrape). Serving from one worker would report a fraction of the traffic; one port per worker
 * would need N scrape targets. Workers never bind the metrics port.
 */

/** The worker program: turn-worker-entry.ts under tsx, .js once built (this module's own). */
const WORKER_ENTRY = fileURLToPath(
  new URL(`./turn-worker-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

const READY = 'rtcd:turn-ready';
/** Past the drain timeout, a worker that has not exited is killed. */
const KILL_GRACE_MS = 5000;

const HELLO = 'rtcd:turn-hello';
const START = 'rtcd:turn-start';

interface ReadyMessage {
  type: typeof READY;
  addresses: unknown;
}

/** A worker's first message: its program runs and listens for the start message. */
interface HelloMessage {
  type: typeof HELLO;
}

/** The primary's answer to hello: what to run. */
interface StartMessage {
  type: typeof START;
  cfg: TurnCliConfig;
  /** One NONCE secret for all workers (see runPrimary). */
  nonceSecret: string;
}

function typeOf(m: unknown): unknown {
  return typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
}

function isReady(m: unknown): m is ReadyMessage {
  return typeOf(m) === READY;
}

function isStart(m: unknown): m is StartMessage {
  const s = m as Partial<StartMessage>;
  return (
    typeOf(m) === START &&
    typeof s.cfg === 'object' &&
    s.cfg !== null &&
    typeof s.nonceSecret === 'string'
  );
}

export async function runPrimary(cfg: TurnCliConfig, log: PinoLogger): Promise<void> {
  // What every worker will construct, validated here first: an invalid option is a usage error
  // of this process (exit 2, the flag named), as without --workers, not N failing workers.
  const { metricsListen: _servedHere, ...workerOptions } = cfg.turn;
  resolveTurnOptions({ ...workerOptions, reusePort: true });
  // One NONCE secret for all workers: a client whose 401 came from one worker and whose
  // signed request reaches another (the reuseport group changed in between) is not sent a 438.
  const nonceSecret = randomBytes(32).toString('base64url');
  cluster.setupPrimary({
    exec: WORKER_ENTRY,
    args: [],
    execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
  });
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

  // Not dead yet. (cluster.workers keeps an exited worker until its IPC channel has closed
  // too, which may come after its 'exit': counting those, the last exit never ended a drain.)
  const live = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

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
    if (typeOf(message) === HELLO) {
      // A worker that died meanwhile: its 'exit' decides; the failed send must not throw here.
      worker.send({ type: START, cfg, nonceSecret } satisfies StartMessage, () => {});
      return;
    }
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
  const fork = () => {
    // Fork failures and sends to a worker that just died are logged; its 'exit' decides.
    cluster.fork().on('error', (err) => log.warn({ err }, 'turn worker process error'));
  };
  for (let i = 0; i < cfg.workers; i++) fork();
}

/** One worker: a TurnServer on the shared ports, reporting to the primary over IPC. */
export async function runWorker(cfg: TurnCliConfig, nonceSecret: string): Promise<void> {
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
  const options: TurnServerOptions = { ...rest, reusePort: true, nonceSecret };
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

/**
 * The body of turn-worker-entry: asks the primary for its start message, then runs the
 * worker. Started any other way (not a cluster worker) or failing to start, it says why on
 * stderr as the CLI does (`rtcd: cannot start: …`) and exits 1; the primary sees a worker that
 * exited before listening and stops.
 */
export function runTurnWorkerEntry(): void {
  const fail = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`rtcd: cannot start: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  };
  if (!cluster.isWorker || process.send === undefined) {
    fail(new Error('the TURN worker runs only under rtcd turn --workers (no cluster primary)'));
    return;
  }
  const onMessage = (m: unknown): void => {
    if (typeOf(m) !== START) return; // prom-client's metrics requests come this way too
    process.off('message', onMessage);
    if (!isStart(m)) fail(new Error('malformed start message from the primary'));
    else runWorker(m.cfg, m.nonceSecret).catch(fail);
  };
  process.on('message', onMessage);
  process.send({ type: HELLO } satisfies HelloMessage);
}
