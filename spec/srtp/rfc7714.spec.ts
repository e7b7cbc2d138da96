import t from 'tap';
import type { SessionKeySet } from '../../lib/srtp/key-derivation.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7714 §16 and §17 state their vectors in session keys: the same key and salt
// ("Quid pro quo") serve SRTP and SRTCP.
const KEY_128 = hex('000102030405060708090a0b0c0d0e0f');
const KEY_256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const SALT = hex('517569642070726f2071756f');

const RTP = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
  20646976 69736120 696e2070 61727465 73207472 6573`);
const RTCP = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
  4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef`);
const SRTCP_INDEX = 0x5d4;

const VECTORS: {
  section: string;
  profile: SrtpProfileName;
  key: Buffer;
  srtp: Buffer;
  srtcp: Buffer;
}[] = [
  {
    section: '16.1 / 17.1',
    profile: 'AEAD_AES_128_GCM',
    key: KEY_128,
    srtp: hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
      0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`),
    srtcp: hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
      c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade
      800005d4`),
  },
  {
    section: '16.2 / 17.2',
    profile: 'AEAD_AES_256_GCM',
    key: KEY_256,
    srtp: hex(`8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
      9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`),
    srtcp: hex(`81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
      a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be
      800005d4`),
  },
];

function session(profile: SrtpProfileName, key: Buffer): SrtpSession {
  const k = { encryptionKey: key, salt: SALT, authKey: Buffer.alloc(0) };
  const keys: SessionKeySet = { rtp: k, rtcp: k };
  return SrtpSession.fromSessionKeys(profile, keys);
}

for (const v of VECTORS) {
  t.test(`RFC 7714 §${v.section}: ${v.profile} SRTP and SRTCP`, (t) => {
    const out = Buffer.alloc(256);
    const sender = session(v.profile, v.key);
    t.equal(sender.protectRtp(RTP, RTP.length, out), v.srtp.length);
    t.equal(out.subarray(0, v.srtp.length).toString('hex'), v.srtp.toString('hex'), 'SRTP');

    const receiver = session(v.profile, v.key);
    t.equal(receiver.unprotectRtp(v.srtp, v.srtp.length, out), RTP.length);
    t.equal(out.subarray(0, RTP.length).toString('hex'), RTP.toString('hex'), 'RTP back');

    t.equal(receiver.unprotectRtcp(v.srtcp, v.srtcp.length, out), RTCP.length);
    t.equal(out.subarray(0, RTCP.length).toString('hex'), RTCP.toString('hex'), 'RTCP back');

    // The sender's SRTCP index counts from 0; wind it to the vector's.
    for (let i = 0; i < SRTCP_INDEX; i++) sender.protectRtcp(RTCP, RTCP.length, out);
    t.equal(sender.protectRtcp(RTCP, RTCP.length, out), v.srtcp.length);
    t.equal(out.subarray(0, v.srtcp.length).toString('hex'), v.srtcp.toString('hex'), 'SRTCP');
    t.end();
  });
}

t.test('RFC 7714 §17.3: SRTCP with the E flag clear is tagged, not encrypted', (t) => {
  const tagged = hex(`${RTCP.toString('hex')} 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4`);
  const out = Buffer.alloc(256);
  const receiver = session('AEAD_AES_128_GCM', KEY_128);
  t.equal(receiver.unprotectRtcp(tagged, tagged.length, out), RTCP.length);
  t.same(out.subarray(0, RTCP.length), RTCP);
  tagged[20] = (tagged[20] ?? 0) ^ 1;
  t.same(session('AEAD_AES_128_GCM', KEY_128).unprotectRtcp(tagged, tagged.length, out), {
    error: 'auth-failed',
  });
  t.end();
});
