import t from 'tap';
import { decodeAddress, decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { encodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { encodeTieBreaker } from '../../lib/stun/attributes/ice.js';
import { encodeIcmp } from '../../lib/stun/attributes/icmp.js';
import {
  encodePasswordAlgorithms,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
import { attributeDecoders, describeAttributes } from '../../lib/stun/attributes/registry.js';
import { decodeString } from '../../lib/stun/attributes/string.js';
import { userhash } from '../../lib/stun/attributes/userhash.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType as T } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import {
  longTermKey,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/integrity.js';
import {
  decodeStunMessage,
  isStunMessage,
  unknownComprehensionRequired,
} from '../../lib/stun/message.js';
import {
  channelDataLength,
  isChannelData,
  streamFrameLength,
} from '../../lib/turn/channel-data.js';
import { prng } from '../helpers/prng.js';
import * as vectors from './vectors.js';

// Seeded so a failure reproduces: FUZZ_SEED=<n> npx tap spec/stun/fuzz.spec.ts
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 200_000);

const random = prng(SEED);
const int = (n: number): number => Math.floor(random() * n);
const bytes = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};

const KEY = longTermKey('alice', 'rtcd', 'secret');
const TXID = Buffer.from('a1a2a3a4a5a6a7a8a9aaabac', 'hex');

/** Well-formed messages covering every attribute codec: the seeds that mutations start from. */
function corpus(): Buffer[] {
  const full = new StunMessageBuilder(0, 3, TXID)
    .addString(T.USERNAME, 'alice')
    .addString(T.REALM, 'rtcd')
    .addString(T.NONCE, 'nonce-123')
    .addXorAddress(T.XOR_PEER_ADDRESS, { family: 4, address: '10.0.0.1', port: 4000 })
    .addXorAddress(T.XOR_RELAYED_ADDRESS, { family: 6, address: '2001:db8::7', port: 5000 })
    .addAddress(T.ALTERNATE_SERVER, { family: 6, address: '::ffff:1.2.3.4', port: 3478 })
    .addUint32(T.LIFETIME, 600)
    .add(T.CHANNEL_NUMBER, Buffer.from([0x40, 0x01, 0, 0]))
    .add(T.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]))
    .add(T.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0]))
    .add(T.EVEN_PORT, Buffer.from([0x80]))
    .add(T.RESERVATION_TOKEN, Buffer.alloc(8, 7))
    .add(T.DONT_FRAGMENT, Buffer.alloc(0))
    .add(T.DATA, Buffer.from('payload'))
    .add(T.USERHASH, userhash('alice', 'rtcd'))
    .add(
      T.PASSWORD_ALGORITHMS,
      encodePasswordAlgorithms([passwordAlgorithm(1), passwordAlgorithm(2)]),
    )
    .add(T.PASSWORD_ALGORITHM, encodePasswordAlgorithms([passwordAlgorithm(2)]))
    .add(T.ICE_CONTROLLING, encodeTieBreaker(0x0102030405060708n))
    .addUint32(T.PRIORITY, 0x6e0001ff)
    .add(T.USE_CANDIDATE, Buffer.alloc(0))
    .add(T.ADDRESS_ERROR_CODE, Buffer.from([2, 0, 4, 40, 0x41]))
    .add(T.ICMP, encodeIcmp({ type: 3, code: 4, errorData: 1400 }))
    .add(T.ALTERNATE_DOMAIN, Buffer.from('turn.example.org'))
    .addUnknownAttributes([0x7777, 0x0003, 0x0004])
    .add(T.ERROR_CODE, encodeErrorCode(420))
    .addString(T.SOFTWARE, 'rtcd fuzz')
    .addMessageIntegrity(KEY)
    .addMessageIntegritySha256(KEY, 24)
    .addFingerprint()
    .toBuffer();
  const small = new StunMessageBuilder(2, 1, TXID)
    .addXorAddress(T.XOR_MAPPED_ADDRESS, { family: 4, address: '192.0.2.1', port: 1 })
    .addFingerprint()
    .toBuffer();
  // Every RFC vector, including B.1 as published (which is itself malformed: bad-length).
  const vs = Object.values(vectors).filter((v): v is Buffer => Buffer.isBuffer(v));
  return [full, small, ...vs];
}

type Mutation = (b: Buffer) => Buffer;

const mutations: Mutation[] = [
  (b) => flipBits(b, 1),
  (b) => flipBits(b, 1 + int(8)),
  (b) => b.subarray(0, int(b.length)), // truncated
  (b) => Buffer.concat([b, bytes(1 + int(12))]), // trailing garbage
  (b) => setLength(Buffer.from(b), int(0x10000)), // bogus header length
  (b) => setLength(Buffer.from(b), b.length - 20 + (int(9) - 4) * 4), // plausible, wrong length
  (b) => bogusAttributeLength(Buffer.from(b)),
  (b) => spliceRandom(Buffer.from(b)),
  (b) => reshuffleTail(b),
];

function flipBits(b: Buffer, n: number): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < n && out.length > 0; i++) out[int(out.length)]! ^= 1 << int(8);
  return out;
}

function setLength(b: Buffer, length: number): Buffer {
  if (b.length >= 4) b.writeUInt16BE(length & 0xffff, 2);
  return b;
}

/** Rewrites the length field of one attribute (found by walking the real layout). */
function bogusAttributeLength(b: Buffer): Buffer {
  const offsets: number[] = [];
  for (let o = 20; o + 4 <= b.length; o += 4 + ((b.readUInt16BE(o + 2) + 3) & ~3)) offsets.push(o);
  if (offsets.length === 0) return b;
  const o = offsets[int(offsets.length)]!;
  const choices = [0, 1, 3, 4, 7, 8, 20, 32, 0xffff, int(0x10000), b.readUInt16BE(o + 2) + 1];
  b.writeUInt16BE(choices[int(choices.length)]!, o + 2);
  return b;
}

function spliceRandom(b: Buffer): Buffer {
  if (b.length <= 20) return b;
  const at = 20 + int(b.length - 20);
  const n = Math.min(b.length - at, 1 + int(16));
  bytes(n).copy(b, at);
  return b;
}

/** A valid header followed by random attribute bytes of the right total length. */
function reshuffleTail(b: Buffer): Buffer {
  const body = bytes(int(16) * 4);
  const out = Buffer.concat([b.subarray(0, 20), body]);
  out.writeUInt16BE(body.length, 2);
  return out;
}

const anyDecoders = [...attributeDecoders.values()];

t.test(`${ITERATIONS} random and mutated buffers never throw (seed ${SEED})`, async (t) => {
  const seeds = corpus();
  const wellFormed = seeds.filter((s) => decodeStunMessage(s).ok).length;
  t.equal(wellFormed, seeds.length - 1, 'all corpus messages but B.1-as-published decode');
  let decoded = 0;
  let attributesSeen = 0;
  let fingerprintedFlips = 0;
  const problems: string[] = [];
  const started = Date.now();

  for (let i = 0; i < ITERATIONS && problems.length < 5; i++) {
    let buf: Buffer;
    let singleFlipOfFingerprinted = false;
    const kind = int(10);
    if (kind === 0) {
      buf = bytes(int(120));
    } else if (kind === 1) {
      buf = reshuffleTail(seeds[int(seeds.length)]!);
    } else {
      const seed = seeds[int(seeds.length)]!;
      const m = int(mutations.length);
      buf = mutations[m]!(seed);
      singleFlipOfFingerprinted = m === 0 && seed.readUInt16BE(seed.length - 8) === T.FINGERPRINT;
    }
    try {
      isStunMessage(buf);
      isChannelData(buf, int(4));
      channelDataLength(buf, int(8) - 2);
      streamFrameLength(buf, int(8) - 2);
      const r = decodeStunMessage(buf);
      if (!r.ok) continue;
      decoded++;
      const m = r.message;
      if (!isStunMessage(buf)) problems.push(`#${i} decoded but isStunMessage is false`);
      for (const a of m.attributes) {
        attributesSeen++;
        if (a.offset + a.length > buf.length) problems.push(`#${i} attribute out of bounds`);
        attributeDecoders.get(a.type)?.(m, a);
        anyDecoders[int(anyDecoders.length)]!(m, a); // any codec on any bytes
        decodeAddress(m, a);
        decodeXorAddress(m, a);
        decodeString(m, a, 763);
      }
      verifyMessageIntegrity(m, KEY);
      verifyMessageIntegritySha256(m, KEY);
      const fp = verifyFingerprint(m);
      // CRC-32 detects every single-bit error, so a flipped fingerprinted message never verifies.
      if (singleFlipOfFingerprinted) {
        fingerprintedFlips++;
        if (fp) problems.push(`#${i} single bit flip passed FINGERPRINT: ${buf.toString('hex')}`);
      }
      unknownComprehensionRequired(m, new Set([T.USERNAME]));
      describeAttributes(m);
    } catch (err) {
      problems.push(`#${i} threw ${String(err)} on ${buf.toString('hex')}`);
    }
  }

  t.same(problems, [], 'no exceptions, no broken invariants');
  // Guard against a fuzzer that silently stops reaching the interesting code.
  t.ok(decoded > ITERATIONS / 10, `a fair share decoded (${decoded})`);
  t.ok(attributesSeen > ITERATIONS, `attribute decoders exercised (${attributesSeen})`);
  t.ok(
    fingerprintedFlips > ITERATIONS / 100,
    `single-bit flips checked against CRC (${fingerprintedFlips})`,
  );
  t.comment(`${ITERATIONS} buffers in ${Date.now() - started} ms`);
});
