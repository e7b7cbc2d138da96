import { readFileSync } from 'node:fs';
import type { SfuServerOptions } from '../sfu/sfu-server.js';
import type { SignalServerOptions } from '../signal/options.js';
import type { TurnServerOptions } from '../turn/options.js';
import {
  devOptions,
  envName,
  globalOptions,
  kebab,
  type OptionSpec,
  type Resolved,
  sfuOptions,
  signalOptions,
  turnOptions,
} from './option-spec.js';
import { type LogLevel, type Raw, ValueError } from './values.js';

/**
 * Merging flags, `RTCD_*` environment variables and the JSON config file into typed options.
 * Everything here is pure (the file arrives already parsed) so that precedence and every
 * diagnostic are unit-tested without spawning the CLI.
 *
 * Precedence, per option: flag > environment > config file > the role's documented default.
 * A repeatable option takes the whole list from the highest source that sets it; lists from
 * different sources are not concatenated.
 */

/** A usage problem (bad flag, variable or config file): exit code 2, one line on stderr. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  readonly code = 'RTCD_CLI_USAGE';
}

export interface ConfigSources {
  /** What commander parsed: only options given on the command line are present. */
  flags: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string | undefined>>;
  /** The config file, already parsed (see `readConfigFile`). */
  file?: { path: string; data: unknown };
}

export interface TurnCliConfig {
  /** Only the fields some source set; `TurnServer` fills the rest with its defaults. */
  turn: TurnServerOptions;
  workers: number;
  logLevel: LogLevel;
}

export interface DevCliConfig {
  port: number;
  signalPort: number;
  sfuPort: number;
  logLevel: LogLevel;
}

export interface SignalCliConfig {
  /** Only the fields some source set (no `store`, `logger`); `SignalServer` fills the rest. */
  signal: SignalServerOptions;
  /** `--redis`: the store is a RedisStore on this URL. */
  redis: string | undefined;
  /** `--redis-member-ttl`, ms (RedisStore's `memberTtlMs`; heartbeats every third of it). */
  redisMemberTtl: number | undefined;
  logLevel: LogLevel;
}

export interface SfuCliConfig {
  /** host, port, udpAddress and udpPort always set (the CLI's defaults); the rest if given. */
  sfu: SfuServerOptions;
  /** `--signal-url` (one per node) + `--signal-secret`: serve those rtcd signal nodes' sfu rooms. */
  signalLink?: { urls: string[]; secret: string };
  /** `--workers`, when given: worker processes, 0 = one per CPU (absent: one process). */
  workers?: number;
  logLevel: LogLevel;
}

export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_DEV_PORT = 3478;
export const DEFAULT_DEV_SIGNAL_PORT = 8080;
/** `rtcd sfu` HTTP: next to signal's 8080, clear of TURN's 3478 and its relay ports. */
export const DEFAULT_SFU_LISTEN = { host: '127.0.0.1', port: 8090 };
/** `rtcd sfu` media: one UDP port, below the TURN relay range (49152-65535). */
export const DEFAULT_SFU_UDP_PORT = 40000;
export const DEFAULT_SFU_UDP_ADDRESS = '127.0.0.1';

/** `--config` wins over `RTCD_CONFIG`. */
export function configPath(src: Pick<ConfigSources, 'flags' | 'env'>): string | undefined {
  const flag = src.flags.config;
  if (typeof flag === 'string') return flag;
  const env = src.env[envName('config')];
  return env === undefined || env === '' ? undefined : env;
}

/** Reads and parses a config file, turning every failure into a one-line `CliUsageError`. */
export function readConfigFile(path: string): { path: string; data: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliUsageError(`cannot read config file ${path}: ${code}`);
  }
  try {
    return { path, data: JSON.parse(text) };
  } catch (err) {
    throw new CliUsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function resolveTurnConfig(src: ConfigSources): TurnCliConfig {
  const specs = { ...turnOptions, logLevel: globalOptions.logLevel };
  const o = resolveOptions(specs, src);
  const turn: TurnServerOptions = {};
  if (o.listen) turn.listen = o.listen;
  if (o.tlsListen) turn.tlsListen = o.tlsListen;
  if (o.cert !== undefined) turn.cert = o.cert;
  if (o.key !== undefined) turn.key = o.key;
  if (o.realm !== undefined) turn.realm = o.realm;
  if (o.user) turn.users = Object.fromEntries(o.user);
  if (o.usersFile !== undefined) turn.usersFile = o.usersFile;
  if (o.authSecret) turn.authSecrets = o.authSecret;
  if (o.relayIp) turn.relayIps = o.relayIp;
  if (o.externalIp) turn.externalIps = o.externalIp;
  if (o.minPort !== undefined) turn.minPort = o.minPort;
  if (o.maxPort !== undefined) turn.maxPort = o.maxPort;
  if (o.allowPeer) turn.allowPeers = o.allowPeer;
  if (o.denyPeer) turn.denyPeers = o.denyPeer;
  if (o.allowLoopbackPeers !== undefined) turn.allowLoopbackPeers = o.allowLoopbackPeers;
  if (o.legacyChannelNumbers !== undefined) turn.legacyChannelNumbers = o.legacyChannelNumbers;
  if (o.maxAllocationsPerUser !== undefined) turn.maxAllocationsPerUser = o.maxAllocationsPerUser;
  if (o.maxAllocations !== undefined) turn.maxAllocations = o.maxAllocations;
  if (o.maxPermissionsPerAllocation !== undefined) {
    turn.maxPermissionsPerAllocation = o.maxPermissionsPerAllocation;
  }
  if (o.maxBps !== undefined) turn.maxBps = o.maxBps;
  if (o.bpsCapacity !== undefined) turn.bpsCapacity = o.bpsCapacity;
  if (o.defaultLifetime !== undefined) turn.defaultLifetime = o.defaultLifetime;
  if (o.maxLifetime !== undefined) turn.maxLifetime = o.maxLifetime;
  if (o.nonceLifetime !== undefined) turn.nonceLifetime = o.nonceLifetime;
  if (o.passwordAlgorithm) turn.passwordAlgorithms = o.passwordAlgorithm;
  if (o.software !== undefined) turn.software = o.software;
  if (o.maxConnections !== undefined) turn.maxConnections = o.maxConnections;
  if (o.listenerBufferSize !== undefined) turn.listenerBufferSize = o.listenerBufferSize;
  if (o.relayBufferSize !== undefined) turn.relayBufferSize = o.relayBufferSize;
  if (o.fastUdpSend !== undefined) turn.fastUdpSend = o.fastUdpSend;
  if (o.metricsListen !== undefined) turn.metricsListen = o.metricsListen;
  if (o.drainTimeout !== undefined) turn.drainTimeoutMs = o.drainTimeout;
  const workers = o.workers ?? 1;
  checkTurn(turn, workers);
  return { turn, workers, logLevel: o.logLevel ?? DEFAULT_LOG_LEVEL };
}

export function resolveDevConfig(src: ConfigSources): DevCliConfig {
  if (src.file !== undefined || typeof src.flags.config === 'string') {
    throw new CliUsageError('rtcd dev takes no config file (--config); its settings are generated');
  }
  const o = resolveOptions({ ...devOptions, logLevel: globalOptions.logLevel }, src);
  return {
    port: o.port ?? DEFAULT_DEV_PORT,
    signalPort: o.signalPort ?? DEFAULT_DEV_SIGNAL_PORT,
    sfuPort: o.sfuPort ?? DEFAULT_SFU_LISTEN.port,
    logLevel: o.logLevel ?? DEFAULT_LOG_LEVEL,
  };
}

export function resolveSignalConfig(src: ConfigSources): SignalCliConfig {
  const o = resolveOptions({ ...signalOptions, logLevel: globalOptions.logLevel }, src);
  const signal: SignalServerOptions = {};
  if (o.listen !== undefined) signal.listen = o.listen;
  if (o.jwtSecret !== undefined) signal.jwtSecret = o.jwtSecret;
  if (o.jwksUrl !== undefined) signal.jwksUrl = o.jwksUrl;
  if (o.auth === false) signal.noAuth = true;
  if (o.turnSecret !== undefined) signal.turnSecret = o.turnSecret;
  if (o.turnUrl) signal.turnUrls = o.turnUrl;
  if (o.turnTtl !== undefined) signal.turnTtl = o.turnTtl;
  if (o.webRoot !== undefined) signal.webRoot = o.webRoot;
  if (o.maxMessageBytes !== undefined) signal.maxMessageBytes = o.maxMessageBytes;
  if (o.messagesPerSecond !== undefined) signal.messagesPerSecond = o.messagesPerSecond;
  if (o.messageBurst !== undefined) signal.messageBurst = o.messageBurst;
  if (o.maxPeersPerRoom !== undefined) signal.maxPeersPerRoom = o.maxPeersPerRoom;
  if (o.maxRooms !== undefined) signal.maxRooms = o.maxRooms;
  if (o.maxConnectionsPerIp !== undefined) signal.maxConnectionsPerIp = o.maxConnectionsPerIp;
  if (o.maxConnections !== undefined) signal.maxConnections = o.maxConnections;
  if (o.resumeGrace !== undefined) signal.resumeGraceMs = o.resumeGrace;
  if (o.heartbeatInterval !== undefined) signal.heartbeatIntervalMs = o.heartbeatInterval;
  if (o.sessionRetention !== undefined) signal.sessionRetentionMs = o.sessionRetention * 1000;
  if (o.drainTimeout !== undefined) signal.drainTimeoutMs = o.drainTimeout;
  if (o.sfuSecret !== undefined) signal.sfuSecret = o.sfuSecret;
  if (o.redis !== undefined && !/^rediss?:\/\//.test(o.redis)) {
    throw new CliUsageError(`invalid --redis "${o.redis}": must be a redis:// or rediss:// URL`);
  }
  if (!signal.noAuth && signal.jwtSecret === undefined && signal.jwksUrl === undefined) {
    throw new CliUsageError('rtcd signal needs --jwt-secret or --jwks-url (or --no-auth)');
  }
  return {
    signal,
    redis: o.redis,
    redisMemberTtl: o.redisMemberTtl,
    logLevel: o.logLevel ?? DEFAULT_LOG_LEVEL,
  };
}

export function resolveSfuConfig(src: ConfigSources): SfuCliConfig {
  const o = resolveOptions({ ...sfuOptions, logLevel: globalOptions.logLevel }, src);
  const listen = o.listen ?? DEFAULT_SFU_LISTEN;
  const sfu: SfuServerOptions = {
    host: listen.host,
    port: listen.port,
    udpAddress: o.udpAddress ?? DEFAULT_SFU_UDP_ADDRESS,
    udpPort: o.udpPort ?? DEFAULT_SFU_UDP_PORT,
  };
  if (o.announcedIp) sfu.announcedAddress = o.announcedIp;
  if (o.maxSessions !== undefined) sfu.maxSessions = o.maxSessions;
  if (o.maxSessionsPerRoom !== undefined) sfu.maxSessionsPerRoom = o.maxSessionsPerRoom;
  if (o.requestsPerSecond !== undefined) sfu.requestsPerSecond = o.requestsPerSecond;
  if (o.requestBurst !== undefined) sfu.requestBurst = o.requestBurst;
  if (o.pendingTimeout !== undefined) sfu.pendingTimeoutMs = o.pendingTimeout;
  if (o.requestTimeout !== undefined) sfu.requestTimeoutMs = o.requestTimeout;
  if (o.maxConnections !== undefined) sfu.maxConnections = o.maxConnections;
  if (o.metrics !== undefined) sfu.metrics = o.metrics;
  if (o.fastUdpSend !== undefined) sfu.fastUdpSend = o.fastUdpSend;
  if ((sfu.udpAddress === '0.0.0.0' || sfu.udpAddress === '::') && !o.announcedIp?.length) {
    // A wildcard is not an address a browser can reach: there would be no ICE candidate.
    throw new CliUsageError(
      `--udp-address ${sfu.udpAddress} needs --announced-ip (the address clients reach)`,
    );
  }
  const cfg: SfuCliConfig = { sfu, logLevel: o.logLevel ?? DEFAULT_LOG_LEVEL };
  if (o.workers !== undefined) {
    const last = (sfu.udpPort ?? 0) + o.workers - 1;
    if (sfu.udpPort !== 0 && last > 65535) {
      throw new CliUsageError(
        `invalid --workers "${o.workers}": --udp-port ${sfu.udpPort} + ${o.workers} workers passes 65535`,
      );
    }
    cfg.workers = o.workers;
  }
  const urls = o.signalUrl ?? [];
  if ((urls.length === 0) !== (o.signalSecret === undefined)) {
    throw new CliUsageError(
      urls.length === 0
        ? '--signal-secret needs --signal-url (the rtcd signal node to link to)'
        : "--signal-url needs --signal-secret (that node's --sfu-secret)",
    );
  }
  if (urls.length > 0 && o.signalSecret !== undefined) {
    cfg.signalLink = { urls, secret: o.signalSecret };
  }
  return cfg;
}

/** Checks across options, where one value alone is fine but the combination is not. */
function checkTurn(turn: TurnServerOptions, workers: number): void {
  if (turn.minPort !== undefined && turn.maxPort !== undefined && turn.minPort > turn.maxPort) {
    throw new CliUsageError(
      `invalid --min-port "${turn.minPort}": must not exceed --max-port (${turn.maxPort})`,
    );
  }
  if (turn.tlsListen?.length && (turn.cert === undefined || turn.key === undefined)) {
    throw new CliUsageError('--tls-listen needs --cert and --key');
  }
  const algorithms = turn.passwordAlgorithms ?? [];
  const repeated = algorithms.find((a, i) => algorithms.indexOf(a) !== i);
  if (repeated !== undefined) {
    throw new CliUsageError(`invalid --password-algorithm "${repeated}": given twice`);
  }
  const ephemeral = [...(turn.listen ?? []), ...(turn.tlsListen ?? [])].some((a) => a.port === 0);
  if (workers > 1 && ephemeral) {
    throw new CliUsageError(
      `invalid --workers "${workers}": needs fixed ports (with port 0 each worker gets its own)`,
    );
  }
}

/** Resolves each option of `specs` from the highest source that sets it. */
export function resolveOptions<S extends Record<string, OptionSpec>>(
  specs: S,
  src: ConfigSources,
): Resolved<S> {
  const fileData = src.file === undefined ? undefined : fileObject(src.file, specs);
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const flag = src.flags[key];
    const env = src.env[envName(key)];
    let value: unknown;
    if (flag !== undefined) {
      value = fromFlag(key, spec, flag);
    } else if (env !== undefined) {
      value = fromEnv(key, spec, env);
    } else if (fileData !== undefined && Object.hasOwn(fileData, key)) {
      value = fromFile(key, spec, fileData[key], src.file!.path);
    }
    if (value !== undefined) out[key] = value;
  }
  return out as Resolved<S>;
}

function fileObject(file: { path: string; data: unknown }, specs: Record<string, OptionSpec>) {
  const { path, data } = file;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliUsageError(`config file ${path} must hold a JSON object`);
  }
  for (const key of Object.keys(data)) {
    if (!Object.hasOwn(specs, key)) {
      const hint = key.includes('-') || key.includes('_') ? ' (keys are camelCase)' : '';
      throw new CliUsageError(`unknown key "${key}" in config file ${path}${hint}`);
    }
  }
  return data as Record<string, unknown>;
}

function parseItem(spec: OptionSpec, raw: Raw, name: string, where = ''): unknown {
  try {
    return spec.parse(raw);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new CliUsageError(`invalid ${name} "${String(raw)}"${where}: ${err.message}`);
  }
}

function fromFlag(key: string, spec: OptionSpec, flag: unknown): unknown {
  const name = `--${kebab(key)}`;
  if (spec.repeatable) {
    const items = Array.isArray(flag) ? flag : [flag];
    return items.map((item: Raw) => parseItem(spec, item, name));
  }
  return parseItem(spec, flag as Raw, name);
}

function fromEnv(key: string, spec: OptionSpec, env: string): unknown {
  const name = envName(key);
  if (!spec.repeatable) return parseItem(spec, env, name);
  const items = env.split(',').map((s) => s.trim());
  return items.filter((s) => s !== '').map((item) => parseItem(spec, item, name));
}

function fromFile(key: string, spec: OptionSpec, value: unknown, path: string): unknown {
  const where = ` in ${path}`;
  const isRaw = (x: unknown): x is Raw =>
    typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (spec.repeatable) {
    const items = Array.isArray(value) ? value : [value];
    return items.map((item: unknown) => {
      if (!isRaw(item)) throw new CliUsageError(`invalid ${key}${where}: items must be strings`);
      return parseItem(spec, item, key, where);
    });
  }
  if (!isRaw(value)) {
    throw new CliUsageError(`invalid ${key}${where}: must be a string, number or boolean`);
  }
  return parseItem(spec, value, key, where);
}
