import { Cidr } from '../util/cidr.js';
import { parseIp } from '../util/ip.js';

/**
 * Parsers for option values. Each takes the raw value from a flag, an `RTCD_*` variable (both
 * strings) or the JSON config file, and returns the typed value or throws `ValueError` whose
 * message ends the one-line diagnostic: `rtcd: invalid --max-port "70000": <message>`.
 */
export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export type Raw = string | number | boolean;
export type ValueParser<T> = (raw: Raw) => T;

function text(raw: Raw, what: string): string {
  if (typeof raw !== 'string') throw new ValueError(`must be ${what} (a string)`);
  return raw;
}

/** `host:port` with an IP literal host; IPv6 in brackets (`[::1]:3478`). */
export function hostPort(o: { allowZero: boolean }): ValueParser<{ host: string; port: number }> {
  const what = 'host:port with an IP address, e.g. 0.0.0.0:3478 or [::]:3478';
  return (raw) => {
    const s = text(raw, what);
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
    if (m === null) throw new ValueError(`must be ${what}`);
    const ip = parseIp(m[1]!);
    if (ip === undefined) throw new ValueError(`"${m[1]}" is not an IP address (no host names)`);
    if (ip.family === 6 && !s.startsWith('[')) throw new ValueError(`must be ${what}`);
    const min = o.allowZero ? 0 : 1;
    const port = Number(m[2]);
    if (!Number.isInteger(port) || port < min || port > 65535) {
      throw new ValueError(`port must be an integer ${min}-65535`);
    }
    return { host: m[1]!, port };
  };
}

/** An integer in `[min, max]`; the text must be all digits (or a JSON number). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueParser<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
  return (raw) => {
    let n = Number.NaN;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string' && /^\d+$/.test(raw)) n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ValueError(`must be an integer ${range}`);
    }
    return n;
  };
}

/** A decimal number in `[min, max]` (`0.5`, `20`); the text must be plain digits with an optional fraction. */
export function decimal(min: number, max: number): ValueParser<number> {
  return (raw) => {
    let n = Number.NaN;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw)) n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new ValueError(`must be a number ${min}-${max}`);
    }
    return n;
  };
}

export const boolean: ValueParser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const v = raw.toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
  }
  throw new ValueError('must be true or false');
};

export const string: ValueParser<string> = (raw) => text(raw, 'text');

export const nonEmpty: ValueParser<string> = (raw) => {
  const s = text(raw, 'text');
  if (s === '') throw new ValueError('must not be empty');
  return s;
};

/** A `ws://` or `wss://` URL (the link of `rtcd sfu --signal-url`). */
export const wsUrl: ValueParser<string> = (raw) => {
  const s = text(raw, 'a URL');
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ValueError('must be a ws:// or wss:// URL');
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new ValueError('must be a ws:// or wss:// URL');
  }
  return s;
};

export const ip: ValueParser<string> = (raw) => {
  const s = text(raw, 'an IP address');
  if (parseIp(s) === undefined) throw new ValueError('must be an IPv4 or IPv6 address');
  return s;
};

export const cidr: ValueParser<string> = (raw) => {
  const s = text(raw, 'a CIDR');
  try {
    Cidr.parse(s);
  } catch {
    throw new ValueError('must be a CIDR (address/prefix, e.g. 10.0.0.0/8) or an IP address');
  }
  return s;
};

/** `public` or `public/private`, both IP addresses of one family. */
export const externalIp: ValueParser<string> = (raw) => {
  const s = text(raw, 'an IP address');
  const [pub, priv, extra] = s.split('/');
  const a = parseIp(pub!);
  const b = priv === undefined ? a : parseIp(priv);
  if (extra !== undefined || a === undefined || b === undefined) {
    throw new ValueError('must be a public IP address, optionally /private IP address');
  }
  if (a.family !== b.family) throw new ValueError('public and private must be one family');
  return s;
};

/** `name:password`, split at the first colon (the password may contain colons). */
export const user: ValueParser<[name: string, password: string]> = (raw) => {
  const s = text(raw, 'name:password');
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) throw new ValueError('must be name:password');
  return [s.slice(0, colon), s.slice(colon + 1)];
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const logLevel: ValueParser<LogLevel> = (raw) => {
  const s = text(raw, 'a log level');
  const level = LOG_LEVELS.find((l) => l === s);
  if (level === undefined) throw new ValueError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
};
