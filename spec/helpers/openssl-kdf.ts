/**
 * `openssl kdf TLS1-PRF`: OpenSSL's TLS 1.2 PRF as an independent reference for lib/dtls's.
 * openssl is required; a missing binary fails the calling test.
 */
import { execFileSync } from 'node:child_process';

export function opensslPrf(
  hash: 'sha256' | 'sha384',
  secret: Buffer,
  label: string,
  seed: Buffer,
  length: number,
): Buffer {
  const out = execFileSync('openssl', [
    'kdf',
    '-keylen',
    String(length),
    '-kdfopt',
    `digest:${hash.toUpperCase()}`,
    '-kdfopt',
    `hexsecret:${secret.toString('hex')}`,
    '-kdfopt',
    `hexseed:${Buffer.concat([Buffer.from(label, 'latin1'), seed]).toString('hex')}`,
    'TLS1-PRF',
  ]);
  return Buffer.from(out.toString().trim().replace(/:/g, ''), 'hex');
}
