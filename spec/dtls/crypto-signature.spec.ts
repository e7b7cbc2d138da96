/**
 * Handshake signatures for the four schemes: sign/verify round trips, interop with
 * `openssl dgst -sign/-verify` both ways (DER ECDSA, RSA-PSS with salt = hash length), and
 * verifySignature returning false, never throwing, on garbage.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SignatureScheme, schemesForKey, sign, verifySignature } from '../../lib/dtls/signature.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');

const CASES = [
  { scheme: SignatureScheme.ecdsaSecp256r1Sha256, keys: p256, name: 'ecdsa_secp256r1_sha256' },
  { scheme: SignatureScheme.ecdsaSecp384r1Sha384, keys: p384, name: 'ecdsa_secp384r1_sha384' },
  { scheme: SignatureScheme.rsaPssRsaeSha256, keys: rsa, name: 'rsa_pss_rsae_sha256' },
  { scheme: SignatureScheme.rsaPkcs1Sha256, keys: rsa, name: 'rsa_pkcs1_sha256' },
] as const;

t.test('sign then verify for every scheme; any change to data or signature fails', (t) => {
  for (const c of CASES) {
    const data = randomBytes(200);
    const sig = sign(c.scheme, c.keys.privateKey, data);
    t.ok(verifySignature(c.scheme, c.keys.publicKey, data, sig), `${c.name} verifies`);
    t.ok(verifySignature(c.scheme, c.keys.privateKey, data, sig), 'with the private key too');
    const other = Buffer.from(data);
    other[7] = other[7]! ^ 1;
    t.notOk(verifySignature(c.scheme, c.keys.publicKey, other, sig), 'changed data');
    const badSig = Buffer.from(sig);
    badSig[badSig.length - 1] = badSig[badSig.length - 1]! ^ 1;
    t.notOk(verifySignature(c.scheme, c.keys.publicKey, data, badSig), 'changed signature');
  }
  t.end();
});

t.test('ECDSA in TLS 1.2 binds the hash, not the curve: P-256 with SHA-384 works', (t) => {
  const data = randomBytes(50);
  const sig = sign(SignatureScheme.ecdsaSecp384r1Sha384, p256.privateKey, data);
  t.ok(verifySignature(SignatureScheme.ecdsaSecp384r1Sha384, p256.publicKey, data, sig));
  t.notOk(verifySignature(SignatureScheme.ecdsaSecp256r1Sha256, p256.publicKey, data, sig));
  t.end();
});

t.test('PSS and PKCS#1 signatures are not interchangeable', (t) => {
  const data = randomBytes(50);
  const pss = sign(SignatureScheme.rsaPssRsaeSha256, rsa.privateKey, data);
  t.notOk(verifySignature(SignatureScheme.rsaPkcs1Sha256, rsa.publicKey, data, pss));
  const pkcs = sign(SignatureScheme.rsaPkcs1Sha256, rsa.privateKey, data);
  t.notOk(verifySignature(SignatureScheme.rsaPssRsaeSha256, rsa.publicKey, data, pkcs));
  t.end();
});

t.test('verifySignature never throws on garbage', (t) => {
  const data = randomBytes(64);
  for (const c of CASES) {
    for (const sig of [Buffer.alloc(0), randomBytes(1), randomBytes(72), randomBytes(256)]) {
      t.equal(verifySignature(c.scheme, c.keys.publicKey, data, sig), false, `${c.name} junk`);
    }
    t.equal(verifySignature(c.scheme, ed.publicKey, data, randomBytes(64)), false, 'Ed25519');
  }
  const ecSig = sign(SignatureScheme.ecdsaSecp256r1Sha256, p256.privateKey, data);
  t.equal(verifySignature(SignatureScheme.rsaPkcs1Sha256, p256.publicKey, data, ecSig), false);
  t.equal(verifySignature(SignatureScheme.ecdsaSecp256r1Sha256, rsa.publicKey, data, ecSig), false);
  t.equal(verifySignature(0x0807, ed.publicKey, data, ecSig), false, 'unknown scheme');
  t.equal(verifySignature(0xffff, p256.publicKey, data, ecSig), false);
  t.end();
});

t.test('sign refuses misuse with TypeError', (t) => {
  t.throws(() => sign(0x0807, ed.privateKey, Buffer.alloc(1)), TypeError);
  t.throws(() => sign(SignatureScheme.rsaPkcs1Sha256, p256.privateKey, Buffer.alloc(1)), TypeError);
  t.throws(
    () => sign(SignatureScheme.ecdsaSecp256r1Sha256, p256.publicKey, Buffer.alloc(1)),
    TypeError,
  );
  t.end();
});

t.test('schemesForKey', (t) => {
  t.same(schemesForKey(p256.privateKey), [0x0403, 0x0503]);
  t.same(schemesForKey(p384.publicKey), [0x0503, 0x0403]);
  t.same(schemesForKey(rsa.privateKey), [0x0804, 0x0401]);
  t.same(schemesForKey(ed.privateKey), []);
  t.end();
});

t.test('interop with openssl dgst -sign / -verify, both ways', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-sig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const sigFile = join(dir, 'sig');
  writeFileSync(data, randomBytes(300));
  const bytes = readFileSync(data);
  for (const c of CASES) {
    const key = join(dir, `${c.name}.key`);
    const pub = join(dir, `${c.name}.pub`);
    writeFileSync(key, c.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, c.keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const digest = c.scheme === SignatureScheme.ecdsaSecp384r1Sha384 ? '-sha384' : '-sha256';
    const pss =
      c.scheme === SignatureScheme.rsaPssRsaeSha256
        ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest']
        : [];
    // ours -> openssl
    writeFileSync(sigFile, sign(c.scheme, c.keys.privateKey, bytes));
    const out = execFileSync('openssl', [
      'dgst',
      digest,
      ...pss,
      '-verify',
      pub,
      '-signature',
      sigFile,
      data,
    ]).toString();
    t.match(out, /Verified OK/, `${c.name}: openssl verifies ours`);
    // openssl -> ours
    execFileSync('openssl', ['dgst', digest, ...pss, '-sign', key, '-out', sigFile, data]);
    t.ok(
      verifySignature(c.scheme, c.keys.publicKey, bytes, readFileSync(sigFile)),
      `${c.name}: we verify openssl's`,
    );
  }
  t.end();
});

t.test('rsa_pss_rsae_sha256 requires the salt to be as long as the hash', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-pss-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'rsa.key');
  const data = join(dir, 'data');
  const sigFile = join(dir, 'sig');
  writeFileSync(key, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(data, randomBytes(100));
  const pss = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt'];
  for (const [saltlen, ok] of [
    ['32', true],
    ['max', false],
    ['20', false],
  ] as const) {
    execFileSync('openssl', [
      'dgst',
      '-sha256',
      ...pss,
      `rsa_pss_saltlen:${saltlen}`,
      '-sign',
      key,
      '-out',
      sigFile,
      data,
    ]);
    t.equal(
      verifySignature(
        SignatureScheme.rsaPssRsaeSha256,
        rsa.publicKey,
        readFileSync(data),
        readFileSync(sigFile),
      ),
      ok,
      `salt length ${saltlen}`,
    );
  }
  t.end();
});
