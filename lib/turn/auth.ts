import { decodePasswordAlgorithm } from '../stun/attributes/password-algorithms.js';
import { decodeString, StringLimit } from '../stun/attributes/string.js';
import { decodeUserhash } from '../stun/attributes/userhash.js';
import type { StunMessageBuilder } from '../stun/builder.js';
import { PasswordAlgorithm as AlgorithmCode, AttributeType } from '../stun/constants.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from '../stun/integrity.js';
import type { StunMessage } from '../stun/message.js';
import type { CredentialStore, PasswordAlgorithm } from './credentials.js';
import type { ClientRef } from './effects.js';
import type { NonceIssuer } from './nonce.js';
import type { TurnObserver } from './observer.js';
import { authenticatedReply, type ReplyInfo, responseBuilder } from './reply.js';

/** Who sent an authenticated request, and how to answer it (with MESSAGE-INTEGRITY). */
export interface Authenticated {
  /** USERNAME as sent, or the static name a USERHASH stands for. */
  username: string;
  user: string;
  reply: ReplyInfo;
}

export interface AuthDeps<C extends ClientRef> {
  readonly credentials: CredentialStore;
  /**
   * Issues and checks NONCEs. Its cookie decides whether password algorithms are negotiated:
   * make it with `securityFeatures: credentials.securityFeatures()`.
   */
  readonly nonces: NonceIssuer;
  readonly observer: TurnObserver;
  /** Sends an error response; for 401 and 438 with REALM and a fresh NONCE (`challenge`). */
  answer(client: C, reply: ReplyInfo, code: number, now: number): void;
}

/**
 * The long-term credential mechanism on the server side (RFC 8489 §9.2.4), in its order:
 * 1. no MESSAGE-INTEGRITY(-SHA256) → 401 with REALM, a fresh NONCE and, when negotiating,
 *    PASSWORD-ALGORITHMS (the challenge; not counted as a failure);
 * 2. integrity without USERNAME or USERHASH, REALM or NONCE → 400;
 * 3. a NONCE that is not ours, or is too old → 438 with a fresh NONCE. RFC 8489 checks this
 *    last; it comes first here (as in RFC 5389) because step 4 depends on what the nonce
 *    announced, which only a nonce we issued tells truthfully;
 * 4. the password algorithm (`choosePasswordAlgorithm`) → 400 on a mismatch or bid-down;
 * 5. a REALM other than ours, a USERHASH naming no static user, an unknown, malformed or
 *    expired username → 401;
 * 6. integrity that no candidate key verifies → 401. MESSAGE-INTEGRITY-SHA256 is checked
 *    when present (it supersedes SHA-1, §14.6); several keys are candidates during a REST
 *    secret rotation.
 * Answers the request itself on failure and returns undefined.
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
  const identity = identityOf(m);
  const realm = stringOf(m, AttributeType.REALM, StringLimit.REALM);
  const nonce = stringOf(m, AttributeType.NONCE, StringLimit.NONCE);
  if (identity === undefined || realm === undefined || nonce === undefined) {
    return fail(deps, client, info, now, 400, 'missing-attributes');
  }
  const nonceState = deps.nonces.check(nonce, client.key, now);
  if (nonceState !== 'ok') return fail(deps, client, info, now, 438, `${nonceState}-nonce`);
  const negotiating = deps.nonces.features?.passwordAlgorithms === true;
  const algorithm = choosePasswordAlgorithm(deps.credentials, negotiating, m);
  if (!algorithm.ok) return fail(deps, client, info, now, 400, algorithm.reason);
  const credentials = deps.credentials;
  if (realm !== credentials.realm) return fail(deps, client, info, now, 401, 'wrong-realm');
  const username = typeof identity === 'string' ? identity : credentials.usernameForHash(identity);
  // §9.2.4: a USERHASH that is "not valid" is a 401 like a bad USERNAME. REST usernames land
  // here too: their hash cannot be inverted (the server cannot enumerate them).
  if (username === undefined) return fail(deps, client, info, now, 401, 'unknown-userhash');
  const found = credentials.lookup(username, now, algorithm.name);
  if (!found.ok) return fail(deps, client, info, now, 401, found.reason);
  const verify = sha256 ? verifyMessageIntegritySha256 : verifyMessageIntegrity;
  const key = found.keys.find((k) => verify(m, k));
  if (key === undefined) return fail(deps, client, info, now, 401, 'bad-integrity');
  return {
    username,
    user: found.user,
    reply: authenticatedReply(info, m, key, algorithm.negotiated),
  };
}

export type PasswordAlgorithmChoice =
  | {
      ok: true;
      name: PasswordAlgorithm;
      /** The request named it in PASSWORD-ALGORITHM (false: MD5 by default). */
      negotiated: boolean;
    }
  | {
      ok: false;
      reason: 'md5-disabled' | 'password-algorithms-mismatch' | 'unsupported-password-algorithm';
    };

const MD5_BY_DEFAULT: PasswordAlgorithmChoice = Object.freeze({
  ok: true,
  name: 'md5',
  negotiated: false,
});

/**
 * The password algorithm of request `m` (RFC 8489 §9.2.4), `negotiating` if the nonce it
 * carries announced PASSWORD-ALGORITHMS:
 * - with neither PASSWORD-ALGORITHM nor PASSWORD-ALGORITHMS it is MD5, whatever the nonce
 *   said: every RFC 5389 client (browsers, coturn's tools) ignores the offer and keeps
 *   working. Refused (`md5-disabled`) only when MD5 is not enabled;
 * - otherwise both must be present, PASSWORD-ALGORITHMS must be the very value the challenge
 *   offered (an attacker who struck SHA-256 from the offer to bid the client down is caught
 *   here), and PASSWORD-ALGORITHM one of its entries, without parameters. Without
 *   negotiation nothing was offered, so nothing can be chosen.
 */
export function choosePasswordAlgorithm(
  credentials: CredentialStore,
  negotiating: boolean,
  m: StunMessage,
): PasswordAlgorithmChoice {
  const chosen = m.get(AttributeType.PASSWORD_ALGORITHM);
  const offered = m.value(AttributeType.PASSWORD_ALGORITHMS);
  if (chosen === undefined && offered === undefined) {
    return credentials.enabledAlgorithm(AlgorithmCode.MD5) === 'md5'
      ? MD5_BY_DEFAULT
      : { ok: false, reason: 'md5-disabled' };
  }
  if (
    !negotiating ||
    chosen === undefined ||
    offered === undefined ||
    !offered.equals(credentials.passwordAlgorithmsValue)
  ) {
    return { ok: false, reason: 'password-algorithms-mismatch' };
  }
  const entry = decodePasswordAlgorithm(m, chosen);
  const name =
    entry !== undefined && entry.parameters.length === 0
      ? credentials.enabledAlgorithm(entry.algorithm)
      : undefined;
  return name === undefined
    ? { ok: false, reason: 'unsupported-password-algorithm' }
    : { ok: true, name, negotiated: true };
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

/**
 * USERNAME, else a view of the 32-byte USERHASH (RFC 8489 §14.4); undefined if neither is
 * present or the one present is malformed (→ 400).
 */
function identityOf(m: StunMessage): string | Buffer | undefined {
  if (m.has(AttributeType.USERNAME)) {
    return stringOf(m, AttributeType.USERNAME, StringLimit.USERNAME);
  }
  const userhash = m.get(AttributeType.USERHASH);
  return userhash === undefined ? undefined : decodeUserhash(m, userhash);
}

/**
 * The 401/438 error response body: REALM, a NONCE fresh for this client and, when that
 * nonce's cookie announces password algorithms, PASSWORD-ALGORITHMS (RFC 8489 §9.2.4; a
 * client that sees the bit without the attribute must give up, §9.2.5).
 */
export function challenge(
  credentials: CredentialStore,
  nonces: NonceIssuer,
  client: ClientRef,
  info: ReplyInfo,
  code: number,
  now: number,
): StunMessageBuilder {
  const builder = responseBuilder(info, code)
    .addString(AttributeType.REALM, credentials.realm)
    .addString(AttributeType.NONCE, nonces.issue(client.key, now));
  if (nonces.features?.passwordAlgorithms) {
    builder.add(AttributeType.PASSWORD_ALGORITHMS, credentials.passwordAlgorithmsValue);
  }
  return builder;
}
