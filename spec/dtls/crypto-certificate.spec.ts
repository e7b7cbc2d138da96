/**
 * Certificates: generated ECDSA P-256 self-signed certificates read back by OpenSSL (same
 * fingerprints as `openssl x509 -fingerprint` for every SDP hash), PEM loading of EC and RSA
 * keys in their usual encodings, and SDP fingerprint parsing.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  certificateFingerprint,
  FINGERPRINT_ALGORITHMS,
  fingerprintMatches,
  generateCertificate,
  loadCertificate,
  parseSdpFingerprint,
  publicKeyOf,
} from '../../lib/dtls/certificate.js';
import { SignatureScheme, sign, verifySignature } from '../../lib/dtls/signature.js';

const dir = mkdtempSync(join(tmpdir(), 'rtcd-cert-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ossl = (...args: string[]) => execFileSync('openssl', args).toString();

t.test("a generated certificate: P-256, self-signed, fingerprints equal OpenSSL's", async (t) => {
  const notBefore = new Date(Date.UTC(2026, 0, 1));
  const cert = await generateCertificate({ commonName: 'alice', validityDays: 10, notBefore });
  const x = new X509Certificate(cert.der);
  t.equal(x.subject, 'CN=alice');
  t.equal(x.issuer, 'CN=alice');
  t.equal(new Date(x.validFrom).getTime(), notBefore.getTime());
  t.equal(new Date(x.validTo).getTime(), notBefore.getTime() + 10 * 86_400_000);
  t.ok(x.verify(cert.publicKey), 'self-signed');
  t.ok(x.checkPrivateKey(cert.privateKey), 'key pair belongs to it');
  t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const pem = join(dir, 'gen.pem');
  writeFileSync(pem, x.toString());
  const text = ossl('x509', '-in', pem, '-noout', '-text');
  t.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  t.match(text, /NIST CURVE: P-256|prime256v1/);
  for (const alg of FINGERPRINT_ALGORITHMS) {
    const out = ossl('x509', '-in', pem, '-noout', '-fingerprint', `-${alg.replace('-', '')}`);
    const theirs = out.trim().split('=')[1];
    t.equal(cert.fingerprint(alg), theirs, `${alg} matches openssl`);
  }
  t.equal(cert.fingerprint(), cert.fingerprint('sha-256'), 'sha-256 is the default');
  t.match(cert.fingerprint(), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const data = Buffer.from('ServerKeyExchange params');
  const sig = sign(SignatureScheme.ecdsaSecp256r1Sha256, cert.privateKey, data);
  t.ok(verifySignature(SignatureScheme.ecdsaSecp256r1Sha256, publicKeyOf(cert.der)!, data, sig));
});

t.test('serials are random and positive; defaults are 30 days from a day ago', async (t) => {
  const a = await generateCertificate();
  const b = await generateCertificate();
  const xa = new X509Certificate(a.der);
  const xb = new X509Certificate(b.der);
  t.not(xa.serialNumber, xb.serialNumber);
  t.not(a.fingerprint(), b.fingerprint());
  t.ok(Number.parseInt(xa.serialNumber.slice(0, 2), 16) < 0x80, 'positive serial');
  t.equal(xa.subject, 'CN=rtcd');
  const from = new Date(xa.validFrom).getTime();
  t.ok(Math.abs(from - (Date.now() - 86_400_000)) < 120_000, 'valid from a day ago');
  t.equal(new Date(xa.validTo).getTime() - from, 30 * 86_400_000);
  await t.rejects(generateCertificate({ validityDays: 0 }), TypeError);
  await t.rejects(generateCertificate({ commonName: '' }), TypeError);
  await t.rejects(generateCertificate({ notBefore: new Date(Number.NaN) }), TypeError);
});

t.test('loadCertificate: EC (SEC1 and PKCS#8) and RSA (PKCS#1) keys from OpenSSL', (t) => {
  const cases = [
    { name: 'ec-sec1', key: ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], type: 'ec' },
    {
      name: 'ec-pkcs8',
      key: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      type: 'ec',
    },
    { name: 'rsa-pkcs1', key: ['genrsa', '-traditional'], tail: ['2048'], type: 'rsa' },
  ];
  for (const c of cases) {
    const keyPath = join(dir, `${c.name}.key`);
    const certPath = join(dir, `${c.name}.pem`);
    ossl(...c.key, '-out', keyPath, ...(c.tail ?? []));
    ossl(
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-out',
      certPath,
      '-subj',
      `/CN=${c.name}`,
      '-days',
      '1',
    );
    const keyPem = readFileSync(keyPath, 'utf8');
    const certPem = readFileSync(certPath, 'utf8');
    const cert = loadCertificate(certPem, keyPem);
    t.equal(cert.privateKey.asymmetricKeyType, c.type, `${c.name}: key type`);
    t.equal(cert.publicKey.asymmetricKeyType, c.type);
    const theirs = ossl('x509', '-in', certPath, '-noout', '-fingerprint', '-sha256');
    t.equal(`sha-256 ${cert.fingerprint()}`, `sha-256 ${theirs.trim().split('=')[1]}`);
    t.same(cert.der, new X509Certificate(certPem).raw);
  }
  const ec = readFileSync(join(dir, 'ec-sec1.key'), 'utf8');
  const rsaCert = readFileSync(join(dir, 'rsa-pkcs1.pem'), 'utf8');
  t.throws(() => loadCertificate(rsaCert, ec), TypeError, 'key of another certificate');
  t.throws(() => loadCertificate('not a pem', ec), TypeError);
  t.throws(() => loadCertificate(rsaCert, 'not a key'), TypeError);
  t.end();
});

t.test('SDP fingerprints: parse, normalize, compare', (t) => {
  const der = Buffer.from('not really a certificate');
  const fp = certificateFingerprint(der, 'sha-256');
  t.same(parseSdpFingerprint(`sha-256 ${fp}`), { algorithm: 'sha-256', hex: fp });
  t.same(parseSdpFingerprint(`SHA-256 ${fp.toLowerCase()}`), { algorithm: 'sha-256', hex: fp });
  const sha1 = certificateFingerprint(der, 'sha-1');
  t.same(parseSdpFingerprint(` sha-1  ${sha1} `), { algorithm: 'sha-1', hex: sha1 });
  t.equal(parseSdpFingerprint(`sha-1 ${fp}`), undefined, 'length does not fit the hash');
  t.equal(parseSdpFingerprint(`md5 ${sha1}`), undefined, 'unknown hash');
  t.equal(parseSdpFingerprint('sha-256'), undefined);
  t.equal(parseSdpFingerprint(`sha-256 ${fp.replace(/:/g, '')}`), undefined, 'no colons');
  t.equal(parseSdpFingerprint(`sha-256 ${fp.slice(0, -1)}G`), undefined, 'not hex');
  t.ok(fingerprintMatches(der, 'sha-256', fp));
  t.ok(fingerprintMatches(der, 'sha-256', fp.toLowerCase()));
  const wrong = `${fp.slice(0, -1)}${fp.endsWith('0') ? '1' : '0'}`;
  t.notOk(fingerprintMatches(der, 'sha-256', wrong), 'last digit differs');
  t.notOk(fingerprintMatches(der, 'sha-1', fp));
  t.notOk(fingerprintMatches(der, 'md5' as 'sha-1', fp));
  t.equal(publicKeyOf(der), undefined, 'garbage has no public key');
  t.equal(publicKeyOf(Buffer.alloc(0)), undefined);
  t.throws(() => certificateFingerprint(der, 'md5' as 'sha-1'), TypeError);
  t.end();
});

t.test("publicKeyOf reads the same key as node's X.509 parser, and never throws", async (t) => {
  const gen = await generateCertificate();
  const ders = [gen.der];
  for (const name of ['ec-sec1', 'ec-pkcs8', 'rsa-pkcs1']) {
    ders.push(new X509Certificate(readFileSync(join(dir, `${name}.pem`))).raw);
  }
  for (const der of ders) {
    const ours = publicKeyOf(der)!;
    const theirs = new X509Certificate(der).publicKey;
    t.same(
      ours.export({ type: 'spki', format: 'der' }),
      theirs.export({ type: 'spki', format: 'der' }),
      `${theirs.asymmetricKeyType} ${theirs.asymmetricKeyDetails?.namedCurve ?? ''}`,
    );
  }
  // Off-curve point: flip the last byte of the EC point (the SPKI ends the point).
  const spki = gen.publicKey.export({ type: 'spki', format: 'der' });
  const at = gen.der.indexOf(spki);
  t.ok(at > 0, 'SPKI found in the certificate');
  const off = Buffer.from(gen.der);
  const last = at + spki.length - 1;
  off[last] = off[last]! ^ 1;
  t.equal(publicKeyOf(off), undefined, 'off-curve point');
  let threw = 0;
  let parsed = 0;
  for (let i = 0; i < gen.der.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const m = Buffer.from(gen.der);
      m[i] = m[i]! ^ mask;
      try {
        if (publicKeyOf(m) !== undefined) parsed++;
      } catch {
        threw++;
      }
    }
  }
  t.equal(threw, 0, 'no mutation throws');
  t.ok(parsed > 0, 'mutations outside the key still parse');
  for (let n = 0; n < gen.der.length; n += 7) {
    t.equal(publicKeyOf(gen.der.subarray(0, n)), undefined, `truncated to ${n}`);
  }
});
