import { createHmac } from 'node:crypto';
import t from 'tap';
import { deriveSessionKey, Label } from '../../lib/srtp/key-derivation.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { rtpHeaderLength, SrtpSession } from '../../lib/srtp/session.js';

const PROFILES: SrtpProfileName[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

function keysFor(profile: SrtpProfileName, seed = 1): { masterKey: Buffer; masterSalt: Buffer } {
  const keyLength = profile === 'AEAD_AES_256_GCM' ? 32 : 16;
  const saltLength = profile.startsWith('AEAD') ? 12 : 14;
  return {
    masterKey: Buffer.alloc(keyLength, seed),
    masterSalt: Buffer.alloc(saltLength, seed + 1),
  };
}

function pair(profile: SrtpProfileName, replayWindow?: number) {
  const keys = keysFor(profile);
  return {
    sender: new SrtpSession({ profile, keys }),
    receiver: new SrtpSession({ profile, keys, replayWindow }),
  };
}

/** An RTP packet with two CSRCs and a one-byte-form header extension. */
function rtpPacket(seq: number, ssrc = 0x11223344, payloadLength = 40): Buffer {
  const ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00]);
  const header = Buffer.alloc(12 + 8);
  header[0] = 0x80 | 0x10 | 2;
  header[1] = 96;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(seq * 960, 4);
  header.writeUInt32BE(ssrc, 8);
  header.writeUInt32BE(1, 12);
  header.writeUInt32BE(2, 16);
  const payload = Buffer.alloc(payloadLength, seq & 0xff);
  payload.writeUInt32BE(seq >>> 0, 0);
  return Buffer.concat([header, ext, payload]);
}

function rtcpPacket(ssrc = 0x11223344): Buffer {
  const p = Buffer.alloc(28, 0x5a);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

function protect(s: SrtpSession, p: Buffer): Buffer {
  const out = Buffer.alloc(p.length + 64);
  const n = s.protectRtp(p, p.length, out);
  if (typeof n !== 'number') throw new Error(`protect failed: ${n.error}`);
  return out.subarray(0, n);
}

function unprotect(s: SrtpSession, p: Buffer): Buffer | string {
  const out = Buffer.alloc(p.length);
  const n = s.unprotectRtp(p, p.length, out);
  return typeof n === 'number' ? out.subarray(0, n) : n.error;
}

t.test('rtpHeaderLength counts CSRCs and the header extension', (t) => {
  t.equal(rtpHeaderLength(rtpPacket(1), 68), 28);
  t.equal(rtpHeaderLength(Buffer.from([0x40, 0, 0, 0]), 4), -1, 'version 1');
  t.equal(rtpHeaderLength(rtpPacket(1), 22), -1, 'extension overruns');
  t.end();
});

for (const profile of PROFILES) {
  t.test(`${profile}: protect → unprotect round trips RTP and RTCP, in place and not`, (t) => {
    const { sender, receiver } = pair(profile);
    for (let seq = 100; seq < 110; seq++) {
      const p = rtpPacket(seq);
      const s = protect(sender, p);
      t.equal(s.length, p.length + sender.rtpOverhead);
      t.notSame(s.subarray(28, p.length), p.subarray(28), 'payload is encrypted');
      t.same(s.subarray(0, 28), p.subarray(0, 28), 'header stays clear');
      if (seq % 2 === 0) {
        t.same(unprotect(receiver, s), p);
      } else {
        const buf = Buffer.from(s);
        t.equal(receiver.unprotectRtp(buf, buf.length, buf), p.length, 'in place');
        t.same(buf.subarray(0, p.length), p);
      }
    }
    const rtcp = rtcpPacket();
    const inPlace = Buffer.alloc(rtcp.length + 64);
    rtcp.copy(inPlace);
    const n = sender.protectRtcp(inPlace, rtcp.length, inPlace);
    t.equal(n, rtcp.length + sender.rtcpOverhead);
    if (typeof n !== 'number') throw new Error('protectRtcp failed');
    t.notSame(inPlace.subarray(8, rtcp.length), rtcp.subarray(8), 'RTCP body is encrypted');
    const out = Buffer.alloc(n);
    t.equal(receiver.unprotectRtcp(inPlace, n, out), rtcp.length);
    t.same(out.subarray(0, rtcp.length), rtcp);
    t.end();
  });

  t.test(`${profile}: a forged tag is rejected and leaves the stream state untouched`, (t) => {
    const { sender, receiver } = pair(profile);
    t.type(unprotect(receiver, protect(sender, rtpPacket(65000))), Buffer);
    // A forgery whose sequence number would move the ROC guess to ROC+1.
    const genuine = protect(sender, rtpPacket(65001));
    const forged = Buffer.from(protect(sender, rtpPacket(65536 + 10)));
    forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0x01;
    t.equal(unprotect(receiver, forged), 'auth-failed');
    const bodyFlip = Buffer.from(genuine);
    bodyFlip[30] = (bodyFlip[30] ?? 0) ^ 0x80;
    t.equal(unprotect(receiver, bodyFlip), 'auth-failed', 'a flipped payload bit');
    t.same(unprotect(receiver, genuine), rtpPacket(65001), 'the next genuine packet decrypts');
    t.end();
  });

  t.test(`${profile}: a replayed packet is rejected`, (t) => {
    const { sender, receiver } = pair(profile);
    const s = protect(sender, rtpPacket(7));
    t.type(unprotect(receiver, s), Buffer);
    t.equal(unprotect(receiver, s), 'replayed');
    const out = Buffer.alloc(128);
    const r = Buffer.alloc(128);
    const n = sender.protectRtcp(rtcpPacket(), 28, r);
    if (typeof n !== 'number') throw new Error('protectRtcp failed');
    t.equal(receiver.unprotectRtcp(r, n, out), 28);
    t.same(receiver.unprotectRtcp(r, n, out), { error: 'replayed' }, 'SRTCP replay');
    t.end();
  });
}

t.test('rollover across 65535 → 0 with 1,200 packets lost around the wrap', (t) => {
  for (const profile of PROFILES) {
    const { sender, receiver } = pair(profile);
    let failures = 0;
    let delivered = 0;
    for (let i = 64000; i < 65536 + 3000; i++) {
      const s = protect(sender, rtpPacket(i));
      if (i >= 65536 - 600 && i < 65536 + 600) continue; // lost
      const p = unprotect(receiver, s);
      if (!(p instanceof Buffer) || !p.equals(rtpPacket(i))) failures++;
      delivered++;
    }
    t.equal(failures, 0, `${profile}: all ${delivered} delivered packets decrypt`);
  }
  // A packet from before the wrap arriving after it: the guess is ROC - 1.
  const { sender, receiver } = pair('AEAD_AES_256_GCM');
  t.type(unprotect(receiver, protect(sender, rtpPacket(65520))), Buffer);
  const late = protect(sender, rtpPacket(65530));
  t.type(unprotect(receiver, protect(sender, rtpPacket(65536 + 4))), Buffer);
  t.same(unprotect(receiver, late), rtpPacket(65530), 'late packet decrypts with ROC - 1');
  t.type(unprotect(receiver, protect(sender, rtpPacket(65536 + 5))), Buffer, 'ROC stays 1');
  t.end();
});

t.test('the ROC guess follows RFC 3711 Appendix A, not a small heuristic', (t) => {
  const { sender, receiver } = pair('AES_CM_128_HMAC_SHA1_80');
  // Only every 20,000th packet is sent and delivered: gaps far beyond a ±100 heuristic
  // still land on the right ROC while they stay under 2^15.
  let ok = 0;
  for (let i = 0; i < 4 * 65536; i += 20000) {
    const p = rtpPacket(i, 0x1234, 4);
    const back = unprotect(receiver, protect(sender, p));
    ok += back instanceof Buffer && back.equals(p) ? 1 : 0;
  }
  t.equal(ok, Math.ceil((4 * 65536) / 20000));
  t.end();
});

t.test('reordering inside the window is accepted, outside it rejected', (t) => {
  const { sender, receiver } = pair('AEAD_AES_128_GCM');
  const packets = new Map<number, Buffer>();
  for (let i = 1; i <= 300; i++) packets.set(i, protect(sender, rtpPacket(i)));
  const get = (i: number): Buffer => packets.get(i) ?? Buffer.alloc(0);
  t.type(unprotect(receiver, get(100)), Buffer);
  t.type(unprotect(receiver, get(60)), Buffer, '40 behind, inside 64');
  t.type(unprotect(receiver, get(37)), Buffer, '63 behind: the oldest the window holds');
  t.equal(unprotect(receiver, get(36)), 'replayed', '64 behind: outside');
  t.type(unprotect(receiver, get(101)), Buffer);
  t.equal(unprotect(receiver, get(60)), 'replayed', 'a reordered packet replayed');

  const wide = pair('AEAD_AES_128_GCM', 1024).receiver;
  t.equal(wide.replayWindow, 1024);
  t.type(unprotect(wide, get(300)), Buffer);
  for (let i = 299; i >= 1; i -= 7) t.type(unprotect(wide, get(i)), Buffer, `${i} in 1024`);
  t.equal(unprotect(wide, get(300)), 'replayed');
  t.end();
});

t.test('the window slides: old bits are cleared as the highest index advances', (t) => {
  const { sender, receiver } = pair('AES_CM_128_HMAC_SHA1_32');
  const packets: Buffer[] = [];
  for (let i = 0; i < 200; i++) packets.push(protect(sender, rtpPacket(i)));
  t.type(unprotect(receiver, packets[0] ?? Buffer.alloc(0)), Buffer);
  t.type(unprotect(receiver, packets[64] ?? Buffer.alloc(0)), Buffer, 'bit 0 reused by 64');
  t.type(unprotect(receiver, packets[63] ?? Buffer.alloc(0)), Buffer);
  t.type(unprotect(receiver, packets[190] ?? Buffer.alloc(0)), Buffer);
  t.type(unprotect(receiver, packets[128] ?? Buffer.alloc(0)), Buffer, 'bit of 64 was cleared');
  t.end();
});

t.test('SRTCP: E flag set, index counts from 0 per SSRC, and has its own replay window', (t) => {
  const { sender, receiver } = pair('AES_CM_128_HMAC_SHA1_80', 64);
  const out = Buffer.alloc(128);
  const sent: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    const n = sender.protectRtcp(rtcpPacket(), 28, out);
    if (typeof n !== 'number') throw new Error('protectRtcp failed');
    t.equal(out.readUInt32BE(28), (0x80000000 | i) >>> 0, `E flag and index ${i}`);
    sent.push(Buffer.from(out.subarray(0, n)));
  }
  const other = Buffer.alloc(128);
  const n = sender.protectRtcp(rtcpPacket(0x99), 28, other);
  t.equal(n, 42);
  t.equal(other.readUInt32BE(28), 0x80000000, 'another SSRC starts at 0');
  const plain = Buffer.alloc(128);
  t.equal(receiver.unprotectRtcp(sent[99] ?? out, 42, plain), 28);
  t.equal(receiver.unprotectRtcp(sent[50] ?? out, 42, plain), 28, 'reordered inside');
  t.same(receiver.unprotectRtcp(sent[10] ?? out, 42, plain), { error: 'replayed' });
  // RTP traffic of the same SSRC does not disturb the SRTCP window.
  t.type(unprotect(receiver, protect(sender, rtpPacket(5))), Buffer);
  t.equal(receiver.unprotectRtcp(sent[98] ?? out, 42, plain), 28);

  // E clear on an AES-CM packet: the body passes through, authenticated only.
  const clear = Buffer.from(sent[97] ?? out);
  clear[28] = (clear[28] ?? 0) & 0x7f;
  t.same(receiver.unprotectRtcp(clear, 42, plain), { error: 'auth-failed' }, 'E is covered');
  t.end();
});

t.test('short, malformed and misused input', (t) => {
  const { sender, receiver } = pair('AES_CM_128_HMAC_SHA1_80');
  const out = Buffer.alloc(256);
  t.same(receiver.unprotectRtp(Buffer.alloc(21), 21, out), { error: 'too-short' });
  t.same(receiver.unprotectRtcp(Buffer.alloc(21), 21, out), { error: 'too-short' });
  t.same(sender.protectRtp(Buffer.alloc(11), 11, out), { error: 'too-short' });
  t.same(sender.protectRtcp(Buffer.alloc(7), 7, out), { error: 'too-short' });
  t.same(receiver.unprotectRtp(Buffer.alloc(40), 40, out), { error: 'bad-header' });
  t.same(receiver.unprotectRtcp(Buffer.alloc(40), 40, out), { error: 'bad-header' });
  t.same(sender.protectRtp(Buffer.alloc(40), 40, out), { error: 'bad-header' });
  t.throws(() => sender.protectRtp(rtpPacket(1), 68, Buffer.alloc(70)), TypeError);
  t.throws(() => sender.protectRtp(rtpPacket(1), 69, out), TypeError);
  t.throws(
    () =>
      new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys: keysFor('AES_CM_128_HMAC_SHA1_80') }),
    TypeError,
  );
  t.throws(
    () =>
      new SrtpSession({
        profile: 'AEAD_AES_128_GCM',
        keys: keysFor('AEAD_AES_128_GCM'),
        replayWindow: 0,
      }),
    TypeError,
  );
  t.end();
});

t.test('maxStreams bounds the SSRCs tracked; forgeries create no state', (t) => {
  const keys = keysFor('AES_CM_128_HMAC_SHA1_80');
  const sender = new SrtpSession({ profile: 'AES_CM_128_HMAC_SHA1_80', keys });
  const receiver = new SrtpSession({ profile: 'AES_CM_128_HMAC_SHA1_80', keys, maxStreams: 2 });
  const forged = Buffer.from(protect(sender, rtpPacket(1, 7)));
  forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
  t.equal(unprotect(receiver, forged), 'auth-failed');
  t.type(unprotect(receiver, protect(sender, rtpPacket(1, 1))), Buffer);
  t.type(unprotect(receiver, protect(sender, rtpPacket(1, 2))), Buffer);
  t.equal(unprotect(receiver, protect(sender, rtpPacket(1, 3))), 'stream-limit');
  t.type(unprotect(receiver, protect(sender, rtpPacket(2, 1))), Buffer, 'known SSRCs go on');
  t.ok(receiver.deleteStream(1), 'SSRC 1 forgotten');
  t.notOk(receiver.deleteStream(1));
  t.type(unprotect(receiver, protect(sender, rtpPacket(2, 3))), Buffer, 'its slot is free');
  t.end();
});

t.test('SRTCP with the E flag clear (AES-CM): authenticated, passed through unencrypted', (t) => {
  const keys = keysFor('AES_CM_128_HMAC_SHA1_80');
  const receiver = new SrtpSession({ profile: 'AES_CM_128_HMAC_SHA1_80', keys });
  const authKey = deriveSessionKey(keys.masterKey, keys.masterSalt, Label.rtcpAuthentication, 20);
  const rtcp = rtcpPacket();
  const word = Buffer.from([0x00, 0x00, 0x00, 0x07]); // E = 0, index 7
  const body = Buffer.concat([rtcp, word]);
  const tag = createHmac('sha1', authKey).update(body).digest().subarray(0, 10);
  const packet = Buffer.concat([body, tag]);
  const out = Buffer.alloc(packet.length);
  t.equal(receiver.unprotectRtcp(packet, packet.length, out), rtcp.length);
  t.same(out.subarray(0, rtcp.length), rtcp);
  t.same(receiver.unprotectRtcp(packet, packet.length, out), { error: 'replayed' });
  t.end();
});

t.test('the sender refuses to reuse an index (keystream / GCM nonce reuse)', (t) => {
  for (const profile of ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const) {
    const keys = keysFor(profile);
    const sender = new SrtpSession({ profile, keys });
    const out = Buffer.alloc(256);
    t.type(sender.protectRtp(rtpPacket(500), 68, out), 'number');
    t.same(sender.protectRtp(rtpPacket(500), 68, out), { error: 'replayed' }, `${profile} repeat`);
    t.type(sender.protectRtp(rtpPacket(470), 68, out), 'number', 'late but new: sealed');
    t.type(sender.protectRtp(rtpPacket(600), 68, out), 'number');
    t.same(sender.protectRtp(rtpPacket(536), 68, out), { error: 'replayed' }, 'older than 64');

    const repeating = new SrtpSession({ profile, keys, allowRepeatTx: true });
    const first = Buffer.alloc(256);
    const again = Buffer.alloc(256);
    t.equal(repeating.protectRtp(rtpPacket(500), 68, first), 68 + repeating.rtpOverhead);
    t.equal(repeating.protectRtp(rtpPacket(500), 68, again), 68 + repeating.rtpOverhead);
    t.same(again, first, 'allowRepeatTx: the same packet seals to the same bytes');
    repeating.protectRtp(rtpPacket(600), 68, out);
    t.same(repeating.protectRtp(rtpPacket(500), 68, out), { error: 'replayed' }, 'not when old');
  }
  t.end();
});

t.test(
  'a jump of more than 2^15 early in a stream (ROC 0) still protects and opens, as libsrtp does',
  (t) => {
    // Found by the libsrtp cross-check: SSRC 7, sequence numbers 10, 40000, 40001 (libsrtp,
    // hence Chrome, seals all three; RFC 3711 Appendix A alone would guess ROC - 1 = -1).
    const { sender, receiver } = pair('AES_CM_128_HMAC_SHA1_80');
    for (const seq of [10, 40000, 40001]) {
      const plain = rtpPacket(seq, 7);
      const opened = unprotect(receiver, protect(sender, plain));
      t.same(opened, plain, `seq ${seq}`);
    }
    t.end();
  },
);
