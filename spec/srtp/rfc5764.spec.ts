import t from 'tap';
import { dtlsExportLength, keysFromDtlsExport } from '../../lib/srtp/dtls-keys.js';
import { profileById, SRTP_PROFILE_IDS } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';

t.test('RFC 5764 §4.1.2 / RFC 7714 §14.2 protection profile ids', (t) => {
  t.same(SRTP_PROFILE_IDS, {
    AES_CM_128_HMAC_SHA1_80: 0x0001,
    AES_CM_128_HMAC_SHA1_32: 0x0002,
    AEAD_AES_128_GCM: 0x0007,
    AEAD_AES_256_GCM: 0x0008,
  });
  t.equal(profileById(0x0007), 'AEAD_AES_128_GCM');
  t.equal(profileById(0x0005), undefined);
  t.end();
});

t.test('RFC 5764 §4.2: client key | server key | client salt | server salt', (t) => {
  const cases = [
    { profile: 'AES_CM_128_HMAC_SHA1_80', key: 16, salt: 14 },
    { profile: 'AEAD_AES_128_GCM', key: 16, salt: 12 },
    { profile: 'AEAD_AES_256_GCM', key: 32, salt: 12 },
  ] as const;
  for (const c of cases) {
    const n = 2 * (c.key + c.salt);
    t.equal(dtlsExportLength(c.profile), n);
    const material = Buffer.from(Array.from({ length: n }, (_, i) => i));
    const asClient = keysFromDtlsExport(c.profile, material, 'client');
    const asServer = keysFromDtlsExport(c.profile, material, 'server');
    t.same(asClient.local.masterKey, material.subarray(0, c.key), `${c.profile} client key`);
    t.same(asClient.remote.masterKey, material.subarray(c.key, 2 * c.key), 'server key');
    t.same(asClient.local.masterSalt, material.subarray(2 * c.key, 2 * c.key + c.salt));
    t.same(asClient.remote.masterSalt, material.subarray(2 * c.key + c.salt, n));
    t.same(asServer.local, asClient.remote, 'the server protects with the server half');
    t.same(asServer.remote, asClient.local);
    material.fill(0);
    t.not(asClient.local.masterKey[1], 0, 'keys are copies');
  }
  t.throws(() => keysFromDtlsExport('AEAD_AES_128_GCM', Buffer.alloc(60), 'client'), TypeError);
  t.end();
});

t.test('a client and a server keyed from one export talk both ways', (t) => {
  const profile = 'AES_CM_128_HMAC_SHA1_32';
  const material = Buffer.alloc(dtlsExportLength(profile), 0x42);
  material.writeUInt32BE(0xdeadbeef, 3);
  const client = keysFromDtlsExport(profile, material, 'client');
  const server = keysFromDtlsExport(profile, material, 'server');
  const clientOut = new SrtpSession({ profile, keys: client.local });
  const serverIn = new SrtpSession({ profile, keys: server.remote });
  const serverOut = new SrtpSession({ profile, keys: server.local });
  const rtp = Buffer.from('80010002000000030000000468656c6c6f', 'hex');
  const out = Buffer.alloc(64);
  const plain = Buffer.alloc(64);
  const n = clientOut.protectRtp(rtp, rtp.length, out);
  t.equal(n, rtp.length + 4);
  t.equal(serverIn.unprotectRtp(out, n as number, plain), rtp.length);
  t.same(plain.subarray(0, rtp.length), rtp);
  // The server's own direction uses other keys: the client's inbound session needs them.
  rtp[3] = 3; // a sequence number the inbound session has not seen
  const m = serverOut.protectRtp(rtp, rtp.length, out);
  t.same(serverIn.unprotectRtp(out, m as number, plain), { error: 'auth-failed' });
  t.end();
});
