/**
 * ECDHE key shares (RFC 8422, RFC 7748): both sides agree; bad peer values give undefined
 * and never throw; the secret equals `openssl pkeyutl -derive` with OpenSSL's own key.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { generateKeyShare, NamedGroup, SUPPORTED_GROUPS } from '../../lib/dtls/ecdhe.js';

const GROUPS = [
  { group: NamedGroup.x25519, name: 'X25519', ossl: ['-algorithm', 'X25519'], crv: 'X25519' },
  {
    group: NamedGroup.secp256r1,
    name: 'P-256',
    ossl: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    crv: 'P-256',
  },
  {
    group: NamedGroup.secp384r1,
    name: 'P-384',
    ossl: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    crv: 'P-384',
  },
] as const;

/** Wire form of a public key: raw 32 bytes for X25519, 04‖X‖Y otherwise. */
function wireForm(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  if (jwk.kty === 'OKP') return x;
  return Buffer.concat([Buffer.from([4]), x, Buffer.from(jwk.y!, 'base64url')]);
}

function keyFromWire(crv: string, wire: Buffer): KeyObject {
  if (crv === 'X25519') {
    return createPublicKey({
      key: { kty: 'OKP', crv, x: wire.toString('base64url') },
      format: 'jwk',
    });
  }
  const n = (wire.length - 1) / 2;
  return createPublicKey({
    key: {
      kty: 'EC',
      crv,
      x: wire.subarray(1, 1 + n).toString('base64url'),
      y: wire.subarray(1 + n).toString('base64url'),
    },
    format: 'jwk',
  });
}

t.test('both sides of every group compute the same secret', (t) => {
  t.same(SUPPORTED_GROUPS, [29, 23, 24]);
  for (const g of GROUPS) {
    const a = generateKeyShare(g.group);
    const b = generateKeyShare(g.group);
    t.equal(a.group, g.group);
    t.equal(a.publicKey.length, g.group === 29 ? 32 : g.group === 23 ? 65 : 97, `${g.name} size`);
    const s1 = a.computeSecret(b.publicKey);
    const s2 = b.computeSecret(a.publicKey);
    t.ok(s1 && s1.length === (g.group === 24 ? 48 : 32), `${g.name} secret length`);
    t.same(s1, s2, `${g.name}: agreement`);
    t.notSame(a.publicKey, b.publicKey, 'fresh keys');
  }
  t.throws(() => generateKeyShare(25), TypeError, 'unsupported group is misuse');
  t.end();
});

t.test('invalid peer values give undefined, never an exception', (t) => {
  for (const g of GROUPS) {
    const a = generateKeyShare(g.group);
    const good = generateKeyShare(g.group).publicKey;
    t.equal(a.computeSecret(Buffer.alloc(0)), undefined, `${g.name}: empty`);
    t.equal(a.computeSecret(good.subarray(1)), undefined, `${g.name}: one byte short`);
    t.equal(a.computeSecret(Buffer.concat([good, Buffer.alloc(1)])), undefined, 'one too long');
    if (g.group === NamedGroup.x25519) {
      // Low-order points give an all-zero secret (RFC 7748 §6.1): 0 and 1.
      t.equal(a.computeSecret(Buffer.alloc(32)), undefined, 'X25519: zero point');
      const one = Buffer.alloc(32);
      one[0] = 1;
      t.equal(a.computeSecret(one), undefined, 'X25519: point of order 1');
      // RFC 7748 §5: the receiver masks the top bit of the u-coordinate.
      const high = Buffer.from(good);
      high[31] = high[31]! | 0x80;
      t.same(a.computeSecret(high), a.computeSecret(good), 'X25519: top bit ignored');
    } else {
      const off = Buffer.from(good);
      off[off.length - 1] = off[off.length - 1]! ^ 1;
      t.equal(a.computeSecret(off), undefined, `${g.name}: off-curve point`);
      const compressed = Buffer.concat([
        Buffer.from([2]),
        good.subarray(1, 1 + (good.length - 1) / 2),
      ]);
      t.equal(a.computeSecret(compressed), undefined, `${g.name}: compressed point refused`);
      const notUncompressed = Buffer.from(good);
      notUncompressed[0] = 3;
      t.equal(a.computeSecret(notUncompressed), undefined, `${g.name}: bad format byte`);
      const zero = Buffer.alloc(good.length);
      zero[0] = 4;
      t.equal(a.computeSecret(zero), undefined, `${g.name}: (0, 0)`);
    }
    t.ok(a.computeSecret(good), 'still works after bad input');
  }
  t.end();
});

t.test('equals openssl pkeyutl -derive against an OpenSSL-generated key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-ecdhe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const g of GROUPS) {
    const priv = join(dir, `${g.name}.key`);
    const ourPub = join(dir, `${g.name}-ours.pem`);
    execFileSync('openssl', ['genpkey', ...g.ossl, '-out', priv]);
    const theirPub = createPublicKey(
      execFileSync('openssl', ['pkey', '-in', priv, '-pubout']).toString(),
    );
    const share = generateKeyShare(g.group);
    writeFileSync(
      ourPub,
      keyFromWire(g.crv, share.publicKey).export({ type: 'spki', format: 'pem' }),
    );
    const theirs = execFileSync('openssl', [
      'pkeyutl',
      '-derive',
      '-inkey',
      priv,
      '-peerkey',
      ourPub,
    ]);
    t.same(share.computeSecret(wireForm(theirPub)), theirs, `${g.name}: same premaster`);
    t.ok(readFileSync(ourPub).length > 0);
  }
  t.end();
});
