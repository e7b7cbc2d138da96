import t from 'tap';
import { deriveSessionKey, Label } from '../../lib/srtp/key-derivation.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 3711 Appendix B.2: AES-CM keystream for SSRC 0, index 0', (t) => {
  // The session key and salt of B.2 go in below the KDF; an all-zero payload encrypts to the
  // keystream itself.
  const session = SrtpSession.fromSessionKeys('AES_CM_128_HMAC_SHA1_80', {
    rtp: {
      encryptionKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
      salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
      authKey: Buffer.alloc(20),
    },
    rtcp: {
      encryptionKey: Buffer.alloc(16),
      salt: Buffer.alloc(14),
      authKey: Buffer.alloc(20),
    },
  });
  const packet = Buffer.alloc(12 + 48);
  packet[0] = 0x80; // V=2, seq 0, SSRC 0
  const out = Buffer.alloc(packet.length + 10);
  const n = session.protectRtp(packet, packet.length, out);
  t.equal(n, packet.length + 10);
  t.equal(
    out.subarray(12, 60).toString('hex').toUpperCase(),
    'E03EAD0935C95E80E166B16DD92B4EB4' +
      'D23513162B02D0F72A43A2FE4A5F97AB' +
      '41E95B3BB0A2E8DD477901E4FCA894C0',
  );
  t.end();
});

t.test('RFC 3711 Appendix B.3: key derivation with the AES-CM PRF', (t) => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');
  const key = (label: number, n: number): string =>
    deriveSessionKey(masterKey, masterSalt, label, n).toString('hex').toUpperCase();
  t.equal(key(Label.rtpEncryption, 16), 'C61E7A93744F39EE10734AFE3FF7A087', 'cipher key');
  t.equal(key(Label.rtpSalt, 14), '30CBBC08863D8C85D49DB34A9AE1', 'cipher salt');
  t.equal(key(Label.rtpAuthentication, 20), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4', 'auth key');
  t.end();
});

t.test('SRTCP labels 3, 4, 5 over the B.3 master key (as libsrtp derives them)', (t) => {
  const masterKey = hex('e1f97a0d3e018be0d64fa32c06de4139');
  const masterSalt = hex('0ec675ad498afeebb6960b3aabe6');
  const key = (label: number, n: number): string =>
    deriveSessionKey(masterKey, masterSalt, label, n).toString('hex');
  t.equal(key(Label.rtcpEncryption, 16), '4c1aa45a81f73d61c800bbb00fbb1eaa');
  t.equal(key(Label.rtcpAuthentication, 20), '8d54534feb49ae8e7993a6bd0b844fc323a93dfd');
  t.equal(key(Label.rtcpSalt, 14), '9581c7ad87b3e530bf3e4454a8b3');
  t.end();
});

t.test('AES_CM_128_HMAC_SHA1_80 known answers (libsrtp srtp_driver packets, B.3 key)', (t) => {
  const keys = {
    masterKey: hex('e1f97a0d3e018be0d64fa32c06de4139'),
    masterSalt: hex('0ec675ad498afeebb6960b3aabe6'),
  };
  const rtp = hex(`800f1234decafbadcafebabe${'ab'.repeat(16)}`);
  const srtp = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
  const rtcp = hex(`81c8000bcafebabe${'ab'.repeat(16)}`);
  // SRTCP index 1: the second packet this sender protects.
  const srtcp = hex('81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798');

  const sender = new SrtpSession({ profile: 'AES_CM_128_HMAC_SHA1_80', keys });
  const out = Buffer.alloc(128);
  t.equal(sender.protectRtp(rtp, rtp.length, out), srtp.length);
  t.same(out.subarray(0, srtp.length), srtp, 'SRTP bytes');
  sender.protectRtcp(rtcp, rtcp.length, out);
  t.equal(sender.protectRtcp(rtcp, rtcp.length, out), srtcp.length);
  t.same(out.subarray(0, srtcp.length), srtcp, 'SRTCP bytes');

  const receiver = new SrtpSession({ profile: 'AES_CM_128_HMAC_SHA1_80', keys });
  t.equal(receiver.unprotectRtp(srtp, srtp.length, out), rtp.length);
  t.same(out.subarray(0, rtp.length), rtp);
  t.equal(receiver.unprotectRtcp(srtcp, srtcp.length, out), rtcp.length);
  t.same(out.subarray(0, rtcp.length), rtcp);
  t.end();
});
