import { decodeString, StringLimit } from '../stun/attributes/string.js';
import type { StunMessageBuilder } from '../stun/builder.js';
import { AttributeType } from '../stun/constants.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from '../stun/integrity.js';
import type { StunMessage } from '../stun/message.js';
import type { CredentialStore } from './credentials.js';
import type { ClientRef } from './effects.js';
import type { NonceIssuer } from './nonce.js';
import type { TurnObserver } from './observer.js';
import { authenticatedReply, type ReplyInfo, responseBuilder } from './reply.js';

/** Who sent an authenticated request, and how to answer it (with MESSAGE-INTEGRITY). */
export interface Authenticated {
  username: string;
  user: string;
  reply: ReplyInfo;
}

export interface AuthDeps<C extends ClientRef> {
  readonly credentials: CredentialStore;
  readonly nonces: NonceIssuer;
  readonly observer: TurnObserver;
  /** Sends an error response; for 401 and 438 with REALM and a fresh NONCE (`challenge`). */
  answer(client: C, reply: ReplyInfo, code: number, now: number): void;
}

/**
 * The long-term credential mechanism on the server side (RFC 8489 §9.2.4), in its order:
 * 1. no MESSAGE-INTEGRITY(-SHA256) → 401 with REALM and a fresh NONCE (the challenge; not
 *    counted as a failure);
 * 2. integrity without USERNAME (or a known USERHASH), REALM or NONCE → 400;
 * 3. a NONCE that is not ours, or is too old → 438 with a fresh NONCE;
 * 4. a REALM other than ours, an unknown, malformed or expired username → 401;
 * 5. integrity that no candidate key verifies → 401. MESSAGE-INTEGRITY-SHA256 is checked
 *    when present (it supersedes SHA-1, §14.6); several keys are candidates during a REST
 *    secret rotation.
 * Answers the request itself on failure and returns undefined. Only the MD5 password
 * algorithm is offered (no PASSWORD-ALGORITHMS, no nonce cookie), which is what deployed
 * clients use.
 */
export function authenticate<C extends ClientRef>(
  deps: AuthDeps<C>,
  client: C,
  m: StunMessage,
  info: ReplyInfo,
  now: number,
): Authenticated | undefined {
  const sha256 = m.has(AttributeType.MESSAGE_INTEGRITY_SHA256);
  if (!sha256 && !m.has(AttributeType.MESSAGE_INTEGRITY)) {
    deps.answer(client, info, 401, now);
    return undefined;
  }
  const username = usernameOf(deps.credentials, m);
  const realm = stringOf(m, AttributeType.REALM, StringLimit.REALM);
  const nonce = stringOf(m, AttributeType.NONCE, StringLimit.NONCE);
  if (username === undefined || realm === undefined || nonce === undefined) {
    return fail(deps, client, info, now, 400, 'missing-attributes');
  }
  const nonceState = deps.nonces.check(nonce, client.key, now);
  if (nonceState !== 'ok') return fail(deps, client, info, now, 438, `${nonceState}-nonce`);
  if (realm !== deps.credentials.realm) return fail(deps, client, info, now, 401, 'wrong-realm');
  const found = deps.credentials.lookup(username, now);
  if (!found.ok) return fail(deps, client, info, now, 401, found.reason);
  const verify = sha256 ? verifyMessageIntegritySha256 : verifyMessageIntegrity;
  const key = found.keys.find((k) => verify(m, k));
  if (key === undefined) return fail(deps, client, info, now, 401, 'bad-integrity');
  return { username, user: found.user, reply: authenticatedReply(info, m, key) };
}

function fail<C extends ClientRef>(
  deps: AuthDeps<C>,
  client: C,
  info: ReplyInfo,
  now: number,
  code: number,
  reason: string,
): undefined {
  deps.observer.authFailure(reason);
  deps.answer(client, info, code, now);
  return undefined;
}

function stringOf(m: StunMessage, type: number, limit: number): string | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : decodeString(m, a, limit);
}

/** USERNAME, or the static user a USERHASH (RFC 8489 §14.4) names. */
function usernameOf(credentials: CredentialStore, m: StunMessage): string | undefined {
  const username = stringOf(m, AttributeType.USERNAME, StringLimit.USERNAME);
  if (username !== undefined) return username;
  const userhash = m.value(AttributeType.USERHASH);
  return userhash && userhash.length === 32 ? credentials.usernameForHash(userhash) : undefined;
}

/** The 401/438 error response body: REALM and a NONCE fresh for this client. */
export function challenge(
  credentials: CredentialStore,
  nonces: NonceIssuer,
  client: ClientRef,
  info: ReplyInfo,
  code: number,
  now: number,
): StunMessageBuilder {
  return responseBuilder(info, code)
    .addString(AttributeType.REALM, credentials.realm)
    .addString(AttributeType.NONCE, nonces.issue(client.key, now));
}
