import { VERSION } from '../version.js';
import type { SfuCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { startSfuServer } from './start-sfu.js';

/**
 * `rtcd sfu`: one SfuServer in this process — WHIP publish and WHEP view over HTTP, all media
 * on one ICE-lite UDP port. Resolves once listening; SIGTERM/SIGINT end every session and
 * exit 0.
 */
export async function sfuCommand(cfg: SfuCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
  const { server, url, port, udpPort } = await startSfuServer(cfg.sfu, log);
  log.info(
    {
      version: VERSION,
      url,
      port,
      udp: { address: cfg.sfu.udpAddress, port: udpPort },
      announced: cfg.sfu.announcedAddress ?? cfg.sfu.udpAddress,
      whip: `${url}/whip/{room}`,
      whep: `${url}/whep/{room}`,
    },
    'rtcd sfu listening',
  );
  exitOnSignals(log, async (signal) => {
    log.info({ signal, sessions: server.resources.size }, 'closing');
    await server.close();
  });
}
