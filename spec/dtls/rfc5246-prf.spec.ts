/**
 * TLS 1.2 PRF (RFC 5246 §5): the widely published P_SHA256 / P_SHA384 test vectors (posted to
 * the IETF TLS list, used by NSS and Go), then OpenSSL's TLS1-PRF on random inputs.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { type PrfHash, prf, prfHashLength } from '../../lib/dtls/prf.js';
import { opensslPrf } from '../helpers/openssl-kdf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('P_SHA256 test vector: 100 bytes of "test label"', (t) => {
  const out = prf(
    'sha256',
    hex('9bbe436ba940f017b17652849a71db35'),
    'test label',
    hex('a0ba9f936cda311827a6f796ffd5198c'),
    100,
  );
  t.equal(
    out.toString('hex'),
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e' +
      '14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5' +
      'a72e5a5110fff70187347b66',
  );
  t.end();
});

t.test('P_SHA384 test vector: 148 bytes of "test label"', (t) => {
  const out = prf(
    'sha384',
    hex('b80b733d6ceefcdc71566ea48e5567df'),
    'test label',
    hex('cd665cf6a8447dd6ff8b27555edb7465'),
    148,
  );
  t.equal(
    out.toString('hex'),
    '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b123' +
      '3c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd' +
      '4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a2' +
      '6854308d5eaa3be85e0990703d73e56f',
  );
  t.end();
});

t.test('lengths that are not a multiple of the hash length, and zero', (t) => {
  const secret = randomBytes(48);
  const seed = randomBytes(64);
  const long = prf('sha256', secret, 'x', seed, 97);
  for (const n of [0, 1, 31, 32, 33, 64, 96]) {
    t.same(prf('sha256', secret, 'x', seed, n), long.subarray(0, n), `prefix of ${n} bytes`);
  }
  t.equal(prfHashLength('sha256'), 32);
  t.equal(prfHashLength('sha384'), 48);
  t.throws(() => prf('sha256', secret, 'x', seed, -1), TypeError);
  t.throws(() => prf('md5' as PrfHash, secret, 'x', seed, 1), TypeError);
  t.end();
});

t.test('equals openssl kdf TLS1-PRF on random inputs', (t) => {
  for (const hash of ['sha256', 'sha384'] as const) {
    for (let i = 0; i < 4; i++) {
      const secret = randomBytes(1 + Math.floor(Math.random() * 80));
      const seed = randomBytes(1 + Math.floor(Math.random() * 100));
      const n = 1 + Math.floor(Math.random() * 150);
      const label = `label ${i}`;
      t.same(
        prf(hash, secret, label, seed, n),
        opensslPrf(hash, secret, label, seed, n),
        `${hash}, ${secret.length}-byte secret, ${n} bytes`,
      );
    }
  }
  t.end();
});
