/**
 * DTLS-SRTP keying (RFC 5764 §4.2): the SRTP protection profiles negotiated in use_srtp and
 * the split of the "EXTRACTOR-dtls_srtp" exporter output into each side's master key and
 * salt. (lib/dtls imports nothing of lib/srtp; the profile numbers are the IANA ones that
 * lib/srtp uses too.)
 */

/** DTLS-SRTP protection profile numbers (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SrtpProtectionProfile = {
  AES128_CM_HMAC_SHA1_80: 0x0001,
  AES128_CM_HMAC_SHA1_32: 0x0002,
  AEAD_AES_128_GCM: 0x0007,
  AEAD_AES_256_GCM: 0x0008,
} as const;
export type SrtpProtectionProfile =
  (typeof SrtpProtectionProfile)[keyof typeof SrtpProtectionProfile];

/** The exporter label of RFC 5764 §4.2. */
export const SRTP_EXPORTER_LABEL = 'EXTRACTOR-dtls_srtp';

/** Our default offer, in preference order: GCM-128, GCM-256, CM-80, CM-32. */
export const DEFAULT_SRTP_PROFILES: readonly number[] = Object.freeze([
  SrtpProtectionProfile.AEAD_AES_128_GCM,
  SrtpProtectionProfile.AEAD_AES_256_GCM,
  SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80,
  SrtpProtectionProfile.AES128_CM_HMAC_SHA1_32,
]);

const SIZES: Readonly<Record<number, { key: number; salt: number }>> = {
  [SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80]: { key: 16, salt: 14 },
  [SrtpProtectionProfile.AES128_CM_HMAC_SHA1_32]: { key: 16, salt: 14 },
  [SrtpProtectionProfile.AEAD_AES_128_GCM]: { key: 16, salt: 12 },
  [SrtpProtectionProfile.AEAD_AES_256_GCM]: { key: 32, salt: 12 },
};

/** True iff we implement `profile`. */
export function isSupportedSrtpProfile(profile: number): boolean {
  return SIZES[profile] !== undefined;
}

/** Master key and salt bytes of `profile`; TypeError if unknown. */
export function srtpKeySizes(profile: number): { keyLength: number; saltLength: number } {
  const s = SIZES[profile];
  if (s === undefined) throw new TypeError(`unknown SRTP protection profile ${profile}`);
  return { keyLength: s.key, saltLength: s.salt };
}

/** Bytes to export for `profile`: 2 × (key + salt) (60 for AES-CM, 56 / 88 for GCM). */
export function srtpKeyingMaterialLength(profile: number): number {
  const { keyLength, saltLength } = srtpKeySizes(profile);
  return 2 * (keyLength + saltLength);
}

export interface SrtpMasterKeys {
  clientMasterKey: Buffer;
  serverMasterKey: Buffer;
  clientMasterSalt: Buffer;
  serverMasterSalt: Buffer;
}

/**
 * Splits exporter output laid out as client key ‖ server key ‖ client salt ‖ server salt.
 * The client protects with the client's key and salt (RFC 5764 §4.2). Returns views into
 * `material`. TypeError if the length is wrong for the profile.
 */
export function splitSrtpKeyingMaterial(profile: number, material: Buffer): SrtpMasterKeys {
  const { keyLength: k, saltLength: s } = srtpKeySizes(profile);
  if (material.length !== 2 * (k + s)) {
    throw new TypeError(`profile ${profile} needs ${2 * (k + s)} bytes, got ${material.length}`);
  }
  return {
    clientMasterKey: material.subarray(0, k),
    serverMasterKey: material.subarray(k, 2 * k),
    clientMasterSalt: material.subarray(2 * k, 2 * k + s),
    serverMasterSalt: material.subarray(2 * k + s, 2 * (k + s)),
  };
}
