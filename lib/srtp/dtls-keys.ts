import type { SrtpKeys } from './key-derivation.js';
import { profileParameters, type SrtpProfileName } from './profiles.js';

/** Bytes of keying material to export from DTLS for `profile` (RFC 5764 §4.2). */
export function dtlsExportLength(profile: SrtpProfileName): number {
  const p = profileParameters(profile);
  return 2 * (p.keyLength + p.saltLength);
}

/**
 * Splits the "EXTRACTOR-dtls_srtp" output, laid out by RFC 5764 §4.2 as
 * client_write_SRTP_master_key | server_write_SRTP_master_key |
 * client_write_SRTP_master_salt | server_write_SRTP_master_salt, into the keys this endpoint
 * protects with (`local`) and unprotects with (`remote`). The returned buffers are copies.
 */
export function keysFromDtlsExport(
  profile: SrtpProfileName,
  material: Buffer,
  role: 'client' | 'server',
): { local: SrtpKeys; remote: SrtpKeys } {
  const { keyLength: k, saltLength: s } = profileParameters(profile);
  if (!Buffer.isBuffer(material) || material.length !== 2 * (k + s)) {
    throw new TypeError(`${profile} needs ${2 * (k + s)} bytes of DTLS keying material`);
  }
  if (role !== 'client' && role !== 'server') throw new TypeError('role must be client or server');
  const client: SrtpKeys = {
    masterKey: Buffer.from(material.subarray(0, k)),
    masterSalt: Buffer.from(material.subarray(2 * k, 2 * k + s)),
  };
  const server: SrtpKeys = {
    masterKey: Buffer.from(material.subarray(k, 2 * k)),
    masterSalt: Buffer.from(material.subarray(2 * k + s, 2 * (k + s))),
  };
  return role === 'client' ? { local: client, remote: server } : { local: server, remote: client };
}
