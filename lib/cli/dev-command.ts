import { randomBytes } from 'node:crypto';
import { SfuRoomService } from '../sfu/room-service.js';
import type { SignalServer } from '../signal/server.js';
import type { TurnServerOptions } from '../turn/options.js';
import type { DevCliConfig } from './config.js';
import { DEV_HOST, DEV_USER, devBanner, devPageUrl } from './dev-banner.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { type StartedSfu, startSfuServer } from './start-sfu.js';
import { startSignalServer } from './start-signal.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';

/**
 * `rtcd dev`: every role on localhost with generated secrets, the one-command start: TURN
 * (UDP and TCP on one port) with a static user, a REST secret and loopback peers allowed, and
 * the signaling server without auth, minting TURN credentials with that same secret and
 * serving the web page; and the SFU (WHIP/WHEP on --sfu-port, media on any free UDP port),
 * which also serves the signaling server's rooms of session type sfu in-process (the page's
 * `&mode=sfu`): no link, no secret.
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
  const turn = await inUse(startTurnServer(options, log, undefined), cfg.port, '--port');
  const udp = turn.addresses.udp[0]?.port ?? cfg.port;
  const tcp = turn.addresses.tcp[0]?.port ?? cfg.port;
  let sfu: StartedSfu;
  try {
    sfu = await inUse(
      startSfuServer({ host: DEV_HOST, port: cfg.sfuPort, udpAddress: DEV_HOST, udpPort: 0 }, log),
      cfg.sfuPort,
      '--sfu-port',
    );
  } catch (err) {
    await closeTurnServer(turn, options);
    throw err;
  }
  const rooms = new SfuRoomService(sfu.server, { logger: log });
  let signal: SignalServer;
  try {
    signal = await inUse(
      startSignalServer(
        {
          listen: { host: DEV_HOST, port: cfg.signalPort },
          noAuth: true,
          turnSecret: secret,
          turnUrls: [
            `stun:${DEV_HOST}:${udp}`,
            `turn:${DEV_HOST}:${udp}?transport=udp`,
            `turn:${DEV_HOST}:${tcp}?transport=tcp`,
          ],
          drainTimeoutMs: 1000,
          roomService: rooms,
        },
        log,
      ),
      cfg.signalPort,
      '--signal-port',
    );
  } catch (err) {
    rooms.close();
    await sfu.server.close();
    await closeTurnServer(turn, options);
    throw err;
  }
  const signalPort = signal.address?.port ?? cfg.signalPort;
  const sfuPort = sfu.port;
  process.stdout.write(
    devBanner({
      udp,
      tcp,
      password,
      secret,
      nowMs: Date.now(),
      signalPort,
      sfuPort,
      sfuRooms: true,
    }),
  );
  log.info(
    {
      ...turn.addresses,
      signal: signal.address,
      sfu: { url: sfu.url, udpPort: sfu.udpPort, rooms: `${devPageUrl(signalPort)}&mode=sfu` },
      open: devPageUrl(signalPort),
    },
    'rtcd dev listening',
  );
  exitOnSignals(log, async () => {
    // The signal server first: its peers leave the room service, then the SFU ends.
    await signal.close();
    rooms.close();
    await sfu.server.close();
    await closeTurnServer(turn, options);
  });
}

/** A busy port becomes one line naming the flag that moves it. */
async function inUse<T>(start: Promise<T>, port: number, flag: string): Promise<T> {
  try {
    return await start;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `${DEV_HOST}:${port} is already in use (another server?); pick a port with ${flag}`,
      );
    }
    throw err;
  }
}
