import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  encodePasswordAlgorithms,
  passwordAlgorithm,
} from '../stun/attributes/password-algorithms.js';
import { PasswordAlgorithm as AlgorithmCode } from '../stun/constants.js';
import { longTermKey, type PasswordAlgorithmName } from '../stun/integrity.js';
import type { SecurityFeatureOptions } from './nonce.js';

/**
 * Long-term credentials (RFC 8489 §9.2) from two sources:
 * - static users, name → password, whose key is `MD5(name ":" realm ":" password)`;
 * - the TURN REST API shared-secret scheme (draft-uberti-behave-turn-rest-00, coturn's
 *   `--use-auth-secret`): a signaling server mints the username `expiry:userid` (expiry in
 *   unix seconds) and the password `base64(HMAC-SHA1(secret, username))`, and any TURN node
 *   that knows the secret can check it without shared state.
 */
export interface CredentialOptions {
  /** REALM of the long-term mechanism; part of every key. */
  realm: string;
  /** Static users, name → password. Default `{}`. */
  users?: Record<string, string>;
  /** REST API shared secrets; several during a rotation. Default `[]` (REST disabled). */
  authSecrets?: string[];
  /**
   * Password algorithms (RFC 8489 §18.5) keys may be derived with, in the server's order of
   * preference, as PASSWORD-ALGORITHMS offers them. Default `['sha256', 'md5']`, the default
   * of `TurnServerOptions.passwordAlgorithms`.
   */
  passwordAlgorithms?: readonly PasswordAlgorithm[];
}

/** Hash of the long-term key (RFC 8489 §18.5.1: PASSWORD-ALGORITHM MD5 or SHA-256). */
export type PasswordAlgorithm = PasswordAlgorithmName;

/** Both algorithms, SHA-256 first: RFC 8489 clients take the first one they support. */
export const DEFAULT_PASSWORD_ALGORITHMS: readonly PasswordAlgorithm[] = Object.freeze([
  'sha256',
  'md5',
]);

const ALGORITHM_CODES: Readonly<Record<PasswordAlgorithm, AlgorithmCode>> = {
  md5: AlgorithmCode.MD5,
  sha256: AlgorithmCode.SHA256,
};

export type KeyLookup =
  | {
      ok: true;
      /** `keys[0]`, for the common case of a single candidate. */
      key: Buffer;
      /**
       * Candidate keys, in order. A static user has one. A REST username has one per shared
       * secret, because which secret minted it shows only when MESSAGE-INTEGRITY is checked:
       * the caller tries each key in order and uses the first that verifies.
       */
      keys: readonly Buffer[];
      /** Quota identity: the static name, or the REST `userid` (the whole username if bare). */
      user: string;
      source: 'static' | 'rest';
      /** REST only: when the credential expires, ms since the epoch. */
      expiresAtMs?: number;
    }
  | { ok: false; reason: 'unknown-user' | 'expired' | 'malformed-username' };

type KeyFound = Extract<KeyLookup, { ok: true }>;

/** RFC 8489 §14.3: USERNAME is fewer than 509 bytes. */
const MAX_USERNAME_BYTES = 508;
/** REST expiry: decimal unix seconds, at most a safe integer's worth of digits. */
const REST_EXPIRY = /^[0-9]{1,15}$/;

/**
 * Resolves a USERNAME to the key(s) that MESSAGE-INTEGRITY must verify with. Pure apart from
 * hashing; the clock is passed in. Returned keys and lookup objects are shared between calls
 * and must not be modified.
 *
 * REST usernames: `expiry:userid` (split at the first colon, so the userid may contain
 * colons) or a bare `expiry`, as coturn accepts. A credential is expired from the second
 * its expiry names (`nowMs >= expiry * 1000`). No upper bound is put on the expiry: like
 * coturn, a credential minted for the year 3000 (or by a signer that wrote milliseconds) is
 * accepted; bound the TTL where credentials are minted. coturn's reversed `userid:expiry`
 * form is not accepted.
 */
export class CredentialStore {
  readonly realm: string;
  /** The enabled password algorithms, in order of preference. */
  readonly passwordAlgorithms: readonly PasswordAlgorithm[];
  /**
   * The PASSWORD-ALGORITHMS value listing `passwordAlgorithms` (RFC 8489 §14.11): what a
   * challenge offers and, byte for byte, what a request must echo.
   */
  readonly passwordAlgorithmsValue: Buffer;
  private readonly statics = new Map<string, StaticUser>();
  private secrets: KeyObject[] = [];
  /** USERHASH (hex) → static name, built on first use. */
  private userhashes: Map<string, string> | undefined;

  /**
   * @throws TypeError on an empty realm, a non-string password, an empty secret, or a
   *   password algorithm list that is empty, repeats one or names an unknown one.
   */
  constructor(options: CredentialOptions) {
    if (typeof options?.realm !== 'string' || options.realm === '') {
      throw new TypeError('CredentialStore: realm must be a non-empty string');
    }
    this.realm = options.realm;
    this.passwordAlgorithms = algorithmList(
      options.passwordAlgorithms ?? DEFAULT_PASSWORD_ALGORITHMS,
    );
    this.passwordAlgorithmsValue = encodePasswordAlgorithms(
      this.passwordAlgorithms.map((a) => passwordAlgorithm(ALGORITHM_CODES[a])),
    );
    this.setUsers(options.users ?? {});
    this.setAuthSecrets(options.authSecrets ?? []);
  }

  /** Replaces the static users (e.g. on reload); keys are derived here, once. */
  setUsers(users: Record<string, string>): void {
    const next = new Map<string, StaticUser>();
    for (const [name, password] of Object.entries(users)) {
      if (name === '' || typeof password !== 'string') {
        throw new TypeError(`CredentialStore: user '${name}' needs a name and a string password`);
      }
      const md5 = longTermKey(name, this.realm, password, 'md5');
      next.set(name, {
        password,
        md5: { ok: true, key: md5, keys: Object.freeze([md5]), user: name, source: 'static' },
      });
    }
    this.statics.clear();
    for (const [name, user] of next) this.statics.set(name, user);
    this.userhashes = undefined;
  }

  /** Replaces the REST shared secrets (e.g. during a rotation: new one first, old one kept). */
  setAuthSecrets(secrets: readonly string[]): void {
    for (const s of secrets) {
      if (typeof s !== 'string' || s === '') {
        throw new TypeError('CredentialStore: auth secrets must be non-empty strings');
      }
    }
    this.secrets = secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')));
  }

  /** True if REST usernames are accepted (at least one secret is set). */
  get restEnabled(): boolean {
    return this.secrets.length > 0;
  }

  /**
   * The STUN security features (RFC 8489 §9.2) a nonce cookie should announce for this store,
   * or undefined for none (then nonces carry no cookie, as RFC 5389 servers send them):
   * - password algorithms, when one besides MD5 is enabled: there is something to negotiate
   *   and to protect from a bid-down;
   * - username anonymity, when REST is off. An RFC 8489 client seeing that bit MUST send
   *   USERHASH instead of USERNAME (§9.2.5), and a REST username cannot be recovered from its
   *   hash; static users can.
   * Read once, when the nonce issuer is made: the cookie does not follow later changes.
   */
  securityFeatures(): SecurityFeatureOptions | undefined {
    const passwordAlgorithms = this.passwordAlgorithms.some((a) => a !== 'md5');
    const usernameAnonymity = !this.restEnabled;
    return passwordAlgorithms || usernameAnonymity
      ? { passwordAlgorithms, usernameAnonymity }
      : undefined;
  }

  /** The PASSWORD-ALGORITHM code (RFC 8489 §18.5) of an enabled algorithm, else undefined. */
  enabledAlgorithm(code: number): PasswordAlgorithm | undefined {
    return this.passwordAlgorithms.find((a) => ALGORITHM_CODES[a] === code);
  }

  /**
   * The key(s) for `username` at `nowMs`. Static users win over REST. Failure reasons:
   * `malformed-username` (empty, too long, or REST is on and it is neither a static user nor
   * a REST username), `expired` (a REST username past its expiry), `unknown-user` (REST is off
   * and no static user has that name). The caller answers 401 for all of them.
   */
  lookup(username: string, nowMs: number, algorithm: PasswordAlgorithm = 'md5'): KeyLookup {
    if (username === '' || Buffer.byteLength(username, 'utf8') > MAX_USERNAME_BYTES) {
      return MALFORMED;
    }
    const found = this.statics.get(username);
    if (found) return algorithm === 'md5' ? found.md5 : this.staticSha256(username, found);
    if (this.secrets.length === 0) return UNKNOWN;
    const colon = username.indexOf(':');
    const expiryText = colon === -1 ? username : username.slice(0, colon);
    const user = colon === -1 ? username : username.slice(colon + 1);
    if (!REST_EXPIRY.test(expiryText) || user === '') return MALFORMED;
    const expiresAtMs = Number(expiryText) * 1000;
    if (nowMs >= expiresAtMs) return EXPIRED;
    const keys = this.secrets.map((secret) =>
      longTermKey(username, this.realm, hmacSha1Base64(secret, username), algorithm),
    );
    return { ok: true, key: keys[0], keys, user, source: 'rest', expiresAtMs };
  }

  /**
   * The static username whose USERHASH (RFC 8489 §14.4: SHA-256 of `username ":" realm`) is
   * `userhash`, for clients that hide their username. REST usernames cannot be found this
   * way: the server cannot enumerate them.
   */
  usernameForHash(userhash: Uint8Array): string | undefined {
    if (!this.userhashes) {
      this.userhashes = new Map();
      for (const name of this.statics.keys()) {
        const hash = createHash('sha256').update(`${name}:${this.realm}`, 'utf8').digest('hex');
        this.userhashes.set(hash, name);
      }
    }
    return this.userhashes.get(Buffer.from(userhash).toString('hex'));
  }

  private staticSha256(name: string, user: StaticUser): KeyFound {
    if (!user.sha256) {
      const key = longTermKey(name, this.realm, user.password, 'sha256');
      user.sha256 = { ok: true, key, keys: Object.freeze([key]), user: name, source: 'static' };
    }
    return user.sha256;
  }
}

interface StaticUser {
  password: string;
  md5: KeyFound;
  sha256?: KeyFound;
}

const MALFORMED: KeyLookup = Object.freeze({ ok: false, reason: 'malformed-username' });
const UNKNOWN: KeyLookup = Object.freeze({ ok: false, reason: 'unknown-user' });
const EXPIRED: KeyLookup = Object.freeze({ ok: false, reason: 'expired' });

function algorithmList(list: readonly PasswordAlgorithm[]): readonly PasswordAlgorithm[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('CredentialStore: passwordAlgorithms must be a non-empty array');
  }
  for (const [i, a] of list.entries()) {
    if (!Object.hasOwn(ALGORITHM_CODES, a) || list.indexOf(a) !== i) {
      throw new TypeError(
        `CredentialStore: passwordAlgorithms takes 'md5' and 'sha256' once each, got ${String(a)}`,
      );
    }
  }
  return Object.freeze([...list]);
}

function hmacSha1Base64(secret: KeyObject | string, data: string): string {
  return createHmac('sha1', secret).update(data, 'utf8').digest('base64');
}

/**
 * The TURN REST API password for `username`: `base64(HMAC-SHA1(secret, username))`, over the
 * UTF-8 bytes of both. This is what a signaling server hands out with the username.
 */
export function restPassword(secret: string, username: string): string {
  return hmacSha1Base64(secret, username);
}

/**
 * Parses a users file: one `name:password` per line, split at the first colon so that
 * passwords may contain colons (names cannot). Lines and the text either side of that colon
 * are trimmed, so a password cannot begin or end with white space; blank lines and lines
 * starting with `#` are skipped (a `#` later in a line is part of the password). A later line
 * for the same name wins.
 *
 * @throws TypeError naming the line number of a line without a colon, an empty name or an
 *   empty password.
 */
export function parseUsersFile(text: string): Record<string, string> {
  const users: Record<string, string> = Object.create(null);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    const password = colon === -1 ? '' : line.slice(colon + 1).trim();
    if (name === '' || password === '') {
      throw new TypeError(`users file line ${i + 1}: expected 'name:password'`);
    }
    users[name] = password;
  }
  return users;
}
