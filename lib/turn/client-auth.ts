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
  type StunMessage,
  type StunMessageBuilder,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../stun/index.js';

/** The credentials a request was signed with, kept to verify its response. */
export interface SigningKey {
  readonly key: Buffer;
  readonly sha256: boolean;
}

/** How a response's integrity checked out against the key its request was signed with. */
export type IntegrityVerdict = 'ok' | 'missing' | 'bad';

/**
 * Client side of the long-term credential mechanism (RFC 8489 §9.2): the first request goes
 * without credentials; a 401 teaches REALM and NONCE (and, from RFC 8489 servers,
 * PASSWORD-ALGORITHMS); later requests carry USERNAME, REALM, NONCE and MESSAGE-INTEGRITY
 * (or MESSAGE-INTEGRITY-SHA256 with the SHA-256 password algorithm); a 438 brings a new NONCE.
 */
export class LongTermAuth {
  private realm: string | undefined;
  private nonce: string | undefined;
  private key: Buffer | undefined;
  private algorithm: PasswordAlgorithmName = 'md5';
  /** The PASSWORD-ALGORITHMS value of the challenge, echoed back (RFC 8489 §9.2.4). */
  private offered: Buffer | undefined;

  constructor(
    private readonly username: string | undefined,
    private readonly password: string | undefined,
    private readonly preferred: PasswordAlgorithmName = 'md5',
  ) {}

  get hasCredentials(): boolean {
    return this.username !== undefined && this.password !== undefined;
  }

  /**
   * Learns REALM, NONCE and PASSWORD-ALGORITHMS from a 401 (or REALM/NONCE from a 438).
   * False if the response lacks them or offers no algorithm we support: retrying is useless.
   */
  learn(response: StunMessage): boolean {
    if (this.username === undefined || this.password === undefined) return false;
    const nonce = readString(response, AttributeType.NONCE);
    const realm = readString(response, AttributeType.REALM) ?? this.realm;
    if (nonce === undefined || realm === undefined) return false;
    const offered = response.get(AttributeType.PASSWORD_ALGORITHMS);
    let algorithm: PasswordAlgorithmName = 'md5';
    if (offered !== undefined) {
      const list = decodePasswordAlgorithms(response, offered) ?? [];
      const md5 = list.some((e) => e.algorithm === PasswordAlgorithm.MD5);
      const sha256 = list.some((e) => e.algorithm === PasswordAlgorithm.SHA256);
      if (!md5 && !sha256) return false;
      algorithm = sha256 && (this.preferred === 'sha256' || !md5) ? 'sha256' : 'md5';
      this.offered = Buffer.from(
        response.buffer.subarray(offered.offset, offered.offset + offered.length),
      );
    } else if (response.has(AttributeType.NONCE) && response.has(AttributeType.REALM)) {
      this.offered = undefined; // a fresh challenge without the RFC 8489 feature
    }
    if (realm !== this.realm || algorithm !== this.algorithm || this.key === undefined) {
      this.key = longTermKey(this.username, realm, this.password, algorithm);
    }
    this.realm = realm;
    this.nonce = nonce;
    this.algorithm = algorithm;
    return true;
  }

  /**
   * Adds USERNAME, REALM, NONCE, PASSWORD-ALGORITHMS/PASSWORD-ALGORITHM (when the server
   * offered them) and the integrity attribute; call last before FINGERPRINT. Returns the key
   * to verify the response with, or undefined (and adds nothing) before a challenge taught
   * realm and nonce.
   */
  sign(b: StunMessageBuilder): SigningKey | undefined {
    const key = this.key;
    if (key === undefined || this.nonce === undefined || this.realm === undefined) return;
    b.addString(AttributeType.USERNAME, this.username!);
    b.addString(AttributeType.REALM, this.realm);
    b.addString(AttributeType.NONCE, this.nonce);
    if (this.offered !== undefined) {
      b.add(AttributeType.PASSWORD_ALGORITHMS, this.offered);
      const value = this.algorithm === 'sha256' ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5;
      b.add(AttributeType.PASSWORD_ALGORITHM, encodePasswordAlgorithm(passwordAlgorithm(value)));
    }
    const sha256 = this.algorithm === 'sha256';
    if (sha256) b.addMessageIntegritySha256(key);
    else b.addMessageIntegrity(key);
    return { key, sha256 };
  }
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
