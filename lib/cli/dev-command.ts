import { randomBytes } from 'node:crypto';
import type { TurnServerOptions } from '../turn/options.js';
import type { DevCliConfig } from './config.js';
import { DEV_HOST, DEV_USER, devBanner } from './dev-banner.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';

/**
 * `rtcd dev`: every role on localhost with generated secrets, the one-command start. For now
 * that is TURN (UDP and TCP on one port) with a static user, a REST secret and loopback peers
 * allowed, so two local peers can relay to each other; signaling and SFU join later.
 */
export async function devCommand(cfg: DevCliConfig): Promise<void> {
  const log = createCliLogger({ level: cfg.logLevel });
  const password = randomBytes(12).toString('base64url');
  const secret = randomBytes(24).toString('base64url');
  const options: TurnServerOptions = {
    listen: [{ host: DEV_HOST, port: cfg.port }],
    relayIps: [DEV_HOST],
    users: { [DEV_USER]: password },
    authSecrets: [secret],
    allowLoopbackPeers: true,
    drainTimeoutMs: 0,
  };
  let server: Awaited<ReturnType<typeof startTurnServer>>;
  try {
    server = await startTurnServer(options, log, undefined);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `${DEV_HOST}:${cfg.port} is already in use (another TURN server?); pick a port with --port`,
      );
    }
    throw err;
  }
  const udp = server.addresses.udp[0]?.port ?? cfg.port;
  const tcp = server.addresses.tcp[0]?.port ?? cfg.port;
  process.stdout.write(devBanner({ udp, tcp, password, secret, nowMs: Date.now() }));
  log.info({ ...server.addresses }, 'rtcd dev listening');
  exitOnSignals(log, () => closeTurnServer(server, options));
}
