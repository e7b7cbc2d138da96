import { type ChildProcess, fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger as PinoLogger } from 'pino';
import { SfuRoomService } from '../sfu/room-service.js';
import type { SfuServerOptions } from '../sfu/sfu-server.js';
import { type MetricsJson, SfuWorkerFront } from '../sfu/worker-front.js';
import type { WorkerRoomCall } from '../sfu/worker-rooms.js';
import type { SfuServerMessage } from '../signal/room-service.js';
import { connectRoomService, type RoomServiceLink } from '../signal/room-service-link.js';
import { VERSION } from '../version.js';
import type { SfuCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { RestartBudget } from './restart-budget.js';
import { exitOnSignals } from './signals.js';
import { startSfuServer } from './start-sfu.js';
import { workerExecArgv } from './worker-exec-argv.js';

/**
 * `rtcd sfu --workers N`: this process (the primary) owns the public HTTP port and runs an
 * `SfuWorkerFront`; it forks N workers, each an `SfuServer` with its own media UDP port
 * (`--udp-port` + its slot, or each an ephemeral one with 0) and an internal HTTP listener on
 * 127.0.0.1 to which the front proxies the rooms it placed there.
 *
 * `child_process.fork`, not node:cluster: cluster shares listening handles through the
 * primary, so every worker's `listen(0)` (internal HTTP) and ephemeral UDP port would be the
 * same shared socket; forked processes bind what they bind, exclusively. Workers run
 * sfu-worker-entry (found next to this module, so `main()` embedded in any script forks the
 * right program, from the sources under tsx or from the built package) and are sent their
 * slot and the primary's resolved configuration as their first IPC message: nothing is read
 * twice from flags, environment or a config file, and the signal secret never shows in argv.
 * They run with the primary's node flags (`workerExecArgv`: --import tsx, say) plus
 * --max-semi-space-size=1 when the primary lacks it, since workers forward the media.
 *
 * With `--signal-url` the primary holds the links (one SFU to the signal nodes) with the
 * front's `WorkerRoomService`, which places each room's peers with the WHIP/WHEP rooms and
 * counts them as sessions; each call goes to the worker's `SfuRoomService` over IPC.
 *
 * IPC: a worker says `ready` (its loopback HTTP port and UDP port), `ended` for each WHIP/WHEP
 * session that ends (the front's room map), `room` when its router opens or closes a room,
 * `peer` for what its room service says to a room peer, and answers `metrics` requests with its
 * registry as JSON (the primary's `/metrics` sums them); the primary sends `start` first, then
 * room-service `call`s and `metrics` requests. A worker that dies is replaced on the same
 * slot (its rooms are gone; clients reconnect); more than five deaths a minute stop the
 * server with exit 1, as `rtcd turn --workers` does.
 */

/** The worker program: sfu-worker-entry.ts under tsx, .js once built (this module's own). */
const WORKER_ENTRY = fileURLToPath(
  new URL(`./sfu-worker-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/** Past this, a worker that has not exited after SIGTERM is killed. */
const KILL_AFTER_MS = 10_000;
/** A worker that does not answer a metrics request by then is left out of the scrape. */
const METRICS_TIMEOUT_MS = 2000;

/** The primary's first message to a worker: who it is and what to run. */
interface StartMessage {
  type: 'rtcd:sfu-start';
  slot: number;
  cfg: SfuCliConfig;
}

/** A room-service call from the front's `WorkerRoomService` (the signal links end there). */
interface CallMessage {
  type: 'rtcd:sfu-call';
  call: WorkerRoomCall;
}

type WorkerMessage =
  | { type: 'rtcd:sfu-ready'; httpPort: number; udpPort: number }
  | { type: 'rtcd:sfu-peer'; peerId: string; message: SfuServerMessage }
  | { type: 'rtcd:sfu-ended'; resource: string }
  | { type: 'rtcd:sfu-room'; room: string; open: boolean }
  | { type: 'rtcd:sfu-metrics'; id: number; metrics: MetricsJson };

function isWorkerMessage(m: unknown): m is WorkerMessage {
  const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return (
    type === 'rtcd:sfu-ready' ||
    type === 'rtcd:sfu-ended' ||
    type === 'rtcd:sfu-peer' ||
    type === 'rtcd:sfu-room' ||
    type === 'rtcd:sfu-metrics'
  );
}

/** Moved to worker-exec-argv.ts (shared with `rtcd turn --workers`); kept importable here. */
export { workerExecArgv };

interface Slot {
  child: ChildProcess;
  ready: boolean;
  udpPort?: number;
}

export async function runSfuPrimary(
  cfg: SfuCliConfig,
  log: PinoLogger,
  count: number,
): Promise<void> {
  const slots: Slot[] = [];
  const execArgv = workerExecArgv(process.execArgv, process.env.NODE_OPTIONS);
  const metricWaiters = new Map<number, (m: MetricsJson | undefined) => void>();
  let nextMetricsId = 1;
  const askMetrics = (s: Slot): Promise<MetricsJson | undefined> =>
    new Promise((resolve) => {
      const id = nextMetricsId++;
      const timer = setTimeout(() => {
        metricWaiters.delete(id);
        resolve(undefined);
      }, METRICS_TIMEOUT_MS);
      metricWaiters.set(id, (m) => {
        clearTimeout(timer);
        metricWaiters.delete(id);
        resolve(m);
      });
      if (!s.child.connected) metricWaiters.get(id)?.(undefined);
      else {
        // A worker that dies between the check and the write: its send fails, not the primary.
        s.child.send({ type: 'rtcd:sfu-metrics', id }, (err) => {
          if (err) metricWaiters.get(id)?.(undefined);
        });
      }
    });
  const { sfu } = cfg;
  const front = new SfuWorkerFront({
    host: sfu.host,
    port: sfu.port,
    maxSessions: sfu.maxSessions,
    requestsPerSecond: sfu.requestsPerSecond,
    requestBurst: sfu.requestBurst,
    requestTimeoutMs: sfu.requestTimeoutMs,
    maxConnections: sfu.maxConnections,
    metrics: sfu.metrics,
    logger: log,
    workerMetrics: async () => {
      const all = await Promise.all(slots.filter((s) => s.ready).map(askMetrics));
      return all.filter((m) => m !== undefined);
    },
    sendToWorker: (slot, call) => {
      const child = slots[slot]?.child;
      // Gone meanwhile: its 'exit' tells the front, which tells the peers.
      if (child?.connected) {
        child.send({ type: 'rtcd:sfu-call', call } satisfies CallMessage, () => {});
      }
    },
  });
  // The public port first: a busy one fails the start before any worker runs.
  const { url, port } = await front.listen();

  let draining = false;
  let started = false;
  const restarts = new RestartBudget();
  let failStart: ((err: Error) => void) | undefined;
  let allReady: (() => void) | undefined;
  let allExited: (() => void) | undefined;
  const live = () => slots.filter((s) => s.child.exitCode === null && s.child.signalCode === null);

  // One link per signal node, from here once the workers are up: the whole server is one SFU
  // to the signal nodes, and the front places their rooms' peers with the WHIP/WHEP rooms.
  let links: RoomServiceLink[] = [];

  const shutdown = async (code: number): Promise<void> => {
    draining = true;
    front.drain();
    await Promise.all(links.map((l) => l.close()));
    for (const s of live()) s.child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const s of live()) s.child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    if (live().length > 0) await new Promise<void>((resolve) => (allExited = resolve));
    clearTimeout(killer);
    await front.close();
    if (code !== 0) process.exit(code);
  };

  const start = (slot: number): void => {
    const child = fork(WORKER_ENTRY, [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.send({ type: 'rtcd:sfu-start', slot, cfg } satisfies StartMessage, () => {});
    const s: Slot = { child, ready: false };
    slots[slot] = s;
    // IPC errors (a send to a worker that just died, a failed fork) are logged; its 'exit'
    // decides what happens next. Without a listener they would crash the primary.
    child.on('error', (err) => log.warn({ err, worker: slot }, 'worker process error'));
    child.on('message', (m: unknown) => {
      if (!isWorkerMessage(m) || slots[slot] !== s) return;
      if (m.type === 'rtcd:sfu-ended') front.sessionEnded(slot, m.resource);
      else if (m.type === 'rtcd:sfu-peer') front.peerMessage(slot, m.peerId, m.message);
      else if (m.type === 'rtcd:sfu-room') front.roomOpened(slot, m.room, m.open);
      else if (m.type === 'rtcd:sfu-metrics') metricWaiters.get(m.id)?.(m.metrics);
      else {
        s.ready = true;
        s.udpPort = m.udpPort;
        front.setWorker(slot, m.httpPort);
        log.info({ worker: slot, workerPid: child.pid, udpPort: m.udpPort }, 'worker listening');
        if (slots.every((x) => x.ready)) allReady?.();
      }
    });
    child.on('exit', (code, signal) => {
      if (slots[slot] === s) front.setWorker(slot, undefined);
      if (draining) {
        if (live().length === 0) allExited?.();
        return;
      }
      if (!s.ready) {
        failStart?.(new Error(`SFU worker ${slot} exited (${signal ?? code}) before listening`));
        if (started) {
          log.error({ worker: slot, code, signal }, 'worker failed to start; stopping');
          void shutdown(1);
        }
        return;
      }
      if (!restarts.allow(Date.now())) {
        log.error({ worker: slot, code, signal }, 'workers keep dying; stopping');
        void shutdown(1);
        return;
      }
      log.error({ worker: slot, code, signal }, 'worker died; starting a new one');
      start(slot);
    });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      allReady = resolve;
      failStart = reject;
      for (let slot = 0; slot < count; slot++) start(slot);
    });
  } catch (err) {
    await shutdown(0);
    throw err;
  }
  started = true;
  failStart = undefined;
  allReady = undefined;
  const link = cfg.signalLink;
  if (link !== undefined) {
    links = link.urls.map((u) => connectRoomService(u, link.secret, front.rooms, { logger: log }));
  }

  const ports = slots.map((s) => s.udpPort);
  log.info(
    {
      version: VERSION,
      url,
      port,
      workers: count,
      udp: { address: sfu.udpAddress, port: ports[0], ports },
      announced: sfu.announcedAddress ?? sfu.udpAddress,
      whip: `${url}/whip/{room}`,
      whep: `${url}/whep/{room}`,
      metrics: sfu.metrics === false ? undefined : `${url}/metrics`,
      healthz: `${url}/healthz`,
      signal: cfg.signalLink?.urls,
    },
    'rtcd sfu listening',
  );
  exitOnSignals(log, async (signal) => {
    log.info({ signal, workers: live().length }, 'draining workers');
    await shutdown(0);
  });
}

/**
 * One worker: an `SfuServer` on loopback HTTP (no per-address limits: every request comes
 * from the primary, which applied them) and its own UDP port, and with `--signal-url` an
 * `SfuRoomService` for the room peers the primary places here.
 */
export async function runSfuWorker(cfg: SfuCliConfig, slot: number): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel, bindings: { worker: slot } });
  const base = cfg.sfu.udpPort ?? 0;
  const send = (m: WorkerMessage): void => {
    if (process.connected) process.send?.(m);
  };
  const options: SfuServerOptions = {
    ...cfg.sfu,
    host: '127.0.0.1',
    port: 0,
    udpPort: base === 0 ? 0 : base + slot,
    requestsPerSecond: 1_000_000,
    requestBurst: 1_000_000,
    maxConnections: 1_000_000,
    onSessionEnded: (resource) => send({ type: 'rtcd:sfu-ended', resource }),
  };
  const { server, port, udpPort } = await startSfuServer(options, log, { advise: false });
  // Every room the router opens: while it is open, the front places requests of its name here.
  server.router.on('room', (room) => {
    send({ type: 'rtcd:sfu-room', room: room.id, open: true });
    room.on('close', () => send({ type: 'rtcd:sfu-room', room: room.id, open: false }));
  });
  // The primary holds the signal links; the peers it places here arrive as calls.
  const rooms =
    cfg.signalLink === undefined ? undefined : new SfuRoomService(server, { logger: log });
  rooms?.attach((peerId, message) => send({ type: 'rtcd:sfu-peer', peerId, message }));
  process.on('message', (m: unknown) => {
    const ask = m as { type?: unknown; id?: unknown; call?: WorkerRoomCall };
    if (ask?.type === 'rtcd:sfu-call' && ask.call !== undefined) {
      const c = ask.call;
      if (c.op === 'join') rooms?.join(c.room, c.peerId);
      else if (c.op === 'message') rooms?.message(c.room, c.peerId, c.message);
      else rooms?.leave(c.room, c.peerId);
      return;
    }
    if (ask?.type !== 'rtcd:sfu-metrics' || typeof ask.id !== 'number') return;
    const id = ask.id;
    server.registry.getMetricsAsJSON().then(
      (metrics) => send({ type: 'rtcd:sfu-metrics', id, metrics }),
      (err: unknown) => log.warn({ err }, 'sfu worker metrics failed'),
    );
  });
  const stop = async (): Promise<void> => {
    rooms?.close();
    await server.close();
  };
  send({ type: 'rtcd:sfu-ready', httpPort: port, udpPort });
  exitOnSignals(
    log,
    async (signal) => {
      log.info({ signal, sessions: server.resources.size }, 'closing');
      await stop();
    },
    { ignoreSigint: true },
  );
  // The primary is gone (killed hard): nobody routes requests here any more.
  process.on('disconnect', () => {
    log.error({}, 'lost the sfu primary; closing');
    stop().finally(() => process.exit(1));
  });
}

function isStartMessage(m: unknown): m is StartMessage {
  if (typeof m !== 'object' || m === null) return false;
  const s = m as Partial<StartMessage>;
  return (
    s.type === 'rtcd:sfu-start' &&
    Number.isInteger(s.slot) &&
    typeof s.cfg === 'object' &&
    s.cfg !== null
  );
}

/**
 * The body of sfu-worker-entry: waits for the primary's start message, then runs the worker.
 * Started any other way (no IPC channel) or failing to start, it says why on stderr as the
 * CLI does and exits 1; the primary sees a worker that exited before listening.
 */
export function runSfuWorkerEntry(): void {
  const fail = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`rtcd: cannot start the SFU worker: ${message.replace(/\s+/g, ' ')}\n`);
    process.exit(1);
  };
  if (process.send === undefined) {
    fail(new Error('not forked by rtcd sfu --workers (no IPC channel)'));
    return;
  }
  process.once('message', (m: unknown) => {
    if (!isStartMessage(m)) fail(new Error('the first message was not a start message'));
    else runSfuWorker(m.cfg, m.slot).catch(fail);
  });
}
