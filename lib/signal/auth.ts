import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';

/**
 * Client authentication with JWTs (jose): HS256 against a shared secret, or RS256/ES256 against
 * a JWKS URL (fetched on first use and cached, refetched for an unknown `kid`). Claims:
 * `sub` names the user, `rooms` lists the rooms the token admits — exact names, or patterns
 * where `*` matches any run of characters (`"team-*"`, `"*"`). `exp` and `nbf` are checked
 * when present.
 */
export interface Identity {
  /** JWT `sub`; undefined without auth. */
  user: string | undefined;
  /** Room patterns; `['*']` without auth. */
  rooms: readonly string[];
}

export type AuthResult = { ok: true; identity: Identity } | { ok: false; message: string };

export interface AuthenticatorOptions {
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  noAuth?: boolean;
}

const EVERYONE: Identity = Object.freeze({ user: undefined, rooms: Object.freeze(['*']) });

export class Authenticator {
  readonly required: boolean;
  private readonly verifyToken: ((token: string) => Promise<JWTPayload>) | undefined;

  constructor(o: AuthenticatorOptions) {
    this.required = !o.noAuth;
    if (o.jwtSecret !== undefined) {
      const key = new TextEncoder().encode(o.jwtSecret);
      this.verifyToken = async (token) =>
        (await jwtVerify(token, key, { algorithms: ['HS256'] })).payload;
    } else if (o.jwksUrl !== undefined) {
      const jwks = createRemoteJWKSet(new URL(o.jwksUrl), { timeoutDuration: 5000 });
      this.verifyToken = async (token) =>
        (await jwtVerify(token, jwks, { algorithms: ['RS256', 'ES256'] })).payload;
    }
  }

  /** Checks `token`. Without auth every token (or none) is everyone. Never throws. */
  async verify(token: string | undefined): Promise<AuthResult> {
    if (!this.required) return { ok: true, identity: EVERYONE };
    if (token === undefined || token === '') return { ok: false, message: 'a token is required' };
    if (this.verifyToken === undefined) return { ok: false, message: 'no key to verify tokens' };
    let payload: JWTPayload;
    try {
      payload = await this.verifyToken(token);
    } catch (err) {
      return { ok: false, message: describe(err) };
    }
    const rooms = payload.rooms;
    if (!Array.isArray(rooms) || !rooms.every((r) => typeof r === 'string')) {
      return { ok: false, message: 'the token has no "rooms" claim (an array of room names)' };
    }
    const user = typeof payload.sub === 'string' ? payload.sub : undefined;
    return { ok: true, identity: { user, rooms } };
  }
}

/** Whether `identity` may join `room`. */
export function roomAllowed(identity: Identity, room: string): boolean {
  return identity.rooms.some((pattern) => matchRoom(pattern, room));
}

export function matchRoom(pattern: string, room: string): boolean {
  if (!pattern.includes('*')) return pattern === room;
  const parts = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(room);
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim: ${err.message}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad token signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token';
  if (err instanceof errors.JOSEError) return `invalid token (${err.code})`;
  return 'invalid token';
}
