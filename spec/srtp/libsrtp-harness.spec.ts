/**
 * The libsrtp harness itself (spec/helpers/libsrtp-harness.c), checked before it is trusted as
 * the reference for lib/srtp: libsrtp's output for one packet per profile equals an independent
 * few-line node:crypto rendering of RFC 3711 §4 / RFC 7714 §8-§9 (with RFC 3711 Appendix B.3's
 * session keys), its protect and unprotect round-trip, and it rejects forged and replayed
 * packets with the statuses the interop spec relies on.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import t from 'tap';
import {
  LIBSRTP_PROFILES,
  type LibsrtpProfile,
  type LibsrtpResult,
  LibsrtpStatus,
  libsrtpSkipReason,
  startLibsrtp,
} from '../helpers/libsrtp.js';
import { Random } from '../helpers/prng.js';

// RFC 3711 Appendix B.3: master key and salt, and the session keys derived from them.
const B3_MASTER_KEY = Buffer.from('e1f97a0d3e018be0d64fa32c06de4139', 'hex');
const B3_MASTER_SALT = Buffer.from('0ec675ad498afeebb6960b3aabe6', 'hex');
const B3_CIPHER_KEY = 'c61e7a93744f39ee10734afe3ff7a087';
const B3_CIPHER_SALT = '30cbbc08863d8c85d49db34a9ae1';
const B3_AUTH_KEY = 'cebe321f6ff7716b6fd4ab49af256a156d38baa4';

/** RFC 3711 §4.3.1 with KDR 0 (a 96-bit GCM salt is padded to 112 bits, RFC 7714 §11). */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv);
  iv[7]! ^= label;
  const cipher = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

function only(results: LibsrtpResult[]): Buffer {
  const [result] = results;
  if (result === undefined || !result.ok) throw new Error(`libsrtp failed: ${results[0]}`);
  return result.packet;
}

/** An RTP packet: 12-byte header with `seq` and `ssrc`, then `payload`. */
function rtpPacket(seq: number, ssrc: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 0x0f;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(0xdecafbad, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

/** Master key || master salt, bytes. */
const KEY_MATERIAL_LENGTH: Readonly<Record<LibsrtpProfile, number>> = {
  AES_CM_128_HMAC_SHA1_80: 30,
  AES_CM_128_HMAC_SHA1_32: 30,
  AEAD_AES_128_GCM: 28,
  AEAD_AES_256_GCM: 44,
};

const skip = libsrtpSkipReason();

t.test('libsrtp harness', { skip }, async (t) => {
  const libsrtp = await startLibsrtp();
  t.teardown(() => libsrtp.close());
  const random = new Random(0x5a17);

  t.test('RFC 3711 B.3 session keys come out of the KDF the references below use', async (t) => {
    t.equal(deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 0, 16).toString('hex'), B3_CIPHER_KEY);
    t.equal(deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 2, 14).toString('hex'), B3_CIPHER_SALT);
    t.equal(deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 1, 20).toString('hex'), B3_AUTH_KEY);
  });

  for (const [profile, tagLength] of [
    ['AES_CM_128_HMAC_SHA1_80', 10],
    ['AES_CM_128_HMAC_SHA1_32', 4],
  ] as const) {
    t.test(
      `${profile}: libsrtp's SRTP packet is RFC 3711 §4.1.1 AES-CM + §4.2 HMAC-SHA1`,
      async (t) => {
        const keyMaterial = Buffer.concat([B3_MASTER_KEY, B3_MASTER_SALT]);
        const payload = random.bytes(100);
        const plain = rtpPacket(0x1234, 0xcafebabe, payload);
        const got = only(await libsrtp.protect('rtp', profile, keyMaterial, [plain]));

        // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC || SEQ = 0x1234.
        const iv = Buffer.alloc(16);
        Buffer.from(B3_CIPHER_SALT, 'hex').copy(iv);
        iv.writeUInt32BE(iv.readUInt32BE(4) ^ 0xcafebabe, 4);
        iv.writeUInt16BE(iv.readUInt16BE(12) ^ 0x1234, 12);
        const cipher = createCipheriv('aes-128-ctr', Buffer.from(B3_CIPHER_KEY, 'hex'), iv);
        const encrypted = Buffer.concat([plain.subarray(0, 12), cipher.update(payload)]);
        const tag = createHmac('sha1', Buffer.from(B3_AUTH_KEY, 'hex'))
          .update(encrypted)
          .update(Buffer.alloc(4)) // ROC 0
          .digest()
          .subarray(0, tagLength);
        t.equal(got.toString('hex'), Buffer.concat([encrypted, tag]).toString('hex'));
      },
    );

    t.test(`${profile}: libsrtp's SRTCP packet has E, index 1 and an 80-bit tag`, async (t) => {
      const keyMaterial = Buffer.concat([B3_MASTER_KEY, B3_MASTER_SALT]);
      const plain = Buffer.from('81c90007cafebabe', 'hex');
      const body = random.bytes(24);
      const got = only(
        await libsrtp.protect('rtcp', profile, keyMaterial, [Buffer.concat([plain, body])]),
      );
      // libsrtp numbers its first SRTCP packet 1, not 0: a byte-for-byte comparison must
      // start our sender's index there.
      const index = 1;
      const key = deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 3, 16);
      const salt = deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 5, 14);
      const authKey = deriveKey(B3_MASTER_KEY, B3_MASTER_SALT, 4, 20);
      const iv = Buffer.alloc(16);
      salt.copy(iv);
      iv.writeUInt32BE(iv.readUInt32BE(4) ^ 0xcafebabe, 4);
      iv.writeUInt32BE(iv.readUInt32BE(10) ^ index, 10);
      const cipher = createCipheriv('aes-128-ctr', key, iv);
      const eIndex = Buffer.alloc(4);
      eIndex.writeUInt32BE((0x80000000 | index) >>> 0);
      const signed = Buffer.concat([plain, cipher.update(body), eIndex]);
      const tag = createHmac('sha1', authKey).update(signed).digest().subarray(0, 10);
      t.equal(got.toString('hex'), Buffer.concat([signed, tag]).toString('hex'));
    });
  }

  for (const [profile, keyLength] of [
    ['AEAD_AES_128_GCM', 16],
    ['AEAD_AES_256_GCM', 32],
  ] as const) {
    t.test(
      `${profile}: libsrtp's SRTP packet is RFC 7714 §8.1 IV, §9 AAD, 16-byte tag`,
      async (t) => {
        const masterKey = random.bytes(keyLength);
        const masterSalt = random.bytes(12);
        const payload = random.bytes(77);
        const seq = 0xfffe;
        const ssrc = 0x01020304;
        const plain = rtpPacket(seq, ssrc, payload);
        const keyMaterial = Buffer.concat([masterKey, masterSalt]);
        const got = only(await libsrtp.protect('rtp', profile, keyMaterial, [plain]));

        const paddedSalt = Buffer.concat([masterSalt, Buffer.alloc(2)]);
        const key = deriveKey(masterKey, paddedSalt, 0, keyLength);
        const salt = deriveKey(masterKey, paddedSalt, 2, 12);
        const iv = Buffer.alloc(12); // 00 00 || SSRC || ROC || SEQ, XOR salt
        iv.writeUInt32BE(ssrc, 2);
        iv.writeUInt16BE(seq, 10);
        for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
        const cipher = createCipheriv(keyLength === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
        cipher.setAAD(plain.subarray(0, 12));
        const body = Buffer.concat([cipher.update(payload), cipher.final(), cipher.getAuthTag()]);
        t.equal(got.toString('hex'), Buffer.concat([plain.subarray(0, 12), body]).toString('hex'));
      },
    );
  }

  for (const profile of LIBSRTP_PROFILES) {
    t.test(`${profile}: protect then unprotect gives the packets back`, async (t) => {
      const material = random.bytes(KEY_MATERIAL_LENGTH[profile]);
      const plain = Array.from({ length: 200 }, (_, i) =>
        rtpPacket((65500 + i) & 0xffff, 0xabc, random.bytes(random.int(300))),
      );
      const sealed = await libsrtp.protect('rtp', profile, material, plain);
      const packets = sealed.map((r) => (r.ok ? r.packet : Buffer.alloc(0)));
      t.ok(
        sealed.every((r) => r.ok),
        'every packet protects',
      );
      const opened = await libsrtp.unprotect('rtp', profile, material, packets);
      t.same(
        opened.map((r) => (r.ok ? r.packet.toString('hex') : r.status)),
        plain.map((p) => p.toString('hex')),
      );

      const forged = Buffer.from(packets[5]!);
      forged[forged.length - 1]! ^= 1;
      const again = await libsrtp.unprotect('rtp', profile, material, [
        packets[3]!,
        forged,
        packets[3]!,
      ]);
      t.same(
        again.map((r) => (r.ok ? 'ok' : r.status)),
        ['ok', LibsrtpStatus.authFail, LibsrtpStatus.replayFail],
        'a forged tag fails authentication; a second copy is a replay',
      );
    });
  }

  t.test('bench times protect and unprotect (for npm run bench)', async (t) => {
    const keyMaterial = random.bytes(30);
    const packet = rtpPacket(0, 0xbe7c, random.bytes(160));
    for (const direction of ['protect', 'unprotect'] as const) {
      for (const kind of ['rtp', 'rtcp'] as const) {
        const ns = await libsrtp.bench(
          direction,
          kind,
          'AES_CM_128_HMAC_SHA1_80',
          keyMaterial,
          1000,
          packet,
        );
        t.ok(Number.isInteger(ns) && ns > 0, `${direction} ${kind}: ${ns} ns for 1000 packets`);
      }
    }
    await t.rejects(
      libsrtp.bench('protect', 'rtp', 'AEAD_AES_128_GCM', keyMaterial, 10, packet),
      /bench failed/,
      'a key of the wrong length is an error, not a time',
    );
  });

  t.test('key material of the wrong length is refused, not padded', async (t) => {
    await t.rejects(
      libsrtp.protect('rtp', 'AEAD_AES_128_GCM', Buffer.alloc(30), []),
      /could not read its command|refused the session/,
    );
  });
});
