import t from 'tap';
import { decodeRtcp, encodeRtcp, type RtcpPacket } from '../../lib/rtcp/index.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { hex } from './hex.js';

/**
 * Mutated RTCP datagrams through decodeRtcp: nothing may throw. When a mutant decodes, its
 * packets re-encode (or are refused with a TypeError, e.g. an APP name that is not ASCII) and
 * the re-encoded datagram decodes again.
 */
const { seed, iterations } = fuzzSettings({ seed: 0x5eed3550, iterations: 100_000 });

const SEEDS: Buffer[] = [
  hex(`81c8000c 12345678 e93c2f1a 80000000 0001e240 00000064 00003e80
       9abcdef0 40fffffe 00010005 00000010 2f1a8000 00010000`),
  hex('81c90007 00000001 00000002 00000003 0000ffff 00000004 00000005 00000006'),
  hex('81ca0004 12345678 01097573 65724068 6f737400'),
  hex('81cb0003 00000007 04646f6e 65000000'),
  hex('85cc0003 0000abcd 52544344 01020304'),
  hex('81cd0003 00000001 00000002 00640005'),
  hex('81ce0002 00000001 00000002'),
  hex('84ce0004 00000001 00000000 0000abcd 05000000'),
  hex('8fce0005 00000001 00000000 52454d42 011a20df 4874ed16'),
  hex('afcd0007 00000001 dd586eb6 00010009 5e911000 20091c0c 2c380004 00081801'),
  hex('afcd0007 9b74f61f 9371dcbc 853c0009 63f916b3 d5520030 9baa6aaa 7b010901'),
  hex('8fcd0007 fa17fa17 193dd8bb 01740006 45b15a40 40022004 1ffe1f9a d000d000'),
  hex(`80cf000a 12345678 04000002 e93c2f1a 80000000 05000003 9abcdef0 2f1a8000
       00008000 07aa0001 01020304`),
];
// Compound seeds: every pair behind an RR.
const RR = SEEDS[1]!;
for (const s of SEEDS.slice()) SEEDS.push(Buffer.concat([RR, s]));

function mutate(rnd: Random, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + rnd.int(4);
  for (let e = 0; e < edits; e++) {
    switch (rnd.int(8)) {
      case 0: // flip a bit
        if (b.length) b[rnd.int(b.length)]! ^= 1 << rnd.int(8);
        break;
      case 1: // random byte
        if (b.length) b[rnd.int(b.length)] = rnd.int(256);
        break;
      case 2: // truncate
        b = b.subarray(0, rnd.int(b.length + 1));
        break;
      case 3: // append random bytes
        b = Buffer.concat([b, rnd.bytes(rnd.int(12))]);
        break;
      case 4: // rewrite a length-ish 16-bit field at a word boundary
        if (b.length >= 4)
          b.writeUInt16BE(rnd.int(65536), (rnd.int(b.length >> 2) << 2) + 2 * rnd.int(2));
        break;
      case 5: // small or huge count field in the first byte of a word
        if (b.length >= 4) b[rnd.int(b.length >> 2) << 2] = rnd.int(256);
        break;
      case 6: // splice another seed
        b = Buffer.concat([b, rnd.pick(SEEDS).subarray(0, rnd.int(40))]);
        break;
      default: // random 16-bit value anywhere (TWCC counts, chunks, deltas)
        if (b.length >= 2) b.writeUInt16BE(rnd.int(65536), rnd.int(b.length - 1));
    }
  }
  return b;
}

function reencode(packets: RtcpPacket[]): Buffer | undefined {
  try {
    return encodeRtcp(packets);
  } catch (err) {
    if (err instanceof TypeError) return undefined;
    throw err;
  }
}

t.test(`RTCP fuzz: ${iterations} mutated datagrams (seed ${seed})`, (t) => {
  const rnd = new Random(seed);
  let decoded = 0;
  let rebuilt = 0;
  for (let i = 0; i < iterations; i++) {
    const input = mutate(rnd, rnd.pick(SEEDS));
    let r: ReturnType<typeof decodeRtcp>;
    try {
      r = decodeRtcp(input);
    } catch (err) {
      t.fail(`iteration ${i} threw on ${input.toString('hex')}: ${String(err)}`);
      return t.end();
    }
    if (!r.ok) continue;
    decoded++;
    const again = reencode(r.packets);
    if (!again) continue;
    rebuilt++;
    if (!decodeRtcp(again).ok) {
      t.fail(`iteration ${i}: re-encoding ${input.toString('hex')} did not decode`);
      return t.end();
    }
  }
  t.pass(`no throw; ${decoded} mutants decoded, ${rebuilt} re-encoded and decoded again`);
  t.ok(decoded > iterations / 100, 'the mutator leaves enough datagrams valid to go deep');
  t.end();
});
