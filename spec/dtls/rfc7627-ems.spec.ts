/**
 * The key schedule over the PRF: extended master secret (RFC 7627 §4), the AEAD key block
 * (RFC 5246 §6.3 with RFC 5288 / RFC 7905 sizes) and Finished verify_data (RFC 5246 §7.4.9),
 * each against `openssl kdf TLS1-PRF` with the label and seed the RFCs specify.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { CIPHER_SUITES, cipherSuiteById } from '../../lib/dtls/cipher-suites.js';
import {
  extendedMasterSecret,
  keyBlock,
  masterSecret,
  verifyData,
} from '../../lib/dtls/key-schedule.js';
import { opensslPrf } from '../helpers/openssl-kdf.js';

t.test('extended master secret = PRF(premaster, "extended master secret", session_hash)', (t) => {
  for (const [hash, hashLen] of [
    ['sha256', 32],
    ['sha384', 48],
  ] as const) {
    const pre = randomBytes(32);
    const sessionHash = randomBytes(hashLen);
    const ems = extendedMasterSecret(hash, pre, sessionHash);
    t.equal(ems.length, 48);
    t.same(ems, opensslPrf(hash, pre, 'extended master secret', sessionHash, 48), hash);
    const cr = randomBytes(32);
    const sr = randomBytes(32);
    t.same(
      masterSecret(hash, pre, cr, sr),
      opensslPrf(hash, pre, 'master secret', Buffer.concat([cr, sr]), 48),
      `${hash}: classic master secret`,
    );
  }
  t.end();
});

t.test('key block: server_random first in the seed, keys then IVs, client before server', (t) => {
  for (const suite of CIPHER_SUITES) {
    const master = randomBytes(48);
    const cr = randomBytes(32);
    const sr = randomBytes(32);
    const k = suite.keyLength;
    const iv = suite.fixedIvLength;
    const ref = opensslPrf(
      suite.hash,
      master,
      'key expansion',
      Buffer.concat([sr, cr]),
      2 * (k + iv),
    );
    const kb = keyBlock(suite, master, cr, sr);
    t.same(kb.clientWriteKey, ref.subarray(0, k), `${suite.name}: client key`);
    t.same(kb.serverWriteKey, ref.subarray(k, 2 * k), 'server key');
    t.same(kb.clientWriteIv, ref.subarray(2 * k, 2 * k + iv), 'client IV');
    t.same(kb.serverWriteIv, ref.subarray(2 * k + iv), 'server IV');
    t.equal(kb.serverWriteIv.length, iv);
  }
  t.end();
});

t.test('cipher suite table', (t) => {
  t.same(
    CIPHER_SUITES.map((s) => s.id),
    [0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8],
  );
  const chacha = cipherSuiteById(0xcca8)!;
  t.equal(chacha.keyExchange, 'ecdhe_rsa');
  t.equal(chacha.fixedIvLength, 12);
  t.equal(chacha.explicitNonceLength, 0);
  const gcm256 = cipherSuiteById(0xc02c)!;
  t.equal(gcm256.hash, 'sha384');
  t.equal(gcm256.keyLength, 32);
  t.equal(gcm256.explicitNonceLength, 8);
  t.equal(cipherSuiteById(0x009c), undefined, 'no static-RSA suites');
  t.end();
});

t.test('Finished verify_data = PRF(master, "<role> finished", Hash(handshake))[0..11]', (t) => {
  const master = randomBytes(48);
  const hh = randomBytes(32);
  t.same(
    verifyData('sha256', master, 'client', hh),
    opensslPrf('sha256', master, 'client finished', hh, 12),
  );
  t.same(
    verifyData('sha256', master, 'server', hh),
    opensslPrf('sha256', master, 'server finished', hh, 12),
  );
  const hh384 = randomBytes(48);
  t.same(
    verifyData('sha384', master, 'server', hh384),
    opensslPrf('sha384', master, 'server finished', hh384, 12),
  );
  t.throws(() => verifyData('sha256', master, 'peer' as 'client', hh), TypeError);
  t.end();
});
