/**
 * The TLS 1.2 pseudorandom function (RFC 5246 §5), which DTLS 1.2 uses unchanged
 * (RFC 6347 §4.2): PRF(secret, label, seed) = P_<hash>(secret, label ‖ seed), where
 * P_hash(secret, seed) = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ … and
 * A(0) = seed, A(i) = HMAC(secret, A(i-1)). The hash is the cipher suite's PRF hash.
 */
import { createHmac } from 'node:crypto';

export type PrfHash = 'sha256' | 'sha384';

const HASH_LENGTH: Readonly<Record<PrfHash, number>> = { sha256: 32, sha384: 48 };

/** Output bytes of one HMAC of the PRF hash (also the handshake-hash length). */
export function prfHashLength(hash: PrfHash): number {
  return HASH_LENGTH[hash];
}

/** P_hash(secret, seed) truncated to `length` bytes (RFC 5246 §5). */
export function pHash(hash: PrfHash, secret: Buffer, seed: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a: Buffer = seed;
  let written = 0;
  while (written < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(seed).digest();
    written += block.copy(out, written, 0, Math.min(block.length, length - written));
  }
  return out;
}

/**
 * PRF(secret, label, seed) of RFC 5246 §5, `length` bytes. The label is ASCII without a
 * terminating NUL. Throws TypeError on misuse (unknown hash, negative length).
 */
export function prf(
  hash: PrfHash,
  secret: Buffer,
  label: string,
  seed: Buffer,
  length: number,
): Buffer {
  if (HASH_LENGTH[hash] === undefined) throw new TypeError(`unknown PRF hash ${String(hash)}`);
  if (!Number.isInteger(length) || length < 0) {
    throw new TypeError(`PRF length must be a non-negative integer, got ${length}`);
  }
  return pHash(hash, secret, Buffer.concat([Buffer.from(label, 'latin1'), seed]), length);
}
