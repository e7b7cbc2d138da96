import type { PasswordAlgorithm } from '../turn/credentials.js';
import * as v from './values.js';

/**
 * One CLI option. Its key (camelCase, e.g. `maxPort`) names it everywhere else: the flag is the
 * key in kebab-case (`--max-port`), the environment variable `RTCD_` + UPPER_SNAKE
 * (`RTCD_MAX_PORT`), and the config-file key is the key itself.
 */
export interface OptionSpec<T = unknown, R extends boolean = boolean> {
  /** Placeholder shown in help, e.g. `<port>`; none for a boolean switch. */
  arg?: string;
  help: string;
  /** May be given several times (flags), comma-separated (env), or a JSON array (file). */
  repeatable: R;
  parse: v.ValueParser<T>;
  /** A switch without argument; `--no-<flag>` turns it off again. */
  switch?: boolean;
}

export type SpecValue<S> =
  S extends OptionSpec<infer T, infer R> ? (R extends true ? T[] : T) : never;
export type Resolved<S extends Record<string, OptionSpec>> = { [K in keyof S]?: SpecValue<S[K]> };

export function one<T>(arg: string, help: string, parse: v.ValueParser<T>): OptionSpec<T, false> {
  return { arg, help, repeatable: false, parse };
}

export function many<T>(arg: string, help: string, parse: v.ValueParser<T>): OptionSpec<T, true> {
  return { arg, help, repeatable: true, parse };
}

export function flag(help: string): OptionSpec<boolean, false> {
  return { help, repeatable: false, parse: v.boolean, switch: true };
}

/** `maxPort` → `max-port`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `maxPort` → `RTCD_MAX_PORT`. */
export function envName(key: string): string {
  return `RTCD_${kebab(key).replace(/-/g, '_').toUpperCase()}`;
}

/** A PASSWORD-ALGORITHM name (RFC 8489 §18.5), for `TurnServerOptions.passwordAlgorithms`. */
const passwordAlgorithm: v.ValueParser<PasswordAlgorithm> = (raw) => {
  if (raw === 'md5' || raw === 'sha256') return raw;
  throw new v.ValueError('must be md5 or sha256');
};

/** `--workers` of `rtcd sfu`: a count, or `auto` (= 0: one per CPU). */
const sfuWorkers: v.ValueParser<number> = (raw) => {
  if (raw === 'auto') return 0;
  try {
    return v.integer(0, 256)(raw);
  } catch {
    throw new v.ValueError('must be an integer 0-256 or auto (0 and auto: one per CPU)');
  }
};

/** Options of every command (given before or after the command name). */
export const globalOptions = {
  config: one(
    '<file>',
    'JSON config file, keyed by long option in camelCase (see rtcd turn --help)',
    v.nonEmpty,
  ),
  logLevel: one('<level>', `log level: ${v.LOG_LEVELS.join(', ')} (default info)`, v.logLevel),
} satisfies Record<string, OptionSpec>;

/** Options of `rtcd turn`: each maps onto one `TurnServerOptions` field (lib/turn/options.ts). */
export const turnOptions = {
  listen: many(
    '<host:port>',
    'UDP+TCP listener, repeatable; IPv6 as [::]:3478 (default 0.0.0.0:3478)',
    v.hostPort({ allowZero: true }),
  ),
  tlsListen: many(
    '<host:port>',
    'TLS listener, repeatable; needs --cert and --key',
    v.hostPort({ allowZero: true }),
  ),
  cert: one('<file>', 'PEM certificate chain for --tls-listen (re-read on SIGHUP)', v.nonEmpty),
  key: one('<file>', 'PEM private key for --tls-listen (re-read on SIGHUP)', v.nonEmpty),
  realm: one('<realm>', 'REALM of long-term credentials (default rtcd)', v.nonEmpty),
  user: many('<name:pass>', 'static long-term user, repeatable', v.user),
  usersFile: one('<file>', 'file of name:password lines (# comments)', v.nonEmpty),
  authSecret: many(
    '<secret>',
    'TURN REST API shared secret, repeatable (several for rotation)',
    v.nonEmpty,
  ),
  relayIp: many(
    '<ip>',
    'address relay sockets bind to, one per family (default: from listeners/interfaces)',
    v.ip,
  ),
  externalIp: many(
    '<ip[/private]>',
    'public address advertised behind 1:1 NAT, optionally /the relay IP it maps to',
    v.externalIp,
  ),
  minPort: one('<port>', 'lowest relay port (default 49152)', v.integer(1, 65535)),
  maxPort: one('<port>', 'highest relay port (default 65535)', v.integer(1, 65535)),
  allowPeer: many('<cidr>', 'allow peers in this range despite the default deny list', v.cidr),
  denyPeer: many('<cidr>', 'also refuse peers in this range (403), repeatable', v.cidr),
  allowLoopbackPeers: flag('allow relaying to 127.0.0.0/8 and ::1 (default off)'),
  legacyChannelNumbers: flag(
    'accept RFC 5766 channel numbers up to 0x7FFF, as old clients such as turnutils_uclient use (default off: RFC 8656 0x4000-0x4FFF)',
  ),
  maxAllocationsPerUser: one('<n>', 'allocations one username may hold (default 10)', v.integer(1)),
  maxAllocations: one('<n>', 'allocations the server holds at once (default 5000)', v.integer(1)),
  maxPermissionsPerAllocation: one(
    '<n>',
    'peer IP permissions one allocation may hold; 508 beyond (default 256)',
    v.integer(1),
  ),
  maxBps: one(
    '<bits>',
    'bandwidth of one allocation, bits/s, both directions (default 20000000)',
    v.integer(1),
  ),
  bpsCapacity: one(
    '<bits>',
    'bandwidth of all allocations together, bits/s (default 1000000000)',
    v.integer(1),
  ),
  defaultLifetime: one(
    '<s>',
    'allocation lifetime when the client asks none, seconds (default 600)',
    v.integer(1, 0xffffffff),
  ),
  maxLifetime: one(
    '<s>',
    'longest allocation lifetime granted, seconds (default 3600)',
    v.integer(1, 0xffffffff),
  ),
  nonceLifetime: one(
    '<s>',
    'seconds a NONCE stays valid before 438 Stale Nonce (default 600)',
    v.integer(1, 0xffffffff),
  ),
  passwordAlgorithm: many(
    '<md5|sha256>',
    'RFC 8489 password algorithm offered, repeatable, in order of preference (default sha256 then md5; clients that ignore the offer use md5)',
    passwordAlgorithm,
  ),
  software: one('<text>', "SOFTWARE attribute; '' sends none (default rtcd)", v.string),
  maxConnections: one('<n>', 'TCP/TLS connections held at once (default 10000)', v.integer(1)),
  listenerBufferSize: one(
    '<bytes>',
    'SO_RCVBUF/SO_SNDBUF of each UDP listener, capped by net.core.rmem_max (default 4194304)',
    v.integer(4096),
  ),
  relayBufferSize: one(
    '<bytes>',
    'SO_RCVBUF/SO_SNDBUF of each relay socket (default 1048576)',
    v.integer(4096),
  ),
  fastUdpSend: flag(
    "send relayed UDP datagrams through the socket's libuv handle, not socket.send (default on; --no-fast-udp-send turns it off)",
  ),
  metricsListen: one(
    '<host:port>',
    'HTTP listener for /metrics and /healthz (default none)',
    v.hostPort({ allowZero: true }),
  ),
  drainTimeout: one(
    '<ms>',
    'on SIGTERM, wait this long for allocations to end (default 30000)',
    v.integer(0),
  ),
  workers: one(
    '<n>',
    'processes sharing the ports via SO_REUSEPORT; needs Node >= 22.12 (default 1)',
    v.integer(1, 256),
  ),
} satisfies Record<string, OptionSpec>;

/** Options of `rtcd signal`: each maps onto one `SignalServerOptions` field (lib/signal/options.ts). */
export const signalOptions = {
  listen: one(
    '<host:port>',
    'HTTP + WebSocket listener; IPv6 as [::]:8080 (default 0.0.0.0:8080)',
    v.hostPort({ allowZero: true }),
  ),
  jwtSecret: one('<secret>', 'HS256 secret of client JWTs (claims: sub, rooms)', v.nonEmpty),
  jwksUrl: one('<url>', 'JWKS URL for RS256/ES256 client JWTs', v.nonEmpty),
  auth: flag(
    'require a JWT (default); --no-auth accepts everyone without a token: development only',
  ),
  turnSecret: one(
    '<secret>',
    'TURN REST shared secret (the --auth-secret of rtcd turn) to mint credentials',
    v.nonEmpty,
  ),
  turnUrl: many(
    '<url>',
    'stun:/turn:/turns: URL handed to clients, repeatable, e.g. turn:host:3478?transport=udp',
    v.nonEmpty,
  ),
  turnTtl: one(
    '<s>',
    'lifetime of minted TURN credentials, seconds (default 86400)',
    v.integer(60),
  ),
  redis: one(
    '<url>',
    'Redis URL (redis://host:6379/0) to share rooms and relay between nodes (default: in memory)',
    v.nonEmpty,
  ),
  redisMemberTtl: one(
    '<ms>',
    "a dead node's peers leave their rooms this long after its last heartbeat (default 15000)",
    v.integer(300),
  ),
  webRoot: one(
    '<dir>',
    "web client directory served at / (default the package's dist/web)",
    v.nonEmpty,
  ),
  maxMessageBytes: one('<bytes>', 'largest message accepted (default 65536)', v.integer(1024)),
  messagesPerSecond: one(
    '<n>',
    'messages per second per connection, sustained (default 50)',
    v.integer(1),
  ),
  messageBurst: one('<n>', 'messages a connection may send at once (default 100)', v.integer(1)),
  maxPeersPerRoom: one('<n>', 'peers in one room, all nodes together (default 50)', v.integer(2)),
  maxRooms: one('<n>', 'rooms with a member on this process (default 10000)', v.integer(1)),
  maxConnectionsPerIp: one('<n>', 'connections from one IP address (default 20)', v.integer(1)),
  maxConnections: one('<n>', 'connections held at once (default 50000)', v.integer(1)),
  resumeGrace: one(
    '<ms>',
    'a dropped client keeps its peer id and room this long for a resume (default 30000)',
    v.integer(0),
  ),
  heartbeatInterval: one(
    '<ms>',
    'WebSocket ping interval; no pong by the next closes with 4408 (default 30000)',
    v.integer(10),
  ),
  sessionRetention: one(
    '<s>',
    'seconds ended session records stay readable (default 3600)',
    v.integer(0),
  ),
  drainTimeout: one(
    '<ms>',
    'on SIGTERM, wait this long for clients to go (default 5000)',
    v.integer(0),
  ),
  sfuSecret: one(
    '<secret>',
    'secret SFUs present to link in on /sfu (rtcd sfu --signal-secret) and serve the rooms of session type sfu (default none: /sfu off)',
    v.nonEmpty,
  ),
} satisfies Record<string, OptionSpec>;

/** Options of `rtcd sfu`: each maps onto one `SfuServerOptions` field (lib/sfu/sfu-server.ts). */
export const sfuOptions = {
  listen: one(
    '<host:port>',
    'HTTP listener of WHIP (POST /whip/ROOM) and WHEP (POST /whep/ROOM) (default 127.0.0.1:8090)',
    v.hostPort({ allowZero: true }),
  ),
  udpPort: one(
    '<port>',
    'the one UDP port all media shares (ICE-lite); 0 picks one (default 40000)',
    v.integer(0, 65535),
  ),
  udpAddress: one(
    '<ip>',
    'address the UDP port binds to; 0.0.0.0 or :: needs --announced-ip (default 127.0.0.1)',
    v.ip,
  ),
  announcedIp: many(
    '<ip>',
    'address written into ICE candidates instead of --udp-address, e.g. the public IP behind 1:1 NAT; repeatable',
    v.ip,
  ),
  fastUdpSend: flag(
    "send media through the UDP socket's libuv handle, not socket.send (default on; --no-fast-udp-send turns it off)",
  ),
  signalUrl: many(
    '<url>',
    "serve the sfu rooms of an rtcd signal node: its link URL ws(s)://host:8080/sfu, kept up with reconnects; repeatable (one per node sharing rooms through Redis); needs --signal-secret (the nodes' --sfu-secret)",
    v.wsUrl,
  ),
  signalSecret: one(
    '<secret>',
    'the --sfu-secret of the rtcd signal node at --signal-url',
    v.nonEmpty,
  ),
  // Limits: the SfuServerOptions of the same names (ranges as SfuServer validates them).
  maxSessions: one(
    '<n>',
    'WHIP/WHEP sessions on this server; 503 server-full beyond (default 1000)',
    v.integer(1, 1_000_000),
  ),
  maxSessionsPerRoom: one(
    '<n>',
    'sessions in one room, WHIP and WHEP together; 503 room-full beyond (default 100)',
    v.integer(1, 100_000),
  ),
  requestsPerSecond: one(
    '<n>',
    'HTTP requests per second per client address (IPv6: per /64), may be fractional; 429 beyond (default 5)',
    v.decimal(0.01, 1_000_000),
  ),
  requestBurst: one(
    '<n>',
    'requests one address may make at once before --requests-per-second applies (default 20)',
    v.integer(1, 1_000_000),
  ),
  pendingTimeout: one(
    '<ms>',
    'a session whose client has not completed ICE and DTLS by then is ended (default 15000)',
    v.integer(1, 3_600_000),
  ),
  requestTimeout: one(
    '<ms>',
    'a request must arrive whole (headers and SDP) within this time, else 408 (default 10000)',
    v.integer(100, 600_000),
  ),
  maxConnections: one(
    '<n>',
    'HTTP connections held at once; more are refused (default 1024)',
    v.integer(1, 1_000_000),
  ),
  metrics: flag(
    'serve GET /metrics (Prometheus text) on the HTTP port (default on; --no-metrics turns it off)',
  ),
  workers: one(
    '<n|auto>',
    'processes forwarding media, each holding whole rooms on its own UDP port (--udp-port + its index, so open the range P..P+n-1); the first process proxies HTTP to them; auto or 0: one per CPU (default 1: all in one process)',
    sfuWorkers,
  ),
} satisfies Record<string, OptionSpec>;

/** Options of `rtcd dev`. */
export const devOptions = {
  port: one(
    '<port>',
    'TURN port on 127.0.0.1, UDP and TCP; 0 picks one (default 3478)',
    v.integer(0, 65535),
  ),
  signalPort: one(
    '<port>',
    'signaling + web page port on 127.0.0.1; 0 picks one (default 8080)',
    v.integer(0, 65535),
  ),
  sfuPort: one(
    '<port>',
    'SFU (WHIP/WHEP) HTTP port on 127.0.0.1; 0 picks one (default 8090)',
    v.integer(0, 65535),
  ),
} satisfies Record<string, OptionSpec>;
