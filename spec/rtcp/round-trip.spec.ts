import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  type ReportBlock,
  type RtcpPacket,
  type XrBlock,
} from '../../lib/rtcp/index.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

/**
 * Random packets of every kind, alone and in compounds, through encodeRtcp and decodeRtcp:
 * what comes back equals what went in.
 */
const { seed, iterations } = fuzzSettings({ seed: 0x3550, iterations: 10_000 });

const u32 = (r: Random) => r.int(2 ** 32);
const ascii = (r: Random, max: number) =>
  String.fromCharCode(...Array.from({ length: r.int(max + 1) }, () => 0x20 + r.int(95)));
const words = (r: Random, maxWords: number) => r.bytes(4 * r.int(maxWords + 1));
const times = <T>(r: Random, max: number, f: () => T): T[] =>
  Array.from({ length: r.int(max + 1) }, f);

function reportBlock(r: Random): ReportBlock {
  return {
    ssrc: u32(r),
    fractionLost: r.int(256),
    cumulativeLost: r.int(1 << 24) - (1 << 23),
    highestSequence: u32(r),
    jitter: u32(r),
    lastSenderReport: u32(r),
    delaySinceLastSenderReport: u32(r),
  };
}

function xrBlock(r: Random): XrBlock {
  switch (r.int(3)) {
    case 0:
      return { type: 4, ntpTime: BigInt(u32(r)) * 2n ** 32n + BigInt(u32(r)) };
    case 1:
      return {
        type: 5,
        items: times(r, 3, () => ({
          ssrc: u32(r),
          lastReceiverReport: u32(r),
          delaySinceLastReceiverReport: u32(r),
        })),
      };
    default:
      return { type: 6 + r.int(200), typeSpecific: r.int(256), body: words(r, 3) };
  }
}

function randomPacket(r: Random): RtcpPacket {
  const fb = { senderSsrc: u32(r), mediaSsrc: u32(r) };
  switch (r.int(11)) {
    case 0: {
      const sr: RtcpPacket = {
        kind: 'sr',
        ssrc: u32(r),
        ntpTime: BigInt(u32(r)) * 2n ** 32n + BigInt(u32(r)),
        rtpTimestamp: u32(r),
        packetCount: u32(r),
        octetCount: u32(r),
        reports: times(r, 4, () => reportBlock(r)),
      };
      if (r.chance(0.2)) sr.extension = r.bytes(4 * (1 + r.int(3)));
      return sr;
    }
    case 1:
      return { kind: 'rr', ssrc: u32(r), reports: times(r, 4, () => reportBlock(r)) };
    case 2:
      return {
        kind: 'sdes',
        chunks: times(r, 3, () => ({
          ssrc: u32(r),
          items: times(r, 3, () => ({ type: 1 + r.int(8), text: ascii(r, 40) })),
        })),
      };
    case 3: {
      const bye: RtcpPacket = { kind: 'bye', ssrcs: times(r, 4, () => u32(r)) };
      if (r.chance(0.5)) bye.reason = ascii(r, 30);
      return bye;
    }
    case 4:
      return {
        kind: 'app',
        subtype: r.int(32),
        ssrc: u32(r),
        name: ascii(r, 0) || 'rtcd',
        data: words(r, 3),
      };
    case 5:
      return {
        kind: 'nack',
        ...fb,
        pairs: times(r, 5, () => ({ pid: r.int(65536), blp: r.int(65536) })),
      };
    case 6:
      return { kind: 'pli', ...fb };
    case 7:
      return {
        kind: 'fir',
        ...fb,
        entries: times(r, 3, () => ({ ssrc: u32(r), sequenceNumber: r.int(256) })),
      };
    case 8:
      return {
        kind: 'remb',
        ...fb,
        bitrate: r.int(0x40000) * 2 ** r.int(40),
        ssrcs: times(r, 4, () => u32(r)),
      };
    case 9:
      return { kind: 'xr', ssrc: u32(r), blocks: times(r, 3, () => xrBlock(r)) };
    default:
      return { kind: 'unknown', type: 192 + r.int(8), count: r.int(32), view: words(r, 4) };
  }
}

t.test(`RTCP round trip: ${iterations} random compounds (seed ${seed})`, (t) => {
  const r = new Random(seed);
  for (let i = 0; i < iterations; i++) {
    const packets = times(r, 4, () => randomPacket(r));
    packets.push(randomPacket(r));
    const bytes = encodeRtcp(packets);
    const back = decodeRtcp(bytes);
    if (!back.ok) {
      t.fail(`iteration ${i}: ${back.reason} for ${bytes.toString('hex')}`);
      return t.end();
    }
    if (back.packets.length !== packets.length) {
      t.fail(`iteration ${i}: ${back.packets.length} packets, not ${packets.length}`);
      return t.end();
    }
    for (let k = 0; k < packets.length; k++) {
      if (!isDeepStrictEqual(back.packets[k], packets[k])) {
        t.same(back.packets[k], packets[k], `iteration ${i} packet ${k}`);
        return t.end();
      }
    }
  }
  t.pass(`${iterations} compounds round-tripped`);
  t.end();
});
