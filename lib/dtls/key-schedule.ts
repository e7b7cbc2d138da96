/**
 * DTLS 1.2 key schedule on top of the TLS 1.2 PRF: the extended master secret (RFC 7627 §4),
 * the AEAD key block (RFC 5246 §6.3 with no MAC keys, RFC 5288 §3 / RFC 7905 §2), Finished
 * verify_data (RFC 5246 §7.4.9) and the keying material exporter (RFC 5705 §4).
 */
import type { CipherSuite } from './cipher-suites.js';
import { type PrfHash, prf } from './prf.js';

/** master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47]. */
export function extendedMasterSecret(
  hash: PrfHash,
  preMaster: Buffer,
  sessionHash: Buffer,
): Buffer {
  return prf(hash, preMaster, 'extended master secret', sessionHash, 48);
}

/**
 * The classic master secret (RFC 5246 §8.1), PRF(pre_master, "master secret", client_random ‖
 * server_random). WebRTC requires EMS; this exists for tests and diagnostics only.
 */
export function masterSecret(
  hash: PrfHash,
  preMaster: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): Buffer {
  return prf(hash, preMaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

export interface KeyBlock {
  clientWriteKey: Buffer;
  serverWriteKey: Buffer;
  /** The implicit nonce part: GCM salt (4 B) or the ChaCha20-Poly1305 IV (12 B). */
  clientWriteIv: Buffer;
  serverWriteIv: Buffer;
}

/**
 * key_block = PRF(master, "key expansion", server_random ‖ client_random), split as
 * client key, server key, client IV, server IV (AEAD suites have no MAC keys).
 */
export function keyBlock(
  suite: CipherSuite,
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): KeyBlock {
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const block = prf(
    suite.hash,
    master,
    'key expansion',
    Buffer.concat([serverRandom, clientRandom]),
    2 * (k + iv),
  );
  return {
    clientWriteKey: block.subarray(0, k),
    serverWriteKey: block.subarray(k, 2 * k),
    clientWriteIv: block.subarray(2 * k, 2 * k + iv),
    serverWriteIv: block.subarray(2 * k + iv, 2 * (k + iv)),
  };
}

/**
 * Finished.verify_data = PRF(master, "client finished" | "server finished",
 * Hash(handshake_messages))[0..11]. `role` is the sender of the Finished message.
 */
export function verifyData(
  hash: PrfHash,
  master: Buffer,
  role: 'client' | 'server',
  handshakeHash: Buffer,
): Buffer {
  if (role !== 'client' && role !== 'server') throw new TypeError('role must be client or server');
  return prf(hash, master, `${role} finished`, handshakeHash, 12);
}

/**
 * RFC 5705 §4: PRF(master, label, client_random ‖ server_random [‖ uint16 context_length ‖
 * context]). With no context the length field is absent too (which is what DTLS-SRTP's
 * "EXTRACTOR-dtls_srtp" uses); an empty context is different from no context.
 */
export function exportKeyingMaterial(
  hash: PrfHash,
  master: Buffer,
  label: string,
  clientRandom: Buffer,
  serverRandom: Buffer,
  length: number,
  context?: Buffer,
): Buffer {
  if (RESERVED_LABELS.has(label)) throw new TypeError(`exporter label '${label}' is reserved`);
  const parts = [clientRandom, serverRandom];
  if (context !== undefined) {
    if (context.length > 0xffff) throw new TypeError('exporter context longer than 65535 bytes');
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(context.length, 0);
    parts.push(len, context);
  }
  return prf(hash, master, label, Buffer.concat(parts), length);
}

/** Labels the TLS key schedule itself uses (RFC 5705 §4 forbids them for exporters). */
const RESERVED_LABELS: ReadonlySet<string> = new Set([
  'client finished',
  'server finished',
  'master secret',
  'key expansion',
  'extended master secret',
]);
