import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ReceiveCheck, STAMP_RUN, StampReader } from '../../bench/sfu/stamp-reader.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const keys = () => ({ masterKey: randomBytes(16), masterSalt: randomBytes(12) });

/** A clear 1,200-byte VP8-like packet with the send stamp at payload offset 4. */
function clearPacket(seq: number, ssrc: number, stamp: number, extension = false): Buffer {
  const p = Buffer.alloc(1200);
  p[0] = extension ? 0x90 : 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 865, 4);
  p.writeUInt32BE(ssrc, 8);
  let at = 12;
  if (extension) {
    p.writeUInt16BE(0xbede, 12);
    p.writeUInt16BE(1, 14);
    p[16] = 0x22; // id 2, 3 bytes (abs-send-time-like)
    at = 20;
  }
  p[at] = 0x10;
  p.writeDoubleBE(stamp, at + 4);
  return p;
}

function protect(tx: SrtpSession, p: Buffer): Buffer {
  const out = Buffer.alloc(p.length + 16);
  const n = tx.protectRtp(p, p.length, out);
  if (typeof n !== 'number') throw new Error(n.error);
  return out.subarray(0, n);
}

t.test(
  'RFC 7714 GCM: the stamp read from the ciphertext is the one the sender wrote',
  async (t) => {
    for (const profile of ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'] as const) {
      const k =
        profile === 'AEAD_AES_128_GCM'
          ? keys()
          : { masterKey: randomBytes(32), masterSalt: randomBytes(12) };
      const tx = new SrtpSession({ profile, keys: k });
      const reader = new StampReader(profile, k);
      // Across a sequence-number wrap: the ROC (part of the IV) goes from 0 to 1.
      for (let seq = 65_530; seq < 65_545; seq++) {
        const stamp = 1.7e15 + seq * 9613.25;
        const d = protect(tx, clearPacket(seq, 0x1234_5678, stamp, seq % 2 === 0));
        t.equal(reader.read(d), stamp, `${profile} seq ${seq}`);
      }
    }
  },
);

t.test('with the wrong key the read stamp is garbage', async (t) => {
  const k = keys();
  const d = protect(
    new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: k }),
    clearPacket(7, 9, 1e15),
  );
  t.not(new StampReader('AEAD_AES_128_GCM', keys()).read(d), 1e15);
  t.throws(() => new StampReader('AES_CM_128_HMAC_SHA1_80', { ...k, masterSalt: randomBytes(14) }));
});

t.test('ReceiveCheck: 1 packet in N fully unprotected; tampering counts as bad', async (t) => {
  const k = keys();
  const tx = new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: k });
  const rx = new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: k, replayWindow: 1024 });
  const reader = new StampReader('AEAD_AES_128_GCM', k);
  const check = new ReceiveCheck(4);
  const unprotect = (d: Buffer) => {
    const n = rx.unprotectRtp(d, d.length, d);
    return typeof n === 'number' ? n : undefined;
  };
  const stamps: number[] = [];
  for (let seq = 0; seq < 8; seq++) {
    stamps.push(check.stampOf(protect(tx, clearPacket(seq, 5, 1e15 + seq)), reader, unprotect));
  }
  t.same(
    stamps,
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => 1e15 + i),
  );
  t.equal(check.verified, 2, 'packets 0 and 4');
  t.equal(check.bad, 0);

  // Packet 8 is verified: a flipped payload bit fails its tag.
  const bad = protect(tx, clearPacket(8, 5, 1e15 + 8));
  bad[100] = (bad[100] ?? 0) ^ 1;
  t.ok(Number.isNaN(check.stampOf(bad, reader, unprotect)), 'not counted');
  t.equal(check.bad, 1);
  // An unverified packet (9) with a bad tag still yields its stamp: reading is not verifying.
  const unverified = protect(tx, clearPacket(9, 5, 1e15 + 9));
  unverified[unverified.length - 1] = (unverified[unverified.length - 1] ?? 0) ^ 1;
  t.equal(check.stampOf(unverified, reader, unprotect), 1e15 + 9);

  // Every packet verified (verifyEvery 1, as with --quick).
  const all = new ReceiveCheck(1);
  for (let seq = 10; seq < 13; seq++)
    all.stampOf(protect(tx, clearPacket(seq, 5, 1)), reader, unprotect);
  t.equal(all.verified, 3);
  all.reset();
  t.equal(all.verified, 0);
});

t.test('stamp blocks come in runs: one ECB call per 64 in-order packets of an SSRC', async (t) => {
  const k = keys();
  const tx = new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: k });
  const reader = new StampReader('AEAD_AES_128_GCM', k);
  const packets = new Map<number, Buffer>();
  // 200 packets across the sequence-number wrap (the ROC changes inside a run).
  for (let i = 0; i < 200; i++) {
    const seq = 65_500 + i;
    packets.set(seq, protect(tx, clearPacket(seq, 0xabcd, 1e15 + seq)));
  }
  let wrong = 0;
  for (const [seq, d] of packets) if (reader.read(d) !== 1e15 + seq) wrong++;
  t.equal(wrong, 0, 'every stamp read right');
  t.equal(reader.ecbCalls, Math.ceil(200 / STAMP_RUN), 'a run per 64 packets');
  // A late packet from before the run is still read right (a run is made from it).
  t.equal(reader.read(packets.get(65_510)!), 1e15 + 65_510);
  // Another SSRC under the same key has runs of its own.
  const other = protect(tx, clearPacket(3, 0x77, 42));
  t.equal(reader.read(other), 42);
  t.equal(reader.read(packets.get(65_699)!), 1e15 + 65_699, 'the first SSRC again');
});
