/**
 * Network input never throws out of lib/dtls crypto: random and mutated record fragments,
 * ECDHE public values, signatures, cookies, certificates and SDP fingerprints, seeded
 * (`FUZZ_SEED=<n> FUZZ_ITERATIONS=<n> npx tap spec/dtls/crypto-fuzz.spec.ts` reproduces).
 */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { parseSdpFingerprint, publicKeyOf } from '../../lib/dtls/certificate.js';
import { CIPHER_SUITES } from '../../lib/dtls/cipher-suites.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { generateKeyShare, SUPPORTED_GROUPS } from '../../lib/dtls/ecdhe.js';
import { RecordProtection } from '../../lib/dtls/record-protection.js';
import { SUPPORTED_SIGNATURE_SCHEMES, sign, verifySignature } from '../../lib/dtls/signature.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

const { seed, iterations } = fuzzSettings({ seed: 0xd715, iterations: 3000 });
t.comment(`FUZZ_SEED=${seed} FUZZ_ITERATIONS=${iterations}`);

/** Runs f, counting exceptions instead of letting them escape. */
function guarded(f: () => unknown): { threw: number; value: unknown } {
  try {
    return { threw: 0, value: f() };
  } catch {
    return { threw: 1, value: undefined };
  }
}

function mutate(r: Random, b: Buffer): Buffer {
  const m = Buffer.from(b);
  const kind = r.int(4);
  if (kind === 0 && m.length > 0) m[r.int(m.length)] = r.int(256);
  else if (kind === 1) return m.subarray(0, r.int(m.length + 1));
  else if (kind === 2) return Buffer.concat([m, r.bytes(r.int(20))]);
  else if (m.length > 0) m[r.int(m.length)] ^= 1 << r.int(8);
  return m;
}

t.test('RecordProtection.open on random and mutated fragments', (t) => {
  const r = new Random(seed);
  let threw = 0;
  let forged = 0;
  for (const suite of CIPHER_SUITES) {
    const rp = new RecordProtection(suite, r.bytes(suite.keyLength), r.bytes(suite.fixedIvLength));
    const good = rp.seal(23, 0xfefd, 1, 3, r.bytes(100));
    for (let i = 0; i < iterations / CIPHER_SUITES.length; i++) {
      const frag = r.chance(0.5) ? mutate(r, good) : r.bytes(r.int(80));
      const epoch = r.pick([1, 0, -1, 0x10000, 1.5, Number.NaN]);
      const seq = r.pick([3, 0, -1, 2 ** 48, 2 ** 53, Number.POSITIVE_INFINITY]);
      const g = guarded(() => rp.open(r.int(256), r.pick([0xfefd, 0x1ffff]), epoch, seq, frag));
      threw += g.threw;
      if (g.value !== undefined && !frag.equals(good)) forged++;
    }
  }
  t.equal(threw, 0, 'nothing throws');
  t.equal(forged, 0, 'nothing but the genuine record opens');
  t.end();
});

t.test('ECDHE computeSecret on random peer values', (t) => {
  const r = new Random(seed + 1);
  let threw = 0;
  for (const group of SUPPORTED_GROUPS) {
    const share = generateKeyShare(group);
    const good = generateKeyShare(group).publicKey;
    for (let i = 0; i < iterations / 30; i++) {
      const peer = r.chance(0.5) ? mutate(r, good) : r.bytes(r.pick([0, 1, 32, 33, 65, 97, 200]));
      threw += guarded(() => share.computeSecret(peer)).threw;
    }
  }
  t.equal(threw, 0);
  t.end();
});

t.test('verifySignature on random signatures, data and schemes', (t) => {
  const r = new Random(seed + 2);
  const keys = [
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
    generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
    generateKeyPairSync('rsa', { modulusLength: 1024 }),
    generateKeyPairSync('ed25519'),
  ];
  let threw = 0;
  let accepted = 0;
  const data = r.bytes(64);
  const genuine = sign(0x0403, keys[0]!.privateKey, data);
  for (let i = 0; i < iterations / 10; i++) {
    const scheme = r.chance(0.8) ? r.pick(SUPPORTED_SIGNATURE_SCHEMES) : r.int(0x10000);
    const key = r.pick(keys).publicKey;
    const sig = r.chance(0.5) ? mutate(r, genuine) : r.bytes(r.int(300));
    const g = guarded(() => verifySignature(scheme, key, data, sig));
    threw += g.threw;
    if (g.value === true && !sig.equals(genuine)) accepted++;
  }
  t.equal(threw, 0);
  t.equal(accepted, 0, 'no random or mutated signature verifies');
  t.end();
});

t.test('cookies, certificates and SDP fingerprints from random input', (t) => {
  const r = new Random(seed + 3);
  const jar = new CookieJar();
  const hello = r.bytes(100);
  const good = jar.mint('192.0.2.7', 9, hello, 0);
  let threw = 0;
  let accepted = 0;
  for (let i = 0; i < iterations / 10; i++) {
    const cookie = r.chance(0.5) ? mutate(r, good) : r.bytes(r.int(40));
    const g = guarded(() => jar.verify('192.0.2.7', 9, hello, cookie, 0));
    threw += g.threw;
    if (g.value === true && !cookie.equals(good)) accepted++;
    threw += guarded(() => publicKeyOf(r.bytes(r.int(400)))).threw;
    const s = r.bytes(r.int(120)).toString('latin1');
    threw += guarded(() => parseSdpFingerprint(s)).threw;
    threw += guarded(() => parseSdpFingerprint(`sha-256 ${s}`)).threw;
  }
  t.equal(threw, 0);
  t.equal(accepted, 0);
  t.end();
});
