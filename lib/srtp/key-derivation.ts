import { createCipheriv } from 'node:crypto';
import { profileParameters, type SrtpProfileName } from './profiles.js';

/** Key derivation labels, RFC 3711 §4.3.1 (SRTCP's in §4.3.2). */
export const Label = Object.freeze({
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
});

export interface SrtpKeys {
  masterKey: Buffer;
  masterSalt: Buffer;
}

/** Session keys for one direction of one packet kind (SRTP or SRTCP). */
export interface SessionKeys {
  readonly encryptionKey: Buffer;
  readonly salt: Buffer;
  /** Empty for AEAD profiles. */
  readonly authKey: Buffer;
}

export interface SessionKeySet {
  readonly rtp: SessionKeys;
  readonly rtcp: SessionKeys;
}

/**
 * The AES-CM PRF of RFC 3711 §4.3.3 with key_derivation_rate 0: r = 0, so
 * x = (label << 48) XOR master_salt and the keystream starts at IV = x * 2^16. A 96-bit GCM
 * salt is zero-padded on the right to 112 bits (as libsrtp does for RFC 7714 §11); the
 * AES-256 PRF of RFC 6188 §7 is the same with the longer key.
 */
export function deriveSessionKey(
  masterKey: Buffer,
  masterSalt: Buffer,
  label: number,
  length: number,
): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, Math.min(14, masterSalt.length));
  iv[7] = (iv[7] ?? 0) ^ label;
  const algorithm = masterKey.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr';
  const cipher = createCipheriv(algorithm, masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** All six session keys of a profile from its master key and salt (RFC 3711 §4.3). */
export function deriveSessionKeys(profile: SrtpProfileName, keys: SrtpKeys): SessionKeySet {
  const p = profileParameters(profile);
  checkMasterKeys(profile, keys);
  const { masterKey: k, masterSalt: s } = keys;
  return {
    rtp: {
      encryptionKey: deriveSessionKey(k, s, Label.rtpEncryption, p.keyLength),
      salt: deriveSessionKey(k, s, Label.rtpSalt, p.saltLength),
      authKey: deriveSessionKey(k, s, Label.rtpAuthentication, p.authKeyLength),
    },
    rtcp: {
      encryptionKey: deriveSessionKey(k, s, Label.rtcpEncryption, p.keyLength),
      salt: deriveSessionKey(k, s, Label.rtcpSalt, p.saltLength),
      authKey: deriveSessionKey(k, s, Label.rtcpAuthentication, p.authKeyLength),
    },
  };
}

export function checkMasterKeys(profile: SrtpProfileName, keys: SrtpKeys): void {
  const p = profileParameters(profile);
  if (!Buffer.isBuffer(keys?.masterKey) || keys.masterKey.length !== p.keyLength) {
    throw new TypeError(`${profile} needs a ${p.keyLength}-byte master key`);
  }
  if (!Buffer.isBuffer(keys.masterSalt) || keys.masterSalt.length !== p.saltLength) {
    throw new TypeError(`${profile} needs a ${p.saltLength}-byte master salt`);
  }
}
