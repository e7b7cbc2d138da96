/**
 * The packets and per-packet steps of the parse rows of `npm run bench -- rtp`: rtcd's RTP view
 * and RTCP decoder beside werift-rtp's `RtpPacket.deSerialize` and
 * `RtcpPacketConverter.deSerialize`, on the same bytes. A step returns a small number derived
 * from the parse so the work cannot be optimized away.
 */
import { RtcpPacketConverter, RtpPacket as WeriftRtpPacket } from 'werift-rtp';
import {
  decodeRtcp,
  encodeRtcp,
  type RtcpPacket,
  TransportCcReader,
  transportCcFromArrivals,
} from '../../lib/rtcp/index.js';
import { parseRtp, RtpPacket, writeAbsSendTime, writeRtp } from '../../lib/rtp/index.js';
import { compoundRtcp } from '../srtp/workloads.js';

export type Step = () => number;

const SSRC = 0x1234abcd;
const MEDIA = 0x5678ef01;

/** A 1,200-byte video packet with abs-send-time, transport-cc and mid one-byte extensions. */
export function videoPacket(size = 1200): Buffer {
  const abs = Buffer.alloc(3);
  writeAbsSendTime(abs, 0, 0x123456);
  const out = Buffer.alloc(size);
  const header = 12 + 4 + 12;
  const n = writeRtp(
    out,
    0,
    {
      payloadType: 96,
      sequenceNumber: 4242,
      timestamp: 90000,
      ssrc: SSRC,
      extensions: [
        { id: 2, value: abs },
        { id: 4, value: Buffer.from([0x01, 0x02]) },
        { id: 9, value: Buffer.from('0') },
      ],
    },
    Buffer.alloc(size - header, 0x5a),
  );
  if (n !== size) throw new Error(`bench packet is ${n} bytes`);
  return out;
}

const block = (i: number) => ({
  ssrc: MEDIA + i,
  fractionLost: 12,
  cumulativeLost: 34,
  highestSequence: 70000 + i,
  jitter: 20,
  lastSenderReport: 0x12345678,
  delaySinceLastSenderReport: 0x10000,
});

/** transport-cc feedback for 40 packets: runs of received, a few lost, small and large deltas. */
function transportCc(): RtcpPacket {
  const arrivalsUs: (number | undefined)[] = [];
  let t = 1_000_000;
  for (let i = 0; i < 40; i++) {
    t += i % 10 === 9 ? 30_000 : 1_000 + 250 * (i % 3);
    arrivalsUs.push(i % 13 === 7 ? undefined : t);
  }
  return transportCcFromArrivals({
    senderSsrc: SSRC,
    mediaSsrc: MEDIA,
    baseSequence: 65500,
    feedbackPacketCount: 7,
    arrivalsUs,
  });
}

/** The RTCP rows: name and datagram (what a browser sends, each a compound or reduced-size). */
export function rtcpCases(): { name: string; packet: Buffer }[] {
  const sr: RtcpPacket = {
    kind: 'sr',
    ssrc: SSRC,
    ntpTime: 0xe9d2a1c040000000n,
    rtpTimestamp: 90000,
    packetCount: 1234,
    octetCount: 1234 * 1100,
    reports: [block(0)],
  };
  const rr: RtcpPacket = { kind: 'rr', ssrc: SSRC, reports: [block(0), block(1)] };
  return [
    { name: 'SR (1 report block)', packet: encodeRtcp([sr]) },
    { name: 'RR (2 report blocks)', packet: encodeRtcp([rr]) },
    { name: 'SR + SDES compound, 100 B', packet: compoundRtcp(100) },
    {
      name: 'Generic NACK (4 pairs)',
      packet: encodeRtcp([
        {
          kind: 'nack',
          senderSsrc: SSRC,
          mediaSsrc: MEDIA,
          pairs: [
            { pid: 100, blp: 0x0005 },
            { pid: 140, blp: 0 },
            { pid: 200, blp: 0xffff },
            { pid: 65530, blp: 0x8001 },
          ],
        },
      ]),
    },
    { name: 'PLI', packet: encodeRtcp([{ kind: 'pli', senderSsrc: SSRC, mediaSsrc: MEDIA }]) },
    {
      name: 'REMB (2 SSRCs)',
      packet: encodeRtcp([
        { kind: 'remb', senderSsrc: SSRC, mediaSsrc: 0, bitrate: 2_500_000, ssrcs: [1, 2] },
      ]),
    },
    { name: 'transport-cc (40 packets)', packet: encodeRtcp([transportCc()]) },
  ];
}

/** rtcd: decodeRtcp (split, then decode every packet into its typed object). */
export function rtcdRtcpStep(packet: Buffer): Step {
  return () => {
    const r = decodeRtcp(packet);
    return r.ok ? r.packets.length : -1;
  };
}

/**
 * rtcd's allocation-free transport-cc path (the SFU's): TransportCcReader.readAlone reads a
 * datagram that is one feedback into reused typed arrays. Returns the packet count (1).
 */
export function rtcdTransportCcReaderStep(packet: Buffer): Step {
  const reader = new TransportCcReader();
  return () => (reader.readAlone(packet) === undefined && reader.count > 0 ? 1 : -1);
}

/** werift-rtp: RtcpPacketConverter.deSerialize (the same: every packet into its class). */
export function weriftRtcpStep(packet: Buffer): Step {
  return () => RtcpPacketConverter.deSerialize(packet).length;
}

/** rtcd's RTP hot path: a reused view, header and extensions read in place. */
export function rtcdRtpViewStep(packet: Buffer): Step {
  const view = new RtpPacket();
  return () => (view.parse(packet, 0, packet.length) === undefined ? view.sequenceNumber : -1);
}

/** rtcd's allocating convenience API: parseRtp (a result object and a new view). */
export function rtcdRtpParseStep(packet: Buffer): Step {
  return () => {
    const r = parseRtp(packet);
    return r.ok ? r.packet.sequenceNumber : -1;
  };
}

/** werift-rtp: RtpPacket.deSerialize (header object, extensions array, payload view). */
export function weriftRtpStep(packet: Buffer): Step {
  return () => WeriftRtpPacket.deSerialize(packet).header.sequenceNumber;
}

/**
 * Checks that rtcd and werift read the same packets out of each RTCP case (by count), and the
 * same RTP sequence number; throws on a mismatch or a parse failure.
 */
export function crossCheckParsers(): void {
  for (const c of rtcpCases()) {
    const ours = rtcdRtcpStep(c.packet)();
    const theirs = weriftRtcpStep(c.packet)();
    if (ours <= 0 || ours !== theirs) {
      throw new Error(`${c.name}: rtcd reads ${ours} packet(s), werift ${theirs}`);
    }
  }
  const v = videoPacket();
  const seqs = [rtcdRtpViewStep(v)(), rtcdRtpParseStep(v)(), weriftRtpStep(v)()];
  if (!seqs.every((s) => s === 4242)) throw new Error(`RTP parsers disagree: ${seqs.join(' ')}`);
}
