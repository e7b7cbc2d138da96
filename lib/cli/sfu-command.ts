import { SfuRoomService } from '../sfu/room-service.js';
import { connectRoomService } from '../signal/room-service-link.js';
import { VERSION } from '../version.js';
import type { SfuCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { startSfuServer } from './start-sfu.js';

/**
 * `rtcd sfu`: one SfuServer in this process — WHIP publish and WHEP view over HTTP, all media
 * on one ICE-lite UDP port — and, with `--signal-url`, the rooms of session type sfu of those
 * rtcd signal nodes, over links kept up with reconnects. Resolves once listening (the link
 * comes up in the background); SIGTERM/SIGINT close the link, end every session and exit 0.
 */
export async function sfuCommand(cfg: SfuCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
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
