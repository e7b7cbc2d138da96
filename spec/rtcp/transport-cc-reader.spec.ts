/**
 * TransportCcReader (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) against
 * parseTransportCc: the parser's vectors give the same statuses through the reader, random
 * feedback built by transportCcFromArrivals gives its arrivals back, and mutated or random
 * bytes never throw and are refused exactly when the parser refuses them.
 */
import t, { type Test } from 'tap';
import {
  encodeRtcp,
  type PacketStatus,
  parseCompound,
  parseTransportCc,
  type RawRtcpPacket,
  type TransportCcFeedback,
  TransportCcReader,
  transportCcArrivals,
  transportCcFromArrivals,
} from '../../lib/rtcp/index.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { hex } from './hex.js';

/** The first packet of a datagram, undecoded. */
function raw(datagram: Buffer): RawRtcpPacket {
  const r = parseCompound(datagram);
  if (!r.ok) throw new Error(`split failed: ${r.reason}`);
  return r.packets[0]!;
}

/** What the reader holds, in the parser's object form. */
function asFeedback(r: TransportCcReader): TransportCcFeedback {
  const packets: PacketStatus[] = [];
  for (let i = 0; i < r.count; i++) {
    packets.push({ seq: r.seq(i), received: r.received(i), arrivalDeltaUs: r.deltasUs[i]! });
  }
  return {
    kind: 'transport-cc',
    senderSsrc: r.senderSsrc,
    mediaSsrc: r.mediaSsrc,
    baseSequence: r.baseSequence,
    referenceTime: r.referenceTime,
    feedbackPacketCount: r.feedbackPacketCount,
    packets,
  };
}

/** The reader's arrival times as transportCcArrivals gives them (undefined: not received). */
function arrivalsOf(r: TransportCcReader): (number | undefined)[] {
  return Array.from(r.arrivalsUs.subarray(0, r.count), (a) => (Number.isNaN(a) ? undefined : a));
}

/** Reads `p` with the reader and the parser; fails the test when they disagree. */
function agree(t: Test, reader: TransportCcReader, p: RawRtcpPacket, name: string): boolean {
  const parsed = parseTransportCc(p);
  const error = reader.read(p);
  if ((error === undefined) !== (parsed !== undefined)) {
    t.fail(`${name}: reader says ${error ?? 'ok'}, parser ${parsed ? 'ok' : 'undefined'}`);
    return false;
  }
  if (!parsed) return true;
  if (JSON.stringify(asFeedback(reader)) !== JSON.stringify(parsed)) {
    t.fail(`${name}: the reader's statuses differ from the parser's`);
    return false;
  }
  const a = arrivalsOf(reader);
  const b = transportCcArrivals(parsed);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    t.fail(`${name}: arrival times differ from transportCcArrivals`);
    return false;
  }
  return true;
}

// The parser's vectors (spec/rtcp/transport-cc.spec.ts): a Chrome capture and pion's examples.
const VECTORS: [string, string][] = [
  [
    'Chrome capture: run-length chunk, small deltas',
    'afcd0007 00000001 dd586eb6 00010009 5e911000 20091c0c 2c380004 00081801',
  ],
  ['pion example1: one small delta', 'afcd0005 fa17fa17 43032fa0 00990001 3de80217 20019401'],
  [
    'pion example4: a run of seven small deltas',
    'afcd0007 fa17fa17 193dd8bb 00040007 10636e01 20074c24 24100c0c 10000003',
  ],
  [
    'pion example6: 2-bit vector, a loss and a large delta',
    'afcd0007 9b74f61f 9371dcbc 853c0009 63f916b3 d5520030 9baa6aaa 7b010901',
  ],
  [
    'pion example3: large deltas behind a run-length chunk',
    '8fcd0007 fa17fa17 193dd8bb 01740006 45b15a40 40022004 1ffe1f9a d000d000',
  ],
  [
    'pion example5: a 1-bit vector',
    '8fcd0006 fa17fa17 193dd8bb 0001000e 10636d00 ba00100c 0c100003',
  ],
];

const MALFORMED: [string, string, string][] = [
  [
    'deltas truncated (pion example8)',
    'afcd0005 fa17fa17 43032fa0 00990003 3de80217 2003 9401',
    'deltas-short',
  ],
  [
    'large deltas truncated (pion example9)',
    'afcd0005 fa17fa17 43032fa0 00990002 3de80217 40029401',
    'deltas-short',
  ],
  [
    'reserved symbol in a 2-bit vector (pion example2)',
    'afcd0006 fa17fa17 193dd8bb 0174000e 45b15a40 d800f0ff d0000003',
    'reserved-symbol',
  ],
  [
    'reserved symbol in a run-length chunk',
    '8fcd0005 00000001 00000002 00010003 00000001 6003 0000',
    'reserved-symbol',
  ],
  [
    'status count exceeding the chunks (the deltas run out)',
    '8fcd0005 00000001 00000002 00010020 00000001 2001 0a 00',
    'deltas-short',
  ],
  ['a status count and no chunks', '8fcd0004 00000001 00000002 00010020 00000001', 'chunks-short'],
  ['no room for the fixed fields', '8fcd0003 00000001 00000002 00010000', 'too-short'],
  ['a NACK is not transport-cc', '81cd0003 00000001 00000002 00640005', 'not-transport-cc'],
];

t.test('transport-cc reader: the parser vectors read the same', (t) => {
  const reader = new TransportCcReader(4);
  for (const [name, bytes] of VECTORS) t.ok(agree(t, reader, raw(hex(bytes)), name), name);
  // Spot checks against the parser spec's literal values, so agreement is not all we test.
  reader.read(raw(hex(VECTORS[0]![1])));
  t.equal(reader.count, 9);
  t.equal(reader.referenceTime, 6197520);
  t.same(
    Array.from(reader.deltasUs.subarray(0, 9)),
    [7000, 3000, 11000, 14000, 0, 1000, 0, 2000, 6000],
  );
  reader.read(raw(hex(VECTORS[3]![1])));
  t.equal(reader.baseSequence, 34108);
  t.equal(reader.feedbackPacketCount, 179);
  t.same(
    Array.from(reader.symbols.subarray(0, 9)),
    [1, 1, 1, 1, 1, 0, 2, 0, 0],
    'small, lost and large symbols',
  );
  t.ok(Number.isNaN(reader.arrivalsUs[5]!), 'a lost packet has no arrival time');
  t.equal(reader.symbols.length >= 9, true, 'the arrays grew past the initial capacity of 4');
  t.end();
});

t.test('transport-cc reader: malformed feedback is refused with a reason, never thrown', (t) => {
  const reader = new TransportCcReader();
  reader.read(raw(hex(VECTORS[0]![1])));
  for (const [i, [name, bytes, reason]] of MALFORMED.entries()) {
    const p = raw(hex(bytes));
    t.equal(reader.read(p), reason, name);
    t.equal(reader.count, 0, `${name}: nothing left to read`);
    t.equal(reader.lastError, reason);
    t.equal(reader.rejected, i + 1, 'counted');
    if (reason !== 'not-transport-cc') t.equal(parseTransportCc(p), undefined, 'parser too');
  }
  t.equal(reader.read(raw(hex(VECTORS[1]![1]))), undefined, 'reads again after a refusal');
  t.equal(reader.lastError, undefined);
  t.end();
});

t.test('transport-cc reader: status count limits', (t) => {
  const reader = new TransportCcReader(1);
  // 65,535 statuses in 9 run-length chunks: 8 runs of 8,191 lost, then 7 received.
  const chunks = Buffer.alloc(18);
  for (let i = 0; i < 8; i++) chunks.writeUInt16BE(0x1fff, i * 2);
  chunks.writeUInt16BE(0x2007, 16);
  const body = Buffer.concat([hex('00000001 00000002 fff0 ffff 800000 05'), chunks]);
  const p: RawRtcpPacket = {
    type: 205,
    count: 15,
    view: Buffer.concat([body, Buffer.alloc(8, 4)]),
  };
  t.ok(agree(t, reader, p, 'the most statuses a message can have'));
  t.equal(reader.count, 65535);
  t.equal(reader.referenceTime, -(1 << 23), 'most negative reference time');
  t.equal(reader.seq(65534), (0xfff0 + 65534) & 0xffff, 'sequence numbers wrap');
  t.equal(reader.arrivalsUs[65534], -(1 << 23) * 64_000 + 7 * 1000, 'negative arrival time');
  t.equal(reader.symbols.length, 65536, 'the arrays are at most 65,536 long');
  const zero: RawRtcpPacket = {
    type: 205,
    count: 15,
    view: hex('00000001 00000002 0005 0000 000001 00'),
  };
  t.ok(agree(t, reader, zero, 'no statuses at all'));
  t.equal(reader.count, 0);
  t.equal(reader.baseSequence, 5);
  t.throws(() => new TransportCcReader(0), TypeError);
  t.end();
});

t.test('transport-cc reader: load() gives what read() gives for the same feedback', (t) => {
  const fb = transportCcFromArrivals({
    senderSsrc: 7,
    mediaSsrc: 8,
    baseSequence: 65530,
    feedbackPacketCount: 3,
    arrivalsUs: [5_000_000, undefined, 5_000_250, 5_090_000, 4_990_000, undefined, 5_090_500],
  });
  const read = new TransportCcReader();
  const loaded = new TransportCcReader();
  t.equal(read.read(raw(encodeRtcp([fb]))), undefined);
  loaded.load(fb);
  t.same(asFeedback(loaded), asFeedback(read));
  t.same(Array.from(loaded.symbols.subarray(0, 7)), Array.from(read.symbols.subarray(0, 7)));
  t.same(arrivalsOf(loaded), arrivalsOf(read));
  t.same(asFeedback(read), fb);
  t.end();
});

/**
 * What readAlone must answer for a datagram: the parser's verdict when the datagram is one
 * transport-cc packet and nothing else, 'not-alone' otherwise.
 */
function aloneAgrees(t: Test, reader: TransportCcReader, d: Buffer, name: string): boolean {
  const split = parseCompound(d);
  const lone =
    split.ok &&
    split.packets.length === 1 &&
    split.packets[0]!.type === 205 &&
    split.packets[0]!.count === 15;
  const got = reader.readAlone(d);
  if (!lone || !split.ok) {
    if (got === 'not-alone') return true;
    t.fail(`${name}: readAlone says ${got ?? 'ok'} for a datagram that is not one feedback`);
    return false;
  }
  const parsed = parseTransportCc(split.packets[0]!);
  if (got === 'not-alone' || (got === undefined) !== (parsed !== undefined)) {
    t.fail(`${name}: readAlone says ${got ?? 'ok'}, parser ${parsed ? 'ok' : 'undefined'}`);
    return false;
  }
  if (parsed && JSON.stringify(asFeedback(reader)) !== JSON.stringify(parsed)) {
    t.fail(`${name}: readAlone's statuses differ from the parser's`);
    return false;
  }
  return true;
}

t.test('transport-cc reader: a datagram that is one feedback is read in place', (t) => {
  const reader = new TransportCcReader();
  for (const [name, bytes] of VECTORS) {
    // The Chrome capture and pion's examples 1, 4 and 6 carry the P bit and padding.
    t.ok(aloneAgrees(t, reader, hex(bytes), name), `${name}: readAlone`);
  }
  const chrome = hex(VECTORS[0]![1]);
  t.equal(reader.readAlone(chrome), undefined);
  t.equal(reader.count, 9, 'padding excluded');
  const rr = hex('81c90007 00000001 00000002 00000003 0000ffff 00000004 00000005 00000006');
  const rejected = reader.rejected;
  const others: [string, Buffer][] = [
    ['an RR', rr],
    ['behind an RR', Buffer.concat([rr, chrome])],
    ['followed by an RR', Buffer.concat([chrome, rr])],
    ['cut short', chrome.subarray(0, 28)],
    ['a byte too many', Buffer.concat([chrome, hex('00')])],
    ['padding count 0', Buffer.concat([chrome.subarray(0, 31), hex('00')])],
    ['padding past the body', Buffer.concat([chrome.subarray(0, 31), hex('40')])],
    ['version 1', Buffer.concat([hex('6f'), chrome.subarray(1)])],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, d] of others) {
    t.equal(reader.readAlone(d), 'not-alone', name);
    t.ok(aloneAgrees(t, reader, d, name), `${name}: as parseCompound sees it`);
  }
  t.equal(reader.rejected, rejected, 'a datagram for parseCompound is not counted as refused');
  const broken = hex('8fcd0004 00000001 00000002 00010020 00000001');
  t.equal(reader.readAlone(broken), 'chunks-short', 'a lone malformed feedback says why');
  t.equal(reader.rejected, rejected + 1, 'and is counted');
  t.end();
});

t.test('transport-cc reader: random arrivals come back (transportCcFromArrivals)', (t) => {
  const rnd = new Random(0x7eade7);
  const reader = new TransportCcReader(8);
  let compared = 0;
  for (let iter = 0; iter < 1500; iter++) {
    const n = 1 + rnd.int(rnd.chance(0.05) ? 3000 : 80);
    const loss = rnd.next() * 0.5;
    const jumps = rnd.next() * 0.2;
    let clock = rnd.int(2 ** 40);
    const arrivalsUs: (number | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      // Mostly 0-20 ms apart; some long gaps and reorders (large and negative deltas).
      clock += rnd.chance(jumps) ? rnd.int(4_000_000) - 2_000_000 : rnd.int(20_000);
      arrivalsUs.push(rnd.chance(loss) && i > 0 ? undefined : clock);
    }
    const fb = transportCcFromArrivals({
      senderSsrc: rnd.int(2 ** 32),
      mediaSsrc: rnd.int(2 ** 32),
      baseSequence: rnd.int(65536),
      feedbackPacketCount: rnd.int(256),
      arrivalsUs,
    });
    const error = reader.read(raw(encodeRtcp([fb])));
    if (error !== undefined) {
      t.fail(`iteration ${iter}: refused (${error})`);
      break;
    }
    // The receiver's clock is modulo 2^24 × 64 ms on the wire: compare from the reference.
    const shift = (fb.referenceTime - Math.floor(arrivalsUs[0]! / 64_000)) * 64_000;
    for (let i = 0; i < n; i++) {
      const sent = arrivalsUs[i];
      const back = reader.arrivalsUs[i]!;
      const ok =
        sent === undefined
          ? Number.isNaN(back) && !reader.received(i)
          : Math.abs(back - shift - sent) <= 125 && reader.received(i);
      if (!ok || reader.seq(i) !== fb.packets[i]!.seq) {
        t.fail(`iteration ${iter}, status ${i}: sent ${sent}, read back ${back - shift}`);
        return t.end();
      }
      compared++;
    }
    if (JSON.stringify(asFeedback(reader)) !== JSON.stringify(fb)) {
      t.fail(`iteration ${iter}: statuses differ from the built feedback`);
      break;
    }
  }
  t.ok(compared > 50_000, `${compared} arrival times within 125 µs (half a delta unit)`);
  t.end();
});

const { seed, iterations } = fuzzSettings({ seed: 0x7cc4ead, iterations: 50_000 });

t.test(`transport-cc reader fuzz: ${iterations} mutants and random bodies (seed ${seed})`, (t) => {
  const rnd = new Random(seed);
  const seeds = VECTORS.map(([, bytes]) => raw(hex(bytes)).view);
  const reader = new TransportCcReader(16);
  let read = 0;
  let readAlone = 0;
  for (let i = 0; i < iterations; i++) {
    let body: Buffer;
    if (rnd.chance(0.2)) {
      body = rnd.bytes(rnd.int(64));
    } else {
      body = Buffer.from(rnd.pick(seeds));
      for (let e = 1 + rnd.int(3); e > 0; e--) {
        const k = rnd.int(4);
        if (k === 0 && body.length) body[rnd.int(body.length)]! ^= 1 << rnd.int(8);
        else if (k === 1) body = body.subarray(0, rnd.int(body.length + 1));
        else if (k === 2 && body.length >= 12)
          body.writeUInt16BE(rnd.int(400), 10); // count
        else if (body.length >= 2) body.writeUInt16BE(rnd.int(65536), rnd.int(body.length - 1));
      }
    }
    const p: RawRtcpPacket = { type: 205, count: 15, view: body };
    // The same body as a whole datagram, its header sometimes off, through readAlone.
    const datagram = Buffer.concat([hex('8fcd0000'), body]);
    const words = Math.ceil(body.length / 4) + (rnd.chance(0.1) ? rnd.int(3) - 1 : 0);
    datagram.writeUInt16BE(Math.max(0, words), 2);
    if (rnd.chance(0.2)) datagram[0] = rnd.int(256);
    try {
      const name = `iteration ${i} (${body.toString('hex')})`;
      if (!agree(t, reader, p, name)) return t.end();
      if (reader.count > 0) read++;
      if (!aloneAgrees(t, reader, datagram, `${name} as a datagram`)) return t.end();
      if (reader.readAlone(datagram) === undefined && reader.count > 0) readAlone++;
    } catch (err) {
      t.fail(`iteration ${i} threw on ${body.toString('hex')}: ${String(err)}`);
      return t.end();
    }
  }
  t.pass(
    `no throw, same verdict and statuses as the parser; ${read} bodies read, ${readAlone} ` +
      'datagrams read in place',
  );
  t.ok(readAlone > iterations / 50, 'enough datagrams are one whole feedback');
  t.ok(read > iterations / 20, 'enough mutants stay valid to reach the deltas');
  t.end();
});
