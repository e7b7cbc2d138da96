import { availableParallelism } from 'node:os';
import { SfuRoomService } from '../sfu/room-service.js';
import { connectRoomService } from '../signal/room-service-link.js';
import { VERSION } from '../version.js';
import { CliUsageError, type SfuCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { runSfuPrimary } from './sfu-workers.js';
import { exitOnSignals } from './signals.js';
import { startSfuServer } from './start-sfu.js';

/**
 * `rtcd sfu`: one SfuServer in this process, or with `--workers N` (N > 1) a front process and
 * N worker processes holding whole rooms each (sfu-workers.ts) — WHIP publish and WHEP view over HTTP, all media
 * on one ICE-lite UDP port — and, with `--signal-url`, the rooms of session type sfu of those
 * rtcd signal nodes, over links kept up with reconnects. Resolves once listening (the link
 * comes up in the background); SIGTERM/SIGINT close the link, end every session and exit 0.
 */
export async function sfuCommand(cfg: SfuCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
  const workers = cfg.workers === 0 ? availableParallelism() : (cfg.workers ?? 1);
  if (workers > 1) {
    const last = (cfg.sfu.udpPort ?? 0) + workers - 1;
    if (cfg.sfu.udpPort !== 0 && last > 65535) {
      throw new CliUsageError(
        `invalid --workers "auto": --udp-port ${cfg.sfu.udpPort} + ${workers} workers passes 65535`,
      );
    }
    return runSfuPrimary(cfg, log, workers);
  }
  const { server, url, port, udpPort } = await startSfuServer(cfg.sfu, log);
  const rooms =
    cfg.signalLink === undefined ? undefined : new SfuRoomService(server, { logger: log });
  // One link per signal node; the service is shared (a peer belongs to the link that joined it).
  const links =
    cfg.signalLink === undefined || rooms === undefined
      ? []
      : cfg.signalLink.urls.map((url) =>
          connectRoomService(url, cfg.signalLink!.secret, rooms, { logger: log }),
        );
  log.info(
    {
      version: VERSION,
      url,
      port,
      udp: { address: cfg.sfu.udpAddress, port: udpPort },
      announced: cfg.sfu.announcedAddress ?? cfg.sfu.udpAddress,
      whip: `${url}/whip/{room}`,
      whep: `${url}/whep/{room}`,
      metrics: cfg.sfu.metrics === false ? undefined : `${url}/metrics`,
      signal: cfg.signalLink?.urls,
    },
    'rtcd sfu listening',
  );
  exitOnSignals(log, async (signal) => {
    log.info({ signal, sessions: server.resources.size }, 'closing');
    await Promise.all(links.map((l) => l.close()));
    rooms?.close();
    await server.close();
  });
}
