import { createHash } from 'node:crypto';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { Cidr } from '../util/cidr.js';
import { ipToString, normalizeIp, parseIp } from '../util/ip.js';
import { DEFAULT_PASSWORD_ALGORITHMS, type PasswordAlgorithm } from './credentials.js';
import type { ListenAddress, TurnServerOptions } from './options.js';

/** Thrown by `resolveTurnOptions` (and so `new TurnServer`) for an invalid option. */
export class TurnOptionsError extends Error {
  readonly code = 'RTCD_TURN_OPTIONS';
  /** The `TurnServerOptions` field at fault, e.g. `minPort`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'TurnOptionsError';
    this.field = field;
  }
}

/** `TurnServerOptions` with every default filled in, checked once. */
export interface ResolvedTurnOptions {
  listen: ListenAddress[];
  tlsListen: ListenAddress[];
  cert: string | undefined;
  key: string | undefined;
  realm: string;
  users: Record<string, string>;
  usersFile: string | undefined;
  authSecrets: string[];
  /** The IPv4 relay address, if relaying over IPv4 is possible. */
  relayIpv4: string | undefined;
  /** The IPv6 relay address, if relaying over IPv6 is possible. */
  relayIpv6: string | undefined;
  /** Relay address → public address advertised in XOR-RELAYED-ADDRESS (1:1 NAT). */
  externalIps: ReadonlyMap<string, string>;
  minPort: number;
  maxPort: number;
  allowPeers: string[];
  denyPeers: string[];
  allowLoopbackPeers: boolean;
  legacyChannelNumbers: boolean;
  maxAllocationsPerUser: number;
  maxAllocations: number;
  maxPermissionsPerAllocation: number;
  maxBps: number;
  bpsCapacity: number;
  /** Seconds. */
  defaultLifetime: number;
  /** Seconds. */
  maxLifetime: number;
  /** Seconds. */
  permissionLifetime: number;
  /** Seconds. */
  channelLifetime: number;
  /** Seconds. */
  nonceLifetime: number;
  /** In order of preference; non-empty, no repeats. */
  passwordAlgorithms: PasswordAlgorithm[];
  software: string;
  maxConnections: number;
  /** SHA-256 of `nonceSecret`, or undefined for a random per-process secret. */
  nonceSecret: Buffer | undefined;
  listenerBufferSize: number;
  relayBufferSize: number;
  fastUdpSend: boolean;
  tcpIdleTimeoutMs: number;
  metricsListen: ListenAddress | undefined;
  drainTimeoutMs: number;
  reusePort: boolean;
}

/** What resolution reads from the host; injectable so tests do not depend on the machine. */
export interface ResolveEnvironment {
  /** `process.version`. */
  nodeVersion: string;
  /** `os.networkInterfaces()`. */
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** RFC 8656 §9 and §12: permissions last 300 s and channels 600 s; shorter is allowed. */
const RFC_PERMISSION_LIFETIME = 300;
const RFC_CHANNEL_LIFETIME = 600;

/**
 * Fills the defaults documented on `TurnServerOptions` and validates every field.
 * @throws TurnOptionsError naming the first invalid field.
 */
export function resolveTurnOptions(
  o: TurnServerOptions = {},
  env: ResolveEnvironment = { nodeVersion: process.version, interfaces: networkInterfaces() },
): ResolvedTurnOptions {
  const listen = listenList('listen', o.listen ?? [{ host: '0.0.0.0', port: 3478 }]);
  const tlsListen = listenList('tlsListen', o.tlsListen ?? []);
  if (tlsListen.length > 0 && (!o.cert || !o.key)) {
    throw new TurnOptionsError(o.cert ? 'key' : 'cert', 'tlsListen needs both cert and key');
  }
  const relay = relayAddresses(o.relayIps, [...listen, ...tlsListen], env.interfaces);
  const minPort = integer('minPort', o.minPort ?? 49152, 1, 65535);
  const maxPort = integer('maxPort', o.maxPort ?? 65535, 1, 65535);
  if (minPort > maxPort) {
    throw new TurnOptionsError('minPort', `minPort ${minPort} is above maxPort ${maxPort}`);
  }
  const defaultLifetime = integer('defaultLifetime', o.defaultLifetime ?? 600, 1);
  const maxLifetime = integer('maxLifetime', o.maxLifetime ?? 3600, 1);
  if (defaultLifetime > maxLifetime) {
    throw new TurnOptionsError('defaultLifetime', 'defaultLifetime is above maxLifetime');
  }
  if (o.reusePort && !nodeAtLeast(env.nodeVersion, 22, 12)) {
    throw new TurnOptionsError(
      'reusePort',
      `reusePort needs Node >= 22.12 (this is ${env.nodeVersion})`,
    );
  }
  return {
    listen,
    tlsListen,
    cert: optionalString('cert', o.cert),
    key: optionalString('key', o.key),
    realm: nonEmptyString('realm', o.realm ?? 'rtcd'),
    users: userMap(o.users ?? {}),
    usersFile: optionalString('usersFile', o.usersFile),
    authSecrets: stringList('authSecrets', o.authSecrets ?? []),
    relayIpv4: relay.v4,
    relayIpv6: relay.v6,
    externalIps: externalMap(o.externalIps ?? [], relay),
    minPort,
    maxPort,
    allowPeers: cidrList('allowPeers', o.allowPeers ?? []),
    denyPeers: cidrList('denyPeers', o.denyPeers ?? []),
    allowLoopbackPeers: o.allowLoopbackPeers ?? false,
    legacyChannelNumbers: o.legacyChannelNumbers ?? false,
    maxAllocationsPerUser: integer('maxAllocationsPerUser', o.maxAllocationsPerUser ?? 10, 1),
    maxAllocations: integer('maxAllocations', o.maxAllocations ?? 5000, 1),
    maxPermissionsPerAllocation: integer(
      'maxPermissionsPerAllocation',
      o.maxPermissionsPerAllocation ?? 256,
      1,
    ),
    maxBps: positive('maxBps', o.maxBps ?? 20e6),
    bpsCapacity: positive('bpsCapacity', o.bpsCapacity ?? 1e9),
    defaultLifetime,
    maxLifetime,
    permissionLifetime: integer(
      'permissionLifetime',
      o.permissionLifetime ?? RFC_PERMISSION_LIFETIME,
      1,
      RFC_PERMISSION_LIFETIME,
    ),
    channelLifetime: integer(
      'channelLifetime',
      o.channelLifetime ?? RFC_CHANNEL_LIFETIME,
      1,
      RFC_CHANNEL_LIFETIME,
    ),
    nonceLifetime: integer('nonceLifetime', o.nonceLifetime ?? 600, 1),
    passwordAlgorithms: algorithmList(o.passwordAlgorithms ?? DEFAULT_PASSWORD_ALGORITHMS),
    software: typeof o.software === 'string' ? o.software : 'rtcd',
    maxConnections: integer('maxConnections', o.maxConnections ?? 10000, 1),
    nonceSecret: secretKey('nonceSecret', o.nonceSecret),
    listenerBufferSize: integer('listenerBufferSize', o.listenerBufferSize ?? 4 * MiB, 4096),
    relayBufferSize: integer('relayBufferSize', o.relayBufferSize ?? MiB, 4096),
    fastUdpSend: o.fastUdpSend !== false,
    tcpIdleTimeoutMs: integer('tcpIdleTimeoutMs', o.tcpIdleTimeoutMs ?? 60000, 1),
    metricsListen: o.metricsListen && listenAddress('metricsListen', o.metricsListen),
    drainTimeoutMs: integer('drainTimeoutMs', o.drainTimeoutMs ?? 30000, 0),
    reusePort: o.reusePort ?? false,
  };
}

const MiB = 1024 * 1024;

function secretKey(field: string, value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 16) {
    throw new TurnOptionsError(field, `${field} must be a string of at least 16 characters`);
  }
  return createHash('sha256').update(value).digest();
}

function integer(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TurnOptionsError(field, `must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TurnOptionsError(field, `must be a positive finite number, got ${value}`);
  }
  return value;
}

function nonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TurnOptionsError(field, 'must be a non-empty string');
  }
  return value;
}

function optionalString(field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : nonEmptyString(field, value);
}

function stringList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new TurnOptionsError(field, 'must be an array of strings');
  return value.map((v: unknown) => nonEmptyString(field, v));
}

function algorithmList(list: unknown): PasswordAlgorithm[] {
  const out: PasswordAlgorithm[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    throw new TurnOptionsError(
      'passwordAlgorithms',
      "must be a non-empty array of 'md5', 'sha256'",
    );
  }
  for (const a of list) {
    if ((a !== 'md5' && a !== 'sha256') || out.includes(a)) {
      throw new TurnOptionsError(
        'passwordAlgorithms',
        `takes 'md5' and 'sha256' once each, got ${JSON.stringify(a)}`,
      );
    }
    out.push(a);
  }
  return out;
}

function userMap(users: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, password] of Object.entries(users)) {
    if (name === '' || typeof password !== 'string') {
      throw new TurnOptionsError('users', 'must map non-empty names to password strings');
    }
    out[name] = password;
  }
  return out;
}

function listenAddress(field: string, a: ListenAddress): ListenAddress {
  if (typeof a !== 'object' || a === null)
    throw new TurnOptionsError(field, 'must be {host, port}');
  return { host: nonEmptyString(field, a.host), port: integer(field, a.port, 0, 65535) };
}

function listenList(field: string, list: ListenAddress[]): ListenAddress[] {
  if (!Array.isArray(list)) throw new TurnOptionsError(field, 'must be an array of {host, port}');
  return list.map((a) => listenAddress(field, a));
}

function cidrList(field: string, list: string[]): string[] {
  for (const text of stringList(field, list)) {
    try {
      Cidr.parse(text);
    } catch (error) {
      throw new TurnOptionsError(field, `bad CIDR ${JSON.stringify(text)}: ${String(error)}`);
    }
  }
  return list;
}

interface RelayPair {
  v4: string | undefined;
  v6: string | undefined;
}

function relayAddresses(
  relayIps: string[] | undefined,
  listeners: ListenAddress[],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): RelayPair {
  if (relayIps !== undefined) return explicitRelays(stringList('relayIps', relayIps));
  return { v4: defaultRelay(4, listeners, interfaces), v6: defaultRelay(6, listeners, interfaces) };
}

function explicitRelays(list: string[]): RelayPair {
  const pair: RelayPair = { v4: undefined, v6: undefined };
  for (const text of list) {
    const ip = parseIp(text);
    if (!ip) throw new TurnOptionsError('relayIps', `not an IP address: ${JSON.stringify(text)}`);
    if (ip.bytes.every((b) => b === 0)) {
      throw new TurnOptionsError('relayIps', `a relay address cannot be a wildcard (${text})`);
    }
    const slot = ip.family === 4 ? 'v4' : 'v6';
    if (pair[slot] !== undefined) {
      throw new TurnOptionsError('relayIps', `at most one IPv${ip.family} relay address`);
    }
    pair[slot] = normalizeIp(text);
  }
  if (pair.v4 === undefined && pair.v6 === undefined) {
    throw new TurnOptionsError('relayIps', 'needs at least one address');
  }
  return pair;
}

/** Listener host if concrete, else the first global interface address, else loopback. */
function defaultRelay(
  family: 4 | 6,
  listeners: ListenAddress[],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string {
  const first = listeners.map((l) => parseIp(l.host)).find((ip) => ip?.family === family);
  if (first && !first.bytes.every((b) => b === 0)) return ipToString(first.family, first.bytes);
  const name = family === 4 ? 'IPv4' : 'IPv6';
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      // Link-local IPv6 needs a zone and cannot be reached from elsewhere: skip it.
      if (info.family !== name || info.internal || info.address.startsWith('fe80:')) continue;
      return normalizeIp(info.address) ?? info.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

function externalMap(list: string[], relay: RelayPair): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of stringList('externalIps', list)) {
    const [publicText, privateText] = entry.split('/', 2);
    const pub = parseIp(publicText);
    if (!pub) throw new TurnOptionsError('externalIps', `not an IP address: ${publicText}`);
    const priv = privateText === undefined ? undefined : normalizeIp(privateText);
    const target = priv ?? (pub.family === 4 ? relay.v4 : relay.v6);
    if (target === undefined || (target !== relay.v4 && target !== relay.v6)) {
      throw new TurnOptionsError(
        'externalIps',
        `${JSON.stringify(entry)} does not name a relay address (relayIps)`,
      );
    }
    if (parseIp(target)?.family !== pub.family) {
      throw new TurnOptionsError('externalIps', `${JSON.stringify(entry)} mixes address families`);
    }
    map.set(target, normalizeIp(publicText) ?? publicText);
  }
  return map;
}

function nodeAtLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.replace(/^v/, '').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}
