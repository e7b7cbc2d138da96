import {
  AttributeType,
  decodePasswordAlgorithms,
  decodeString,
  encodePasswordAlgorithm,
  longTermKey,
  PasswordAlgorithm,
  type PasswordAlgorithmName,
  passwordAlgorithm,
  StringLimit,
  type StunAttribute,
  type StunMessage,
  type StunMessageBuilder,
  userhash,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../stun/index.js';
import { parseNonceCookie } from './nonce.js';

/** The credentials a request was signed with, kept to verify its response. */
export interface SigningKey {
  readonly key: Buffer;
  /** The request carried MESSAGE-INTEGRITY-SHA256 (else MESSAGE-INTEGRITY). */
  readonly sha256: boolean;
}

/** How a response's integrity checked out against the key its request was signed with. */
export type IntegrityVerdict = 'ok' | 'missing' | 'bad';

/**
 * What a 401 or 438 taught: `ok` (retry), or why retrying is useless or forbidden:
 * - `no-credentials`: the client has none;
 * - `incomplete`: no NONCE, or no REALM ever;
 * - `password-algorithms-missing`: the nonce cookie announces password algorithms but the
 *   response lacks PASSWORD-ALGORITHMS (someone struck it: "the client MUST NOT retry");
 * - `no-supported-password-algorithm`: PASSWORD-ALGORITHMS names none the client supports,
 *   or the client does not support MD5 and the server offered nothing (a classic server).
 */
export type LearnOutcome =
  | 'ok'
  | 'no-credentials'
  | 'incomplete'
  | 'password-algorithms-missing'
  | 'no-supported-password-algorithm';

/** Every algorithm the client knows, the default of `passwordAlgorithms`. */
export const SUPPORTED_PASSWORD_ALGORITHMS: readonly PasswordAlgorithmName[] = Object.freeze([
  'md5',
  'sha256',
]);

const ALGORITHM_NAMES: ReadonlyMap<number, PasswordAlgorithmName> = new Map([
  [PasswordAlgorithm.MD5, 'md5'],
  [PasswordAlgorithm.SHA256, 'sha256'],
]);

/**
 * Client side of the long-term credential mechanism (RFC 8489 §9.2): the first request goes
 * without credentials; a 401 teaches REALM and NONCE and, from RFC 8489 servers,
 * PASSWORD-ALGORITHMS and (in the nonce cookie) whether to hide the username; a 438 brings a
 * new NONCE. Requests are then signed:
 * - classic servers (no PASSWORD-ALGORITHMS, e.g. coturn 4.6): USERNAME, REALM, NONCE and
 *   MESSAGE-INTEGRITY under the MD5 key, as in RFC 5389;
 * - RFC 8489 servers (§9.2.5): PASSWORD-ALGORITHMS echoed byte for byte, PASSWORD-ALGORITHM
 *   naming the first algorithm on the server's list that the client supports, and
 *   MESSAGE-INTEGRITY-SHA256 only, under that algorithm's key — even when it is MD5;
 * - USERHASH instead of USERNAME when the nonce cookie sets "Username anonymity".
 */
export class LongTermAuth {
  private realm: string | undefined;
  private nonce: string | undefined;
  private key: Buffer | undefined;
  private algorithm: PasswordAlgorithmName = 'md5';
  /** The PASSWORD-ALGORITHMS value of the challenge, echoed back (RFC 8489 §9.2.5). */
  private offered: Buffer | undefined;
  /** USERHASH of username and realm, when the nonce cookie asks for anonymity. */
  private hashedUsername: Buffer | undefined;

  /** `supported`: the password algorithms the client may use; order does not matter. */
  constructor(
    private readonly username: string | undefined,
    private readonly password: string | undefined,
    private readonly supported: readonly PasswordAlgorithmName[] = SUPPORTED_PASSWORD_ALGORITHMS,
  ) {}

  get hasCredentials(): boolean {
    return this.username !== undefined && this.password !== undefined;
  }

  /**
   * Learns REALM, NONCE, PASSWORD-ALGORITHMS and the nonce cookie's features from a 401 or a
   * 438 (which may omit REALM: the previous one stays). Anything but `ok` leaves the state as
   * it was, and the caller must not retry.
   */
  learn(response: StunMessage): LearnOutcome {
    if (this.username === undefined || this.password === undefined) return 'no-credentials';
    const nonce = readString(response, AttributeType.NONCE);
    const realm = readString(response, AttributeType.REALM) ?? this.realm;
    if (nonce === undefined || realm === undefined) return 'incomplete';
    const features = parseNonceCookie(nonce);
    const offered = response.get(AttributeType.PASSWORD_ALGORITHMS);
    if (offered === undefined && features?.passwordAlgorithms) {
      return 'password-algorithms-missing';
    }
    let algorithm: PasswordAlgorithmName | undefined = 'md5';
    let offeredValue: Buffer | undefined;
    if (offered !== undefined) {
      algorithm = this.firstSupported(response, offered);
      offeredValue = response.buffer.subarray(offered.offset, offered.offset + offered.length);
    } else if (response.has(AttributeType.REALM) || this.offered === undefined) {
      // A full challenge without the RFC 8489 feature (a classic server): MD5, RFC 5389 style.
      // A 438 that only brings a NONCE keeps what the last challenge offered.
      algorithm = this.supported.includes('md5') ? 'md5' : undefined;
    } else {
      algorithm = this.algorithm;
      offeredValue = this.offered;
    }
    if (algorithm === undefined) return 'no-supported-password-algorithm';
    if (realm !== this.realm || algorithm !== this.algorithm || this.key === undefined) {
      this.key = longTermKey(this.username, realm, this.password, algorithm);
    }
    // A copy: the response's buffer belongs to the transport.
    this.offered = offeredValue && Buffer.from(offeredValue);
    this.hashedUsername = features?.usernameAnonymity ? userhash(this.username, realm) : undefined;
    this.realm = realm;
    this.nonce = nonce;
    this.algorithm = algorithm;
    return 'ok';
  }

  /**
   * Adds USERNAME or USERHASH, REALM, NONCE, PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM (when
   * the server offered them) and the integrity attribute; call last before FINGERPRINT.
   * Returns the key to verify the response with, or undefined (and adds nothing) before a
   * challenge taught realm and nonce.
   */
  sign(b: StunMessageBuilder): SigningKey | undefined {
    const key = this.key;
    if (key === undefined || this.nonce === undefined || this.realm === undefined) return;
    if (this.hashedUsername !== undefined) b.add(AttributeType.USERHASH, this.hashedUsername);
    else b.addString(AttributeType.USERNAME, this.username!);
    b.addString(AttributeType.REALM, this.realm);
    b.addString(AttributeType.NONCE, this.nonce);
    if (this.offered === undefined) {
      b.addMessageIntegrity(key);
      return { key, sha256: false };
    }
    const code = this.algorithm === 'sha256' ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5;
    b.add(AttributeType.PASSWORD_ALGORITHMS, this.offered);
    b.add(AttributeType.PASSWORD_ALGORITHM, encodePasswordAlgorithm(passwordAlgorithm(code)));
    // §9.2.5: "If the response contains a PASSWORD-ALGORITHMS attribute, all the subsequent
    // requests MUST be authenticated using MESSAGE-INTEGRITY-SHA256 only."
    b.addMessageIntegritySha256(key);
    return { key, sha256: true };
  }

  /** §9.2.5: "the first algorithm supported on the list" — the server's order decides. */
  private firstSupported(
    response: StunMessage,
    offered: StunAttribute,
  ): PasswordAlgorithmName | undefined {
    for (const entry of decodePasswordAlgorithms(response, offered) ?? []) {
      const name = ALGORITHM_NAMES.get(entry.algorithm);
      // MD5 and SHA-256 take no parameters (§18.5): an entry with some is another algorithm.
      if (name !== undefined && entry.parameters.length === 0 && this.supported.includes(name)) {
        return name;
      }
    }
    return undefined;
  }
}

/**
 * RFC 8489 §9.2.5: "For all other responses [than 401 and 438], if the NONCE attribute starts
 * with the 'nonce cookie' with the STUN Security Feature 'Password algorithms' bit set to 1 but
 * PASSWORD-ALGORITHMS is not present, the response MUST be ignored."
 */
export function lacksAnnouncedAlgorithms(response: StunMessage): boolean {
  const nonce = readString(response, AttributeType.NONCE);
  if (nonce === undefined || response.has(AttributeType.PASSWORD_ALGORITHMS)) return false;
  return parseNonceCookie(nonce)?.passwordAlgorithms === true;
}

/**
 * Checks a response to a signed request (RFC 8489 §9.2.5): MESSAGE-INTEGRITY-SHA256 if the
 * request used it, else MESSAGE-INTEGRITY.
 */
export function verifyResponse(response: StunMessage, signing: SigningKey): IntegrityVerdict {
  if (signing.sha256) {
    if (!response.has(AttributeType.MESSAGE_INTEGRITY_SHA256)) return 'missing';
    return verifyMessageIntegritySha256(response, signing.key) ? 'ok' : 'bad';
  }
  if (!response.has(AttributeType.MESSAGE_INTEGRITY)) return 'missing';
  return verifyMessageIntegrity(response, signing.key) ? 'ok' : 'bad';
}

function readString(m: StunMessage, type: number): string | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : decodeString(m, a, StringLimit.NONCE);
}
