/**
 * SRTP protection profiles: RFC 5764 §4.1.2 (AES-CM with HMAC-SHA1) and RFC 7714 §14.2
 * (AES-GCM), with the key, salt and tag sizes each one fixes.
 */
export type SrtpProfileName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

/** DTLS-SRTP protection profile identifiers (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SRTP_PROFILE_IDS: Readonly<Record<SrtpProfileName, number>> = Object.freeze({
  AES_CM_128_HMAC_SHA1_80: 0x0001,
  AES_CM_128_HMAC_SHA1_32: 0x0002,
  AEAD_AES_128_GCM: 0x0007,
  AEAD_AES_256_GCM: 0x0008,
});

export interface SrtpProfileParameters {
  readonly name: SrtpProfileName;
  readonly aead: boolean;
  /** Master key and session encryption key, bytes. */
  readonly keyLength: number;
  /** Master salt and session salt, bytes (112 bits for AES-CM, 96 for GCM). */
  readonly saltLength: number;
  /** Session authentication key, bytes (0 for AEAD). */
  readonly authKeyLength: number;
  /** SRTP authentication tag, bytes. */
  readonly rtpTagLength: number;
  /** SRTCP authentication tag, bytes: 80 bits even for _32 (RFC 5764 §4.1.2). */
  readonly rtcpTagLength: number;
}

const PARAMETERS: Readonly<Record<SrtpProfileName, SrtpProfileParameters>> = {
  AES_CM_128_HMAC_SHA1_80: {
    name: 'AES_CM_128_HMAC_SHA1_80',
    aead: false,
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    rtpTagLength: 10,
    rtcpTagLength: 10,
  },
  AES_CM_128_HMAC_SHA1_32: {
    name: 'AES_CM_128_HMAC_SHA1_32',
    aead: false,
    keyLength: 16,
    saltLength: 14,
    authKeyLength: 20,
    rtpTagLength: 4,
    rtcpTagLength: 10,
  },
  AEAD_AES_128_GCM: {
    name: 'AEAD_AES_128_GCM',
    aead: true,
    keyLength: 16,
    saltLength: 12,
    authKeyLength: 0,
    rtpTagLength: 16,
    rtcpTagLength: 16,
  },
  AEAD_AES_256_GCM: {
    name: 'AEAD_AES_256_GCM',
    aead: true,
    keyLength: 32,
    saltLength: 12,
    authKeyLength: 0,
    rtpTagLength: 16,
    rtcpTagLength: 16,
  },
};

/** The parameters of `profile`; throws TypeError for a name that is not a profile. */
export function profileParameters(profile: SrtpProfileName): SrtpProfileParameters {
  const p = Object.hasOwn(PARAMETERS, profile) ? PARAMETERS[profile] : undefined;
  if (p === undefined) throw new TypeError(`unknown SRTP profile ${String(profile)}`);
  return p;
}

/** The profile with DTLS-SRTP id `id`, or undefined when rtcd does not implement it. */
export function profileById(id: number): SrtpProfileName | undefined {
  for (const name of Object.keys(SRTP_PROFILE_IDS) as SrtpProfileName[]) {
    if (SRTP_PROFILE_IDS[name] === id) return name;
  }
  return undefined;
}
