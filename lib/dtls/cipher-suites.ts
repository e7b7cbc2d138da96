/**
 * The DTLS 1.2 cipher suites rtcd negotiates: ECDHE key exchange with AEAD record protection
 * (RFC 5289 AES-GCM, RFC 7905 ChaCha20-Poly1305). Order is our preference when we choose.
 */
import type { PrfHash } from './prf.js';

export type AeadCipher = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export interface CipherSuite {
  /** IANA TLS cipher suite number. */
  readonly id: number;
  /** IANA name, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256. */
  readonly name: string;
  readonly keyExchange: 'ecdhe_ecdsa' | 'ecdhe_rsa';
  readonly cipher: AeadCipher;
  /** Hash of the PRF, the Finished computation and the exporter. */
  readonly hash: PrfHash;
  /** AEAD key bytes. */
  readonly keyLength: number;
  /** Implicit nonce part from the key block: 4 for GCM (salt), 12 for ChaCha20-Poly1305. */
  readonly fixedIvLength: number;
  /** Nonce bytes carried in each record: 8 for GCM, 0 for ChaCha20-Poly1305. */
  readonly explicitNonceLength: number;
  readonly tagLength: 16;
}

function suite(
  id: number,
  name: string,
  keyExchange: CipherSuite['keyExchange'],
  cipher: AeadCipher,
  hash: PrfHash,
): CipherSuite {
  const chacha = cipher === 'chacha20-poly1305';
  return Object.freeze({
    id,
    name,
    keyExchange,
    cipher,
    hash,
    keyLength: cipher === 'aes-128-gcm' ? 16 : 32,
    fixedIvLength: chacha ? 12 : 4,
    explicitNonceLength: chacha ? 0 : 8,
    tagLength: 16 as const,
  });
}

export const CipherSuiteId = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 0xc02c,
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca9,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 0xc030,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca8,
} as const;

const ID = CipherSuiteId;

/** Every suite we implement, in our order of preference (the WebRTC mandatory one first). */
export const CIPHER_SUITES: readonly CipherSuite[] = Object.freeze([
  suite(
    ID.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    'ecdhe_ecdsa',
    'aes-128-gcm',
    'sha256',
  ),
  suite(
    ID.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    'ecdhe_ecdsa',
    'aes-256-gcm',
    'sha384',
  ),
  suite(
    ID.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    'ecdhe_ecdsa',
    'chacha20-poly1305',
    'sha256',
  ),
  suite(
    ID.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    'ecdhe_rsa',
    'aes-128-gcm',
    'sha256',
  ),
  suite(
    ID.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'ecdhe_rsa',
    'aes-256-gcm',
    'sha384',
  ),
  suite(
    ID.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    'ecdhe_rsa',
    'chacha20-poly1305',
    'sha256',
  ),
]);

const BY_ID = new Map(CIPHER_SUITES.map((s) => [s.id, s]));

/** The suite with IANA number `id`, or undefined if we do not implement it. */
export function cipherSuiteById(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}
