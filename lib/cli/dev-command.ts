import { randomBytes } from 'node:crypto';
import { restPassword } from '../turn/credentials.js';
import type { TurnServerOptions } from '../turn/options.js';
import type { DevCliConfig } from './config.js';
import { createCliLogger } from './logger.js';
import { exitOnSignals } from './signals.js';
import { closeTurnServer, startTurnServer } from './start-turn.js';

const HOST = '127.0.0.1';
const DEV_USER = 'dev';
/** Lifetime of the example REST credential printed at start. */
const REST_EXAMPLE_SECONDS = 24 * 3600;

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
    listen: [{ host: HOST, port: cfg.port }],
    relayIps: [HOST],
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
        `${HOST}:${cfg.port} is already in use (another TURN server?); pick a port with --port`,
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

export interface DevBannerInput {
  udp: number;
  tcp: number;
  password: string;
  secret: string;
  nowMs: number;
}

/** The block printed at start: URLs, credentials and a paste-ready RTCIceServer. */
export function devBanner(o: DevBannerInput): string {
  const urls = [`turn:${HOST}:${o.udp}?transport=udp`, `turn:${HOST}:${o.tcp}?transport=tcp`];
  const iceServer = {
    urls: [`stun:${HOST}:${o.udp}`, ...urls],
    username: DEV_USER,
    credential: o.password,
  };
  const restUser = `${Math.floor(o.nowMs / 1000) + REST_EXAMPLE_SECONDS}:${DEV_USER}`;
  const json = JSON.stringify(iceServer, null, 2).replace(/\n/g, '\n  ');
  return [
    '',
    'rtcd dev — local development only (loopback peers allowed, secrets new each start)',
    '',
    `  STUN         stun:${HOST}:${o.udp}`,
    `  TURN         ${urls[0]}`,
    `               ${urls[1]}`,
    `  username     ${DEV_USER}`,
    `  password     ${o.password}`,
    `  REST secret  ${o.secret}`,
    `  REST example username ${restUser}`,
    `               password ${restPassword(o.secret, restUser)}  (valid 24 h)`,
    '',
    '  RTCIceServer:',
    `  ${json}`,
    '',
    'Stop with Ctrl-C.',
    '',
    '',
  ].join('\n');
}
