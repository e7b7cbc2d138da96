import { randomBytes } from 'node:crypto';
import { writeAddressValue } from '../stun/attributes/address.js';
import { decodeTieBreaker, encodeTieBreaker } from '../stun/attributes/ice.js';
import { decodeString, StringLimit } from '../stun/attributes/string.js';
import { StunMessageBuilder } from '../stun/builder.js';
import {
  AttributeType,
  ErrorCode,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  StunClass,
  StunMethod,
  TRANSACTION_ID_LENGTH,
} from '../stun/constants.js';
import { fingerprintValue, verifyFingerprint } from '../stun/fingerprint.js';
import { shortTermKey } from '../stun/integrity.js';
import {
  decodeStunMessage,
  isStunMessage,
  type StunMessage,
  unknownComprehensionRequired,
} from '../stun/message.js';
import type { TransportAddress } from '../stun/transport-address.js';
import { CheckKey } from './check-hmac.js';

/** Message type of a Binding success response (RFC 8489 §5: class 0b10, method 0x001). */
const BINDING_SUCCESS = 0x0101;

/**
 * ICE's use of STUN (RFC 8445 §7): Binding requests and responses authenticated with
 * short-term credentials. USERNAME is `<receiver's ufrag>:<sender's ufrag>` and the
 * MESSAGE-INTEGRITY key is the receiver's password (§7.2.2), so a request is keyed with the
 * remote password and its response with the local one.
 *
 * Everything that takes network bytes here returns a verdict and never throws.
 */

/** What an outgoing connectivity check carries (RFC 8445 §7.1.1). */
export interface CheckRequestFields {
  localUfrag: string;
  remoteUfrag: string;
  remotePwd: string;
  /** PRIORITY: the priority of a peer-reflexive candidate learned from this check. */
  priority: number;
  role: 'controlling' | 'controlled';
  tieBreaker: bigint;
  /** USE-CANDIDATE (controlling agent nominating this pair). */
  useCandidate?: boolean;
}

/**
 * Comprehension-required attributes (< 0x8000) an ICE Binding request or response may
 * carry. Anything else in that range makes a request fail with 420 (RFC 8489 §6.3.1).
 */
export const ICE_KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set<number>([
  AttributeType.MAPPED_ADDRESS,
  AttributeType.USERNAME,
  AttributeType.MESSAGE_INTEGRITY,
  AttributeType.ERROR_CODE,
  AttributeType.UNKNOWN_ATTRIBUTES,
  AttributeType.REALM,
  AttributeType.NONCE,
  AttributeType.MESSAGE_INTEGRITY_SHA256,
  AttributeType.XOR_MAPPED_ADDRESS,
  AttributeType.PRIORITY,
  AttributeType.USE_CANDIDATE,
]);

/**
 * A short-term key: a `CheckKey` (prepared once, the fast path), bytes (an already prepared
 * key), or a string (a password, prepared on every call).
 */
export type ShortTermSecret = string | Uint8Array | CheckKey;

/** The `CheckKey` of a password (RFC 8489 §9.1.1 preparation, then the HMAC key schedule). */
export function checkKeyOf(secret: ShortTermSecret): CheckKey {
  if (secret instanceof CheckKey) return secret;
  return new CheckKey(typeof secret === 'string' ? shortTermKey(secret) : secret);
}

/** True if `m` carries a MESSAGE-INTEGRITY (HMAC-SHA1) that verifies under `key`. */
export function verifyCheckIntegrity(m: StunMessage, key: ShortTermSecret): boolean {
  const a = m.get(AttributeType.MESSAGE_INTEGRITY);
  if (a === undefined || a.length !== 20) return false;
  return checkKeyOf(key).verify(m.buffer, a.offset);
}

/**
 * Appends MESSAGE-INTEGRITY (when `key` is given) and FINGERPRINT to the message whose header
 * and attributes are `out[0, bodyEnd)`, in place: `out` must have room for 24 + 8 more bytes
 * (8 without a key). Sets the header length. Returns `out`.
 */
function seal(out: Buffer, bodyEnd: number, key: CheckKey | undefined): Buffer {
  let end = bodyEnd;
  if (key !== undefined) {
    out.writeUInt16BE(AttributeType.MESSAGE_INTEGRITY, end);
    out.writeUInt16BE(20, end + 2);
    key.sign(out, end, end + 24 - HEADER_LENGTH, out, end + 4);
    end += 24;
  }
  out.writeUInt16BE(end + 8 - HEADER_LENGTH, 2);
  out.writeUInt16BE(AttributeType.FINGERPRINT, end);
  out.writeUInt16BE(4, end + 2);
  out.writeUInt32BE(fingerprintValue(out, end), end + 4);
  return out;
}

/**
 * A connectivity check (RFC 8445 §7.1.1): USERNAME `remote:local`, PRIORITY,
 * ICE-CONTROLLING or ICE-CONTROLLED, USE-CANDIDATE if asked, MESSAGE-INTEGRITY under the
 * remote password, FINGERPRINT. `transactionId` defaults to 12 random bytes.
 * Throws TypeError on misuse (bad priority, tie-breaker or transaction ID).
 */
export function buildCheckRequest(
  f: CheckRequestFields,
  transactionId: Uint8Array = randomBytes(TRANSACTION_ID_LENGTH),
): Buffer {
  const b = new StunMessageBuilder(StunClass.request, StunMethod.binding, transactionId)
    .addString(AttributeType.USERNAME, `${f.remoteUfrag}:${f.localUfrag}`)
    .addUint32(AttributeType.PRIORITY, f.priority)
    .add(
      f.role === 'controlling' ? AttributeType.ICE_CONTROLLING : AttributeType.ICE_CONTROLLED,
      encodeTieBreaker(f.tieBreaker),
    );
  if (f.useCandidate === true) b.add(AttributeType.USE_CANDIDATE, new Uint8Array(0));
  return b.addMessageIntegrity(shortTermKey(f.remotePwd)).addFingerprint().toBuffer();
}

/**
 * The success response to a check (RFC 8445 §7.3.1): XOR-MAPPED-ADDRESS = the source of the
 * request, MESSAGE-INTEGRITY under the local password (or prepared key), FINGERPRINT.
 */
export function buildCheckSuccess(
  request: StunMessage,
  mapped: TransportAddress,
  localPwd: ShortTermSecret,
): Buffer {
  const addressLength = mapped.family === 6 ? 20 : 8;
  const bodyEnd = HEADER_LENGTH + 4 + addressLength;
  const out = Buffer.allocUnsafe(bodyEnd + 24 + 8);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  out.set(request.transactionId, 8);
  out.writeUInt16BE(AttributeType.XOR_MAPPED_ADDRESS, HEADER_LENGTH);
  out.writeUInt16BE(addressLength, HEADER_LENGTH + 2);
  // XOR with the cookie and transaction ID just written (RFC 8489 §14.2); throws TypeError
  // for an address that is not a literal of its family.
  writeAddressValue(out, HEADER_LENGTH + 4, mapped, out.subarray(4, HEADER_LENGTH));
  return seal(out, bodyEnd, checkKeyOf(localPwd));
}

/**
 * An error response to a check: ERROR-CODE, UNKNOWN-ATTRIBUTES for a 420, MESSAGE-INTEGRITY
 * when the request authenticated (pass the local password: 420, 487), FINGERPRINT. A 400 or
 * 401 goes without integrity: the request could not be authenticated (RFC 8489 §9.1.3).
 */
export function buildCheckError(
  request: StunMessage,
  code: number,
  localPwd?: ShortTermSecret,
  unknownAttributes?: readonly number[],
): Buffer {
  const b = StunMessageBuilder.responseTo(request, StunClass.error).addErrorCode(code);
  if (code === ErrorCode.UNKNOWN_ATTRIBUTE && unknownAttributes !== undefined) {
    b.addUnknownAttributes(unknownAttributes);
  }
  const body = b.toBuffer();
  const out = Buffer.allocUnsafe(body.length + (localPwd === undefined ? 0 : 24) + 8);
  body.copy(out);
  return seal(out, body.length, localPwd === undefined ? undefined : checkKeyOf(localPwd));
}

/**
 * Why a check request was refused. The error response each one calls for (RFC 8489 §6.3,
 * §9.1.3): `not-stun`, `bad-fingerprint` → none (drop: it may not even be STUN);
 * `no-username`, `malformed` → 400; `unknown-ufrag`, `bad-integrity` → 401 without
 * integrity; `unknown-attribute` → 420 with integrity.
 */
export type CheckRejection =
  | 'not-stun'
  | 'bad-fingerprint'
  | 'no-username'
  | 'unknown-ufrag'
  | 'bad-integrity'
  | 'malformed'
  | 'unknown-attribute';

/** The ICE attributes of an authenticated check. */
export interface CheckAttributes {
  priority: number;
  /** The sender's role; undefined if it sent neither ICE-CONTROLLING nor ICE-CONTROLLED. */
  role: 'controlling' | 'controlled' | undefined;
  /** The sender's tie-breaker (0n when `role` is undefined). */
  tieBreaker: bigint;
  useCandidate: boolean;
}

export type CheckVerdict =
  | ({
      ok: true;
      message: StunMessage;
      usernameLocal: string;
      usernameRemote: string;
    } & CheckAttributes)
  | {
      ok: false;
      reason: CheckRejection;
      /** Set once decoding got that far, so the caller can answer 400/401/420. */
      message?: StunMessage;
      /** For `unknown-attribute`: the types for UNKNOWN-ATTRIBUTES. */
      unknownAttributes?: number[];
    };

/** The result of `authenticateCheck`: the verdict plus what `lookup` returned. */
export type CheckAuthentication<T> =
  | (Extract<CheckVerdict, { ok: true }> & { entry: T })
  | (Extract<CheckVerdict, { ok: false }> & {
      /** Set for rejections after the USERNAME lookup succeeded (integrity, attributes). */
      entry?: T;
    });

/**
 * Parses and authenticates an incoming Binding request (RFC 8445 §7.3, RFC 8489 §6.3).
 * `lookup` maps the local ufrag (USERNAME before the colon) to the caller's record for it,
 * and `keyOf` gives that record's short-term key; a mux passes its session table so that
 * routing and authentication cost one lookup. Order of checks: STUN framing, FINGERPRINT
 * (required: ICE agents always send it, §7.1), USERNAME, ufrag, MESSAGE-INTEGRITY, then
 * unknown comprehension-required attributes and ICE attribute values. Never throws.
 */
export function authenticateCheck<T>(
  buf: Buffer,
  lookup: (localUfrag: string) => T | undefined,
  keyOf: (entry: T) => ShortTermSecret,
): CheckAuthentication<T> {
  if (!isStunMessage(buf)) return { ok: false, reason: 'not-stun' };
  const decoded = decodeStunMessage(buf);
  if (!decoded.ok) return { ok: false, reason: 'malformed' };
  const message = decoded.message;
  if (!verifyFingerprint(message)) return { ok: false, reason: 'bad-fingerprint' };
  if (message.messageClass !== StunClass.request || message.method !== StunMethod.binding) {
    return { ok: false, reason: 'malformed', message };
  }
  const u = message.get(AttributeType.USERNAME);
  if (u === undefined) return { ok: false, reason: 'no-username', message };
  const username = decodeString(message, u, StringLimit.USERNAME);
  const colon = username === undefined ? -1 : username.indexOf(':');
  if (username === undefined || colon <= 0) return { ok: false, reason: 'malformed', message };
  const usernameLocal = username.slice(0, colon);
  const entry = lookup(usernameLocal);
  if (entry === undefined) return { ok: false, reason: 'unknown-ufrag', message };
  if (!message.has(AttributeType.MESSAGE_INTEGRITY)) {
    return { ok: false, reason: 'malformed', message };
  }
  if (!verifyCheckIntegrity(message, keyOf(entry))) {
    return { ok: false, reason: 'bad-integrity', message, entry };
  }
  const unknown = unknownComprehensionRequired(message, ICE_KNOWN_ATTRIBUTES);
  if (unknown.length > 0) {
    return { ok: false, reason: 'unknown-attribute', message, unknownAttributes: unknown, entry };
  }
  const fields = readCheckAttributes(message);
  if (fields === undefined) return { ok: false, reason: 'malformed', message, entry };
  return {
    ok: true,
    message,
    usernameLocal,
    usernameRemote: username.slice(colon + 1),
    entry,
    ...fields,
  };
}

/**
 * PRIORITY (required, RFC 8445 §7.1.1), ICE-CONTROLLING/-CONTROLLED (at most one),
 * USE-CANDIDATE (empty); undefined if any is missing or malformed.
 */
export function readCheckAttributes(m: StunMessage): CheckAttributes | undefined {
  const p = m.get(AttributeType.PRIORITY);
  if (p === undefined || p.length !== 4) return undefined;
  const priority = m.buffer.readUInt32BE(p.offset);
  const controlling = m.get(AttributeType.ICE_CONTROLLING);
  const controlled = m.get(AttributeType.ICE_CONTROLLED);
  if (controlling !== undefined && controlled !== undefined) return undefined;
  const roleAttr = controlling ?? controlled;
  let tieBreaker = 0n;
  if (roleAttr !== undefined) {
    const t = decodeTieBreaker(m, roleAttr);
    if (t === undefined) return undefined;
    tieBreaker = t;
  }
  const uc = m.get(AttributeType.USE_CANDIDATE);
  if (uc !== undefined && uc.length !== 0) return undefined;
  return {
    priority,
    role: controlling ? 'controlling' : controlled ? 'controlled' : undefined,
    tieBreaker,
    useCandidate: uc !== undefined,
  };
}

/**
 * `authenticateCheck` with a password lookup, as the ICE contract has it. The password is
 * prepared on every call; a hot path keeps prepared keys and calls `authenticateCheck`.
 */
export function verifyCheckRequest(
  buf: Buffer,
  passwordFor: (localUfrag: string) => string | undefined,
): CheckVerdict {
  const { entry: _password, ...verdict } = authenticateCheck(buf, passwordFor, (p) => p);
  return verdict;
}

/**
 * A Binding success or error response to one of our checks, if it is framed, fingerprinted
 * and carries a MESSAGE-INTEGRITY under the remote password (RFC 8445 §7.2.5.1, RFC 8489
 * §9.1.4: a response without valid integrity is discarded as if never received). Matching
 * the transaction ID is the caller's job.
 */
export function verifyCheckResponse(
  buf: Buffer,
  remotePwd: ShortTermSecret,
): StunMessage | undefined {
  if (!isStunMessage(buf)) return undefined;
  const decoded = decodeStunMessage(buf);
  if (!decoded.ok) return undefined;
  const m = decoded.message;
  if (m.method !== StunMethod.binding) return undefined;
  if (m.messageClass !== StunClass.success && m.messageClass !== StunClass.error) return undefined;
  if (!verifyFingerprint(m)) return undefined;
  return verifyCheckIntegrity(m, remotePwd) ? m : undefined;
}
