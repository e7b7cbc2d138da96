import t from 'tap';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

const PROFILES: SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];
const { seed, iterations } = fuzzSettings({ seed: 0x5eed5, iterations: 1500 });

function session(profile: SrtpProfileName): SrtpSession {
  const keyLength = profile === 'AEAD_AES_256_GCM' ? 32 : 16;
  const saltLength = profile.startsWith('AEAD') ? 12 : 14;
  return new SrtpSession({
    profile,
    keys: { masterKey: Buffer.alloc(keyLength, 3), masterSalt: Buffer.alloc(saltLength, 4) },
  });
}

/** A plausible RTP or RTCP packet from the PRNG. */
function randomPlain(r: Random, rtcp: boolean): Buffer {
  const p = r.bytes(rtcp ? 8 + 4 * r.int(40) : 12 + r.int(300));
  p[0] = rtcp ? 0x80 | r.int(32) : 0x80 | r.int(16) | (r.chance(0.3) ? 0x10 : 0);
  if (rtcp) p[1] = 200 + r.int(8);
  return p;
}

for (const profile of PROFILES) {
  t.test(
    `${profile}: random and mutated packets never throw and never authenticate (seed ${seed})`,
    (t) => {
      const r = new Random(seed);
      const sender = session(profile);
      const receiver = session(profile);
      const out = Buffer.alloc(2048);
      let threw = 0;
      let accepted = 0;
      let genuine = 0;
      for (let i = 0; i < iterations; i++) {
        const rtcp = r.chance(0.3);
        let candidate: Buffer;
        let mutated = false;
        if (r.chance(0.3)) {
          candidate = r.bytes(r.int(120));
        } else {
          const plain = randomPlain(r, rtcp);
          const sealed = Buffer.alloc(plain.length + 64);
          const n = rtcp
            ? sender.protectRtcp(plain, plain.length, sealed)
            : sender.protectRtp(plain, plain.length, sealed);
          if (typeof n !== 'number') continue; // e.g. a random extension length overruns
          candidate = sealed.subarray(0, n);
          if (r.chance(0.85)) {
            mutated = true;
            const kind = r.int(3);
            if (kind === 0) {
              const at = r.int(candidate.length);
              candidate[at] = (candidate[at] ?? 0) ^ (1 << r.int(8));
            } else if (kind === 1) {
              candidate = candidate.subarray(0, r.int(candidate.length));
            } else {
              candidate = Buffer.concat([candidate, r.bytes(1 + r.int(8))]);
            }
          }
        }
        try {
          const n = rtcp
            ? receiver.unprotectRtcp(candidate, candidate.length, out)
            : receiver.unprotectRtp(candidate, candidate.length, out);
          if (typeof n === 'number') {
            if (mutated) accepted++;
            else genuine++;
          }
        } catch {
          threw++;
        }
      }
      t.equal(threw, 0, 'nothing throws');
      t.equal(accepted, 0, 'no mutated or random packet authenticates');
      t.ok(genuine > iterations / 20, `untouched genuine packets still decrypt (${genuine})`);
      t.end();
    },
  );
}
