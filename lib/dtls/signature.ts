/**
 * Signatures of the DTLS 1.2 handshake (ServerKeyExchange, CertificateVerify) for the
 * SignatureScheme values we offer (RFC 8446 §4.2.3 names, RFC 5246 §7.4.1.4.1 hash/signature
 * pairs): ECDSA with DER-encoded signatures, RSA-PSS with the RSAE key type and a salt as
 * long as the hash (RFC 8446 §4.2.3), RSASSA-PKCS1-v1_5.
 *
 * In TLS 1.2, 0x0403 means "SHA-256 with ECDSA" on any curve, not only P-256 as in TLS 1.3,
 * so verification here binds the hash and the key type but not the curve.
 */
import { constants, type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';

export const SignatureScheme = {
  rsaPkcs1Sha256: 0x0401,
  ecdsaSecp256r1Sha256: 0x0403,
  ecdsaSecp384r1Sha384: 0x0503,
  rsaPssRsaeSha256: 0x0804,
} as const;
export type SignatureScheme = (typeof SignatureScheme)[keyof typeof SignatureScheme];

/** Schemes we offer in signature_algorithms, in our order of preference. */
export const SUPPORTED_SIGNATURE_SCHEMES: readonly number[] = Object.freeze([
  SignatureScheme.ecdsaSecp256r1Sha256,
  SignatureScheme.ecdsaSecp384r1Sha384,
  SignatureScheme.rsaPssRsaeSha256,
  SignatureScheme.rsaPkcs1Sha256,
]);

interface SchemeParams {
  hash: 'sha256' | 'sha384';
  keyType: 'ec' | 'rsa';
  pss: boolean;
}

const SCHEMES: Readonly<Record<number, SchemeParams>> = {
  [SignatureScheme.rsaPkcs1Sha256]: { hash: 'sha256', keyType: 'rsa', pss: false },
  [SignatureScheme.ecdsaSecp256r1Sha256]: { hash: 'sha256', keyType: 'ec', pss: false },
  [SignatureScheme.ecdsaSecp384r1Sha384]: { hash: 'sha384', keyType: 'ec', pss: false },
  [SignatureScheme.rsaPssRsaeSha256]: { hash: 'sha256', keyType: 'rsa', pss: true },
};

const HASH_LENGTH = { sha256: 32, sha384: 48 } as const;

function options(p: SchemeParams, key: KeyObject) {
  if (p.keyType === 'ec') return { key, dsaEncoding: 'der' as const };
  if (p.pss) {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[p.hash] };
  }
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

/**
 * Signs `data` with `key` (a private KeyObject) under `scheme`. Throws TypeError if the
 * scheme is unknown or does not fit the key: that is our own misuse, never the peer's.
 */
export function sign(scheme: number, key: KeyObject, data: Buffer): Buffer {
  const p = SCHEMES[scheme];
  if (p === undefined) throw new TypeError(`unsupported signature scheme 0x${scheme.toString(16)}`);
  if (key.type !== 'private' || key.asymmetricKeyType !== p.keyType) {
    throw new TypeError(
      `a ${key.asymmetricKeyType} ${key.type} key cannot sign 0x${scheme.toString(16)}`,
    );
  }
  return nodeSign(p.hash, data, options(p, key));
}

/**
 * True iff `signature` is a valid `scheme` signature of `data` by `key` (public, or private
 * for its public half). False for unknown schemes, wrong key types and malformed signatures;
 * never throws.
 */
export function verifySignature(
  scheme: number,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  const p = SCHEMES[scheme];
  if (p === undefined) return false;
  try {
    if (key.asymmetricKeyType !== p.keyType) return false;
    return nodeVerify(p.hash, data, options(p, key), signature);
  } catch {
    return false;
  }
}

/**
 * Schemes `key` (private or public) can sign or verify with, best first: the hash matched to
 * the curve first for EC keys, PSS before PKCS#1 v1.5 for RSA. Empty for other key types
 * (e.g. Ed25519, or RSA-PSS-only keys, which WebRTC peers do not use).
 */
export function schemesForKey(key: KeyObject): number[] {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') {
      return [SignatureScheme.ecdsaSecp384r1Sha384, SignatureScheme.ecdsaSecp256r1Sha256];
    }
    return [SignatureScheme.ecdsaSecp256r1Sha256, SignatureScheme.ecdsaSecp384r1Sha384];
  }
  if (key.asymmetricKeyType === 'rsa') {
    return [SignatureScheme.rsaPssRsaeSha256, SignatureScheme.rsaPkcs1Sha256];
  }
  return [];
}
