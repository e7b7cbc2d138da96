import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless NONCEs for the long-term credential mechanism (RFC 8489 §9.2): the server keeps
 * no table of issued nonces. A nonce carries its own expiry and a MAC binding that expiry to
 * the client it was issued to, so a nonce seen from another 5-tuple or after its lifetime is
 * refused without any lookup, and every node sharing `secret` accepts the others' nonces.
 *
 * Layout (printable ASCII, 30 characters, 43 with the cookie):
 *   [ "obMatJos2" + base64(24-bit security features) ]   RFC 8489 §9.2 nonce cookie, optional
 *   base64url( expiry: 48-bit ms since the epoch, big-endian
 *            | HMAC-SHA256(secret, cookie | expiry | clientKey)[0..16) )
 */
export interface NonceIssuerOptions {
  /** How long an issued nonce is 'ok', in ms; after that it is 'stale' (438). */
  lifetimeMs: number;
  /**
   * MAC key, at least 16 bytes. Default: 32 random bytes, so nonces do not survive a restart
   * (clients then get 438 and retry) and are not shared between processes; pass the same
   * secret to every worker that should accept each other's nonces.
   */
  secret?: Buffer;
  /**
   * Prefix nonces with the RFC 8489 §9.2 nonce cookie announcing these STUN security
   * features (the cookie itself says "this server implements RFC 8489"). Default: no cookie,
   * the RFC 5389 behaviour that every deployed client expects.
   */
  securityFeatures?: SecurityFeatureOptions;
}

export interface SecurityFeatureOptions {
  /** Bit 0: PASSWORD-ALGORITHMS negotiation (RFC 8489 §9.2.4). */
  passwordAlgorithms?: boolean;
  /** Bit 1: USERHASH instead of USERNAME (RFC 8489 §9.2.4). */
  usernameAnonymity?: boolean;
}

/** The security features a nonce cookie announces. */
export interface SecurityFeatures {
  passwordAlgorithms: boolean;
  usernameAnonymity: boolean;
  /** All 24 bits, bit 0 being the most significant (RFC 8489 §18.1). */
  bits: number;
}

export type NonceCheck = 'ok' | 'stale' | 'invalid';

/** RFC 8489 §9.2: the nonce cookie starts with this. */
export const NONCE_COOKIE_PREFIX = 'obMatJos2';
const PASSWORD_ALGORITHMS_BIT = 0x800000;
const USERNAME_ANONYMITY_BIT = 0x400000;
const EXPIRY_BYTES = 6;
const MAX_EXPIRY = 2 ** (EXPIRY_BYTES * 8) - 1;
const MAC_BYTES = 16;
const BODY_CHARS = Math.ceil(((EXPIRY_BYTES + MAC_BYTES) * 8) / 6);
const BODY = /^[A-Za-z0-9_-]+$/;
const COOKIE_FEATURES = /^[A-Za-z0-9+/]{4}$/;

export class NonceIssuer {
  readonly lifetimeMs: number;
  /** The cookie prefix of every nonce, `''` without `securityFeatures`. */
  readonly cookie: string;
  /** What `cookie` announces; undefined without a cookie. */
  readonly features: SecurityFeatures | undefined;
  private readonly secret: Buffer;

  /** @throws TypeError on a lifetime that is not a positive integer or a secret under 16 bytes. */
  constructor(options: NonceIssuerOptions) {
    const { lifetimeMs, secret = randomBytes(32), securityFeatures } = options;
    if (!Number.isSafeInteger(lifetimeMs) || lifetimeMs <= 0) {
      throw new TypeError(`NonceIssuer: lifetimeMs must be a positive integer, got ${lifetimeMs}`);
    }
    if (!Buffer.isBuffer(secret) || secret.length < 16) {
      throw new TypeError('NonceIssuer: secret must be a Buffer of at least 16 bytes');
    }
    this.lifetimeMs = lifetimeMs;
    this.secret = Buffer.from(secret);
    this.cookie = securityFeatures ? nonceCookie(securityFeatures) : '';
    this.features = parseNonceCookie(this.cookie);
  }

  /**
   * A nonce for `clientKey` — whatever identifies the client to the caller, typically the
   * transport and 5-tuple (`udp/203.0.113.5:4000`) — valid until `nowMs + lifetimeMs`.
   *
   * @throws TypeError if `nowMs` is not a finite number.
   */
  issue(clientKey: string, nowMs: number): string {
    if (!Number.isFinite(nowMs)) throw new TypeError(`NonceIssuer: bad time ${nowMs}`);
    const expiry = Math.min(MAX_EXPIRY, Math.max(0, Math.floor(nowMs + this.lifetimeMs)));
    const body = Buffer.allocUnsafe(EXPIRY_BYTES + MAC_BYTES);
    body.writeUIntBE(expiry, 0, EXPIRY_BYTES);
    this.mac(body, clientKey).copy(body, EXPIRY_BYTES, 0, MAC_BYTES);
    return this.cookie + body.toString('base64url');
  }

  /**
   * 'ok' for a nonce this issuer (or one with the same secret and cookie) gave `clientKey`
   * and whose lifetime has not run out at `nowMs`; 'stale' if it did give it but the lifetime
   * is over; 'invalid' for anything else — malformed, tampered with, issued to another client,
   * or made with another secret (for instance before a restart with a random secret).
   *
   * RFC 8489 §9.2.4 has one answer for a nonce the server will not accept: 438 Stale Nonce
   * with a fresh NONCE. Callers should answer 438 to 'invalid' too, so that clients recover,
   * and may count the two reasons apart.
   */
  check(nonce: string, clientKey: string, nowMs: number): NonceCheck {
    if (typeof nonce !== 'string' || !nonce.startsWith(this.cookie)) return 'invalid';
    const text = nonce.slice(this.cookie.length);
    if (text.length !== BODY_CHARS || !BODY.test(text)) return 'invalid';
    const body = Buffer.from(text, 'base64url');
    // Reject the non-canonical spellings of the last character, so that one nonce has one text.
    if (body.length !== EXPIRY_BYTES + MAC_BYTES || body.toString('base64url') !== text) {
      return 'invalid';
    }
    const expected = this.mac(body, clientKey).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(expected, body.subarray(EXPIRY_BYTES))) return 'invalid';
    return nowMs < body.readUIntBE(0, EXPIRY_BYTES) ? 'ok' : 'stale';
  }

  private mac(body: Buffer, clientKey: string): Buffer {
    return createHmac('sha256', this.secret)
      .update(this.cookie, 'latin1')
      .update(body.subarray(0, EXPIRY_BYTES))
      .update(clientKey, 'utf8')
      .digest();
  }
}

/** The RFC 8489 §9.2 nonce cookie announcing `features`: 13 characters. */
export function nonceCookie(features: SecurityFeatureOptions): string {
  const bits =
    (features.passwordAlgorithms ? PASSWORD_ALGORITHMS_BIT : 0) |
    (features.usernameAnonymity ? USERNAME_ANONYMITY_BIT : 0);
  const bytes = Buffer.from([bits >>> 16, (bits >>> 8) & 0xff, bits & 0xff]);
  return NONCE_COOKIE_PREFIX + bytes.toString('base64');
}

/**
 * The security features announced by a nonce's RFC 8489 §9.2 cookie, or `undefined` if the
 * nonce has none (an RFC 5389 server, or a malformed cookie). Works on any server's nonce: a
 * client uses it to decide whether to send PASSWORD-ALGORITHM or USERHASH.
 */
export function parseNonceCookie(nonce: string): SecurityFeatures | undefined {
  if (!nonce.startsWith(NONCE_COOKIE_PREFIX)) return undefined;
  const encoded = nonce.slice(NONCE_COOKIE_PREFIX.length, NONCE_COOKIE_PREFIX.length + 4);
  if (!COOKIE_FEATURES.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  const bits = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
  return {
    passwordAlgorithms: (bits & PASSWORD_ALGORITHMS_BIT) !== 0,
    usernameAnonymity: (bits & USERNAME_ANONYMITY_BIT) !== 0,
    bits,
  };
}
