/**
 * `npm run bench -- rtp [--seconds 2] [--packets 1000000] [--parse-seconds 1]
 *  [--heap-packets 200000] [--no-parse]`: RTP parse + header-extension lookup rate for a
 * typical 1,200-byte video packet with three one-byte extensions (abs-send-time,
 * transport-wide-cc, sdes:mid), through the reusable view (the hot-path API) and through the
 * allocating convenience API (`parseRtp` + `getExtension`), and heap growth / GC count over
 * `--packets` parses of the hot path (zero growth and no GC means no allocation per packet).
 * Then the parse rows: RTP and RTCP (SR, RR, SR+SDES, NACK, PLI, REMB, transport-cc) parsed by
 * rtcd and by werift-rtp in the same run, interleaved, in millions of packets per CPU-second,
 * with each one's JS heap allocated per packet, and transport-cc once more through
 * TransportCcReader (the SFU's allocation-free path). See bench/RESULTS.md.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ExtensionElement,
  findExtension,
  parseRtp,
  RtpPacket,
  readTransportSequenceNumber,
  writeAbsSendTime,
  writeRtp,
} from '../lib/rtp/index.js';
import {
  crossCheckParsers,
  rtcdRtcpStep,
  rtcdRtpParseStep,
  rtcdRtpViewStep,
  rtcdTransportCcReaderStep,
  rtcpCases,
  type Step,
  weriftRtcpStep,
  weriftRtpStep,
} from './rtp/workloads.js';
import { interleavedRates, heapGrowth as sampledHeapGrowth } from './srtp/measure.js';

const TWCC_ID = 4;

function videoPacket(): Buffer {
  const abs = Buffer.alloc(3);
  writeAbsSendTime(abs, 0, 0x123456);
  const out = Buffer.alloc(1200);
  const header = 12 + 4 + 12; // fixed header, extension header, three elements padded to 12
  const n = writeRtp(
    out,
    0,
    {
      payloadType: 96,
      sequenceNumber: 4242,
      timestamp: 90000,
      ssrc: 0x1234abcd,
      extensions: [
        { id: 2, value: abs },
        { id: TWCC_ID, value: Buffer.from([0x01, 0x02]) },
        { id: 9, value: Buffer.from('0') },
      ],
    },
    Buffer.alloc(1200 - header, 0x5a),
  );
  if (n !== 1200) throw new Error(`bench packet is ${n} bytes`);
  return out;
}

interface Rate {
  packetsPerSecond: number;
  checksum: number;
}

function hotPath(buf: Buffer, view: RtpPacket, el: ExtensionElement): number {
  if (view.parse(buf, 0, buf.length) !== undefined) return -1;
  if (!findExtension(view, TWCC_ID, el)) return -1;
  return readTransportSequenceNumber(view.buffer, el.offset, el.length) + view.sequenceNumber;
}

function convenience(buf: Buffer): number {
  const r = parseRtp(buf);
  if (!r.ok) return -1;
  const v = r.packet.getExtension(TWCC_ID);
  return v === undefined ? -1 : ((v[0]! << 8) | v[1]!) + r.packet.sequenceNumber;
}

function measure(seconds: number, step: () => number): Rate {
  // Warm up so the JIT settles; the checksum stays a small integer so it never boxes.
  let checksum = 0;
  for (let i = 0; i < 100_000; i++) checksum = (checksum + step()) | 0;
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (process.hrtime.bigint() < until) {
    for (let i = 0; i < 10_000; i++) checksum = (checksum + step()) | 0;
    n += 10_000;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { packetsPerSecond: n / cpuSeconds, checksum };
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('cannot expose gc');
  return () => {
    gc();
  };
}

async function heapGrowth(packets: number, step: () => number): Promise<[number, number]> {
  const gc = exposeGc();
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < 100_000; i++) step();
  gc();
  await new Promise((r) => setTimeout(r, 10)); // let the forced GC's entry be delivered
  gcs = 0;
  const before = process.memoryUsage().heapUsed;
  let sum = 0;
  for (let i = 0; i < packets; i++) sum = (sum + step()) | 0;
  const after = process.memoryUsage().heapUsed;
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  if (sum === 0) console.log('(checksum 0)');
  return [(after - before) / packets, gcs];
}

export interface RtpBenchResult {
  /** Hot path (reused view + findExtension), packets per CPU-second. */
  hotPacketsPerSecond: number;
  /** parseRtp() + getExtension(), packets per CPU-second. */
  conveniencePacketsPerSecond: number;
  /** Heap growth per packet over `packets` hot-path parses, no GC forced in between. */
  hotHeapBytesPerPacket: number;
  hotGcRuns: number;
  convenienceGcRuns: number;
}

/** Runs both rows and the heap check, printing as it goes through `log`. */
export async function runRtpBench(
  seconds: number,
  packets: number,
  log: (line: string) => void,
): Promise<RtpBenchResult> {
  const buf = videoPacket();
  const view = new RtpPacket();
  const el = new ExtensionElement();
  const hot = () => hotPath(buf, view, el);
  if (hot() < 0 || convenience(buf) !== hot()) throw new Error('bench packet does not parse');
  log('RTP parse + TWCC extension lookup, 1,200-byte packet with 3 one-byte extensions');
  log(`node ${process.version}, ${seconds} s per row, rates per CPU-second`);
  const a = measure(seconds, hot);
  log(`  reused RtpPacket view + findExtension: ${fmt(a.packetsPerSecond)} packets/s`);
  const b = measure(seconds, () => convenience(buf));
  log(`  parseRtp() + getExtension():          ${fmt(b.packetsPerSecond)} packets/s`);
  log(`  (checksums ${a.checksum} ${b.checksum}, so the work cannot be optimized away)`);
  const [perPacket, gcs] = await heapGrowth(packets, hot);
  log(
    `  hot path over ${fmt(packets)} parses: heap growth ${perPacket.toFixed(4)} B/packet, ` +
      `${gcs} GC run(s)`,
  );
  const [, gcsB] = await heapGrowth(packets, () => convenience(buf));
  log(
    `  convenience API over ${fmt(packets)} parses: ${gcsB} GC run(s) ` +
      `(it allocates a result, a view and a subarray per packet)`,
  );
  return {
    hotPacketsPerSecond: a.packetsPerSecond,
    conveniencePacketsPerSecond: b.packetsPerSecond,
    hotHeapBytesPerPacket: perPacket,
    hotGcRuns: gcs,
    convenienceGcRuns: gcsB,
  };
}

export interface ParseRow {
  name: string;
  /** Packets per CPU-second: rtcd, werift-rtp (best of three interleaved rounds). */
  rtcd: number;
  werift: number;
  /** JS heap allocated per packet (short-lived garbage), rtcd and werift. */
  rtcdHeap: number;
  weriftHeap: number;
  /** rtcd's retained heap per packet after a final GC (0 in steady state). */
  rtcdRetained: number | undefined;
}

/**
 * The parse rows: each RTP or RTCP case parsed by rtcd and werift-rtp, interleaved; then
 * heap allocated per packet by each over `heapPackets` parses.
 */
export function runParseRows(
  seconds: number,
  heapPackets: number,
  log: (line: string) => void,
): ParseRow[] {
  crossCheckParsers();
  const video = videoPacket();
  const twcc = rtcpCases().find((c) => c.name.startsWith('transport-cc'))?.packet;
  if (twcc === undefined) throw new Error('no transport-cc case');
  const cases: { name: string; rtcd: Step; werift: Step }[] = [
    {
      name: 'RTP 1,200 B, reused view',
      rtcd: rtcdRtpViewStep(video),
      werift: weriftRtpStep(video),
    },
    {
      name: 'RTP 1,200 B, parseRtp()',
      rtcd: rtcdRtpParseStep(video),
      werift: weriftRtpStep(video),
    },
    ...rtcpCases().map((c) => ({
      name: `RTCP ${c.name}`,
      rtcd: rtcdRtcpStep(c.packet),
      werift: weriftRtcpStep(c.packet),
    })),
    {
      name: 'RTCP transport-cc, TransportCcReader',
      rtcd: rtcdTransportCcReaderStep(twcc),
      werift: weriftRtcpStep(twcc),
    },
  ];
  log('');
  log('Parse rates, rtcd beside werift-rtp (RtpPacket / RtcpPacketConverter.deSerialize),');
  log(`interleaved, best of 3 rounds in ${seconds} s per row, Mpkt per CPU-second:`);
  const rows: ParseRow[] = [];
  for (const c of cases) {
    const [rtcd = 0, werift = 0] = interleavedRates([c.rtcd, c.werift], seconds);
    const ours = sampledHeapGrowth(c.rtcd, heapPackets);
    const theirs = sampledHeapGrowth(c.werift, Math.min(heapPackets, 50_000));
    const row: ParseRow = {
      name: c.name,
      rtcd,
      werift,
      rtcdHeap: ours.usedBytesPerPacket,
      weriftHeap: theirs.usedBytesPerPacket,
      rtcdRetained: ours.retainedBytesPerPacket,
    };
    rows.push(row);
    log(`  ${formatParseRow(row)}`);
  }
  const retained = rows.map((r) => r.rtcdRetained ?? Number.NaN);
  log(
    `heap B/pkt: JS heap allocated per parse (chunks between forced GCs); rtcd retained after ` +
      `a final GC over ${heapPackets} parses: ${Math.min(...retained).toFixed(2)} to ` +
      `${Math.max(...retained).toFixed(2)} B/pkt`,
  );
  return rows;
}

export function formatParseRow(r: ParseRow): string {
  const m = (n: number) => `${(n / 1e6).toFixed(2)} M`;
  return (
    `${r.name.padEnd(36)} rtcd ${m(r.rtcd).padStart(8)}  werift ${m(r.werift).padStart(8)}  ` +
    `${(r.rtcd / r.werift).toFixed(2).padStart(6)}×   heap B/pkt rtcd ` +
    `${r.rtcdHeap.toFixed(0).padStart(4)}, werift ${r.weriftHeap.toFixed(0).padStart(5)}`
  );
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '2' },
      packets: { type: 'string', default: '1000000' },
      'parse-seconds': { type: 'string', default: '1' },
      'heap-packets': { type: 'string', default: '200000' },
      'no-parse': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const packets = Number(values.packets);
  const parseSeconds = Number(values['parse-seconds']);
  const heapPackets = Number(values['heap-packets']);
  if (
    !(seconds > 0) ||
    !(Number.isInteger(packets) && packets > 0) ||
    !(parseSeconds > 0) ||
    !(Number.isInteger(heapPackets) && heapPackets > 0)
  ) {
    console.error(
      'usage: npm run bench -- rtp [--seconds S] [--packets N] [--parse-seconds S] ' +
        '[--heap-packets N] [--no-parse]',
    );
    return 1;
  }
  await runRtpBench(seconds, packets, console.log);
  if (!values['no-parse']) runParseRows(parseSeconds, heapPackets, console.log);
  return 0;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
