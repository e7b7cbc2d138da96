/**
 * RFC 3711 §3.3.1: the receiver estimates the ROC from the highest index it accepted, so a
 * stream that loses many packets around the 65535 → 0 wrap still decrypts afterwards. Run
 * against werift 0.24 itself (its SrtpSession, the one its RTCPeerConnection uses): werift
 * bumps the ROC only when it sees the wrap within 100 sequence numbers on both sides
 * (`MaxROCDisorder`), and commits its ROC only after a packet authenticates, so once a gap
 * around the wrap hides the wrap it keeps guessing ROC 0, every later packet fails to
 * authenticate, and it never recovers. Both receivers get the very same packets, sealed by
 * rtcd's sender (which the libsrtp interop spec checks against libsrtp).
 */
import t from 'tap';
import { SrtpSession as WeriftSrtpSession } from 'werift';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpSession } from '../../lib/srtp/session.js';

/** werift's protection profile ids (RFC 5764 §4.1.2), for the two profiles it implements. */
const WERIFT_PROFILES: [SrtpProfileName, number][] = [
  ['AES_CM_128_HMAC_SHA1_80', 0x0001],
  ['AEAD_AES_128_GCM', 0x0007],
];
const SSRC = 0x5eed1e55;
const WRAP = 65536;

function keysFor(profile: SrtpProfileName) {
  return {
    masterKey: Buffer.from(Array.from({ length: 16 }, (_, i) => (i * 29 + 3) & 0xff)),
    masterSalt: Buffer.alloc(profile.startsWith('AEAD') ? 12 : 14, 0x3c),
  };
}

function rtp(index: number): Buffer {
  const p = Buffer.alloc(172);
  p[0] = 0x80;
  p[1] = 111;
  p.writeUInt16BE(index & 0xffff, 2);
  p.writeUInt32BE((index * 960) >>> 0, 4);
  p.writeUInt32BE(SSRC, 8);
  p.writeUInt32BE(index, 12); // the payload names its index, so a wrong ROC cannot pass
  return p;
}

interface Outcome {
  /** Delivered packets decrypted to the right bytes, before and after the gap. */
  before: number;
  after: number;
  delivered: { before: number; after: number };
  /** Packets after the gap once the receiver first failed: how many of them decrypted. */
  afterFirstFailure: number;
}

/**
 * Seals indices [first, last) with rtcd, drops the `lost` indices centred on the wrap (or
 * starting at `lostFrom` when given), and opens the rest in order with `open`.
 */
function run(
  profile: SrtpProfileName,
  open: (packet: Buffer) => Buffer | undefined,
  first: number,
  last: number,
  lost: number,
  lostFrom = WRAP - Math.floor(lost / 2),
): Outcome {
  const tx = new SrtpSession({ profile, keys: keysFor(profile) });
  const o: Outcome = {
    before: 0,
    after: 0,
    delivered: { before: 0, after: 0 },
    afterFirstFailure: 0,
  };
  let failed = false;
  for (let i = first; i < last; i++) {
    const plain = rtp(i);
    const sealed = Buffer.alloc(plain.length + 16);
    const n = tx.protectRtp(plain, plain.length, sealed);
    if (typeof n !== 'number') throw new Error(`rtcd protect ${i}: ${n.error}`);
    if (i >= lostFrom && i < lostFrom + lost) continue;
    const side = i < lostFrom ? 'before' : 'after';
    o.delivered[side]++;
    const got = open(sealed.subarray(0, n));
    const ok = got?.equals(plain) === true;
    if (ok) o[side]++;
    if (!ok) failed = true;
    else if (failed && side === 'after') o.afterFirstFailure++;
  }
  return o;
}

function rtcdReceiver(profile: SrtpProfileName) {
  const rx = new SrtpSession({ profile, keys: keysFor(profile) });
  return (packet: Buffer) => {
    const out = Buffer.alloc(packet.length);
    const n = rx.unprotectRtp(packet, packet.length, out);
    return typeof n === 'number' ? out.subarray(0, n) : undefined;
  };
}

function weriftReceiver(profile: SrtpProfileName, id: number) {
  const k = keysFor(profile);
  const rx = new WeriftSrtpSession({
    profile: id,
    keys: {
      localMasterKey: k.masterKey,
      localMasterSalt: k.masterSalt,
      remoteMasterKey: k.masterKey,
      remoteMasterSalt: k.masterSalt,
    },
  });
  return (packet: Buffer) => {
    try {
      return rx.decrypt(packet);
    } catch {
      return undefined; // werift throws when a packet does not authenticate
    }
  };
}

for (const [profile, id] of WERIFT_PROFILES) {
  t.test(`${profile}: 1,200 packets lost around the wrap — rtcd recovers, werift does not`, (t) => {
    const first = WRAP - 2000;
    const last = WRAP + 3000;
    const ours = run(profile, rtcdReceiver(profile), first, last, 1200);
    t.equal(ours.before, ours.delivered.before, `rtcd: all ${ours.before} before the gap`);
    t.equal(ours.after, ours.delivered.after, `rtcd: all ${ours.after} after the gap`);
    t.ok(ours.delivered.after > 2000, 'thousands of packets after the gap');

    const theirs = run(profile, weriftReceiver(profile, id), first, last, 1200);
    t.equal(theirs.before, theirs.delivered.before, 'werift: everything before the gap');
    // Deterministic: werift's guess depends only on the sequence numbers it has accepted.
    t.equal(theirs.after, 0, `werift: none of the ${theirs.delivered.after} after the gap`);
    t.end();
  });
}

t.test('where werift stops: the smallest loss around the wrap it does not survive', (t) => {
  const [profile, id] = WERIFT_PROFILES[0] ?? ['AES_CM_128_HMAC_SHA1_80', 1];
  // [layout, first lost index for n losses, smallest n werift fails at (-1: none up to 400)].
  // Observed with werift 0.24.4; deterministic, since werift's ROC guess depends only on the
  // sequence numbers it accepted: it needs to see sequence number 0 itself, or the last
  // packet before the wrap and the first after it within 100 of it.
  const layouts: [string, (n: number) => number, number][] = [
    ['centred on the wrap', (n) => WRAP - Math.floor(n / 2), 200],
    ['all after the wrap (0 lost)', () => WRAP, 100],
    ['all before the wrap (0 delivered)', (n) => WRAP - n, -1],
  ];
  const found: Record<string, number> = {};
  for (const [name, lostFrom, expected] of layouts) {
    let smallest = -1;
    for (let n = 10; n <= 400 && smallest < 0; n += 10) {
      const theirs = run(
        profile,
        weriftReceiver(profile, id),
        WRAP - 500,
        WRAP + 500,
        n,
        lostFrom(n),
      );
      if (theirs.after < theirs.delivered.after) {
        smallest = n;
        t.equal(theirs.after, 0, `werift, ${n} lost ${name}: nothing after the gap`);
      }
      // rtcd, the same packets: always everything.
      const ours = run(profile, rtcdReceiver(profile), WRAP - 500, WRAP + 500, n, lostFrom(n));
      if (ours.after !== ours.delivered.after) t.fail(`rtcd lost packets after a gap of ${n}`);
    }
    found[name] = smallest;
    const said =
      smallest < 0
        ? `werift survives up to 400 losses ${name}`
        : `werift fails from ${smallest} losses ${name}`;
    t.equal(smallest, expected, said);
  }
  t.comment(`werift 0.24 stops decrypting for good from: ${JSON.stringify(found)} lost packets`);
  t.end();
});
