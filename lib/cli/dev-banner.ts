import { restPassword } from '../turn/credentials.js';

export const DEV_HOST = '127.0.0.1';
export const DEV_USER = 'dev';
/** Lifetime of the example REST credential printed at start. */
const REST_EXAMPLE_SECONDS = 24 * 3600;

export interface DevBannerInput {
  udp: number;
  tcp: number;
  password: string;
  secret: string;
  nowMs: number;
  /** Port of the signaling server and web page, when it runs. */
  signalPort?: number;
  /** HTTP port of the SFU (WHIP/WHEP), when it runs. */
  sfuPort?: number;
  /** The signaling server's sfu rooms are served by the SFU in this process. */
  sfuRooms?: boolean;
  /** The web client is not built (no dist/web): say how to build it. */
  pageMissing?: boolean;
}

/** The page URL `rtcd dev` prints: open it in two tabs to make a call. */
export function devPageUrl(signalPort: number, room = 'dev'): string {
  return `http://${DEV_HOST}:${signalPort}/?room=${room}`;
}

/** The block printed at start: URLs, credentials and a paste-ready RTCIceServer. */
export function devBanner(o: DevBannerInput): string {
  const urls = [
    `turn:${DEV_HOST}:${o.udp}?transport=udp`,
    `turn:${DEV_HOST}:${o.tcp}?transport=tcp`,
  ];
  const iceServer = {
    urls: [`stun:${DEV_HOST}:${o.udp}`, ...urls],
    username: DEV_USER,
    credential: o.password,
  };
  const restUser = `${Math.floor(o.nowMs / 1000) + REST_EXAMPLE_SECONDS}:${DEV_USER}`;
  const json = JSON.stringify(iceServer, null, 2).replace(/\n/g, '\n  ');
  const signal =
    o.signalPort === undefined
      ? []
      : [
          `  Open         ${devPageUrl(o.signalPort)}   (in two tabs to call yourself)`,
          `  Signaling    ws://${DEV_HOST}:${o.signalPort}/ws   (no auth; TURN credentials in joined)`,
          ...(o.sfuRooms
            ? [
                `  SFU room     ${devPageUrl(o.signalPort)}&mode=sfu   (multi-party: rooms of type sfu, served by the SFU here)`,
              ]
            : []),
          ...(o.pageMissing
            ? ['  (the web client is not built: run npm run build:web, then restart)']
            : []),
          '',
        ];
  const sfu =
    o.sfuPort === undefined
      ? []
      : [
          `  WHIP         http://${DEV_HOST}:${o.sfuPort}/whip/ROOM   (POST an SDP offer: publish)`,
          `  WHEP         http://${DEV_HOST}:${o.sfuPort}/whep/ROOM   (POST an SDP offer: view)`,
          `  SFU metrics  http://${DEV_HOST}:${o.sfuPort}/metrics   (Prometheus text: sessions, packets, drops)`,
          '',
        ];
  return [
    '',
    'rtcd dev — local development only (loopback peers allowed, secrets new each start)',
    '',
    ...signal,
    ...sfu,
    `  STUN         stun:${DEV_HOST}:${o.udp}`,
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
