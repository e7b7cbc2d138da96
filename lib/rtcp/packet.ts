import {
  type ApplicationDefined,
  applicationDefinedEncoder,
  parseApplicationDefined,
} from './app.js';
import { type Goodbye, goodbyeEncoder, parseGoodbye } from './bye.js';
import { type CompoundError, type CompoundOptions, parseCompound } from './compound.js';
import { type FullIntraRequest, fullIntraRequestEncoder, parseFullIntraRequest } from './fir.js';
import { type GenericNack, genericNackEncoder, parseGenericNack } from './generic-nack.js';
import {
  PacketType,
  PsfbFormat,
  type RawRtcpPacket,
  RTCP_HEADER_LENGTH,
  RtpfbFormat,
  writeHeader,
} from './header.js';
import {
  type PictureLossIndication,
  parsePictureLossIndication,
  pictureLossIndicationEncoder,
} from './pli.js';
import {
  parseReceiverReport,
  type ReceiverReport,
  receiverReportEncoder,
} from './receiver-report.js';
import { isRemb, parseRemb, type ReceiverEstimatedMaximumBitrate, rembEncoder } from './remb.js';
import {
  parseSourceDescription,
  type SourceDescription,
  sourceDescriptionEncoder,
} from './sdes.js';
import { parseSenderReport, type SenderReport, senderReportEncoder } from './sender-report.js';
import { parseTransportCc, type TransportCcFeedback, transportCcEncoder } from './transport-cc.js';
import { type ExtendedReport, extendedReportEncoder, parseExtendedReport } from './xr.js';

/** A packet of a type (or FMT) this library does not decode, passed through as is. */
export interface UnknownRtcpPacket extends RawRtcpPacket {
  kind: 'unknown';
}

export type RtcpPacket =
  | SenderReport
  | ReceiverReport
  | SourceDescription
  | Goodbye
  | ApplicationDefined
  | GenericNack
  | TransportCcFeedback
  | PictureLossIndication
  | FullIntraRequest
  | ReceiverEstimatedMaximumBitrate
  | ExtendedReport
  | UnknownRtcpPacket;

/**
 * Why `decodeRtcp` rejected a datagram: a `CompoundError`, or `malformed-<kind>` when one
 * packet of a known type does not hold together (its type and count are in the result).
 */
export type RtcpDecodeResult =
  | { ok: true; packets: RtcpPacket[]; reducedSize: boolean }
  | { ok: false; reason: CompoundError }
  | { ok: false; reason: `malformed-${RtcpPacket['kind']}`; type: number; count: number };

type Parser = (p: RawRtcpPacket) => RtcpPacket | undefined;

/** Which parser a packet goes to, by type and FMT; undefined: pass it through. */
function parserFor(p: RawRtcpPacket): { kind: RtcpPacket['kind']; parse: Parser } | undefined {
  switch (p.type) {
    case PacketType.SR:
      return { kind: 'sr', parse: parseSenderReport };
    case PacketType.RR:
      return { kind: 'rr', parse: parseReceiverReport };
    case PacketType.SDES:
      return { kind: 'sdes', parse: parseSourceDescription };
    case PacketType.BYE:
      return { kind: 'bye', parse: parseGoodbye };
    case PacketType.APP:
      return { kind: 'app', parse: parseApplicationDefined };
    case PacketType.XR:
      return { kind: 'xr', parse: parseExtendedReport };
    case PacketType.RTPFB:
      if (p.count === RtpfbFormat.NACK) return { kind: 'nack', parse: parseGenericNack };
      if (p.count === RtpfbFormat.TRANSPORT_CC) {
        return { kind: 'transport-cc', parse: parseTransportCc };
      }
      return undefined;
    case PacketType.PSFB:
      if (p.count === PsfbFormat.PLI) return { kind: 'pli', parse: parsePictureLossIndication };
      if (p.count === PsfbFormat.FIR) return { kind: 'fir', parse: parseFullIntraRequest };
      if (isRemb(p)) return { kind: 'remb', parse: parseRemb };
      return undefined;
    default:
      return undefined;
  }
}

/** Decodes one raw packet; unknown types come back as `kind: 'unknown'`. */
export function decodeRtcpPacket(p: RawRtcpPacket): RtcpPacket | undefined {
  const parser = parserFor(p);
  if (!parser) return { kind: 'unknown', type: p.type, count: p.count, view: p.view };
  return parser.parse(p);
}

/**
 * Splits and decodes a compound (or reduced-size) RTCP datagram. Never throws. Decoded
 * packets hold copies where they hold bytes, except `unknown` ones, whose `view` is a view of
 * `buf` (valid while the caller keeps `buf` unchanged).
 */
export function decodeRtcp(
  buf: Buffer,
  offset = 0,
  end = buf.length,
  options: CompoundOptions = {},
): RtcpDecodeResult {
  const split = parseCompound(buf, offset, end, options);
  if (!split.ok) return split;
  const packets: RtcpPacket[] = [];
  for (const raw of split.packets) {
    const parser = parserFor(raw);
    if (!parser) {
      packets.push({ kind: 'unknown', type: raw.type, count: raw.count, view: raw.view });
      continue;
    }
    const packet = parser.parse(raw);
    if (!packet) {
      return { ok: false, reason: `malformed-${parser.kind}`, type: raw.type, count: raw.count };
    }
    packets.push(packet);
  }
  return { ok: true, packets, reducedSize: split.reducedSize };
}

const unknownEncoder = {
  size(p: UnknownRtcpPacket): number {
    if (p.view.length % 4 !== 0) throw new TypeError('an unknown packet body is whole words');
    return RTCP_HEADER_LENGTH + p.view.length;
  },
  write(p: UnknownRtcpPacket, out: Buffer, offset: number): number {
    const size = unknownEncoder.size(p);
    writeHeader(out, offset, p.type, p.count, size);
    p.view.copy(out, offset + RTCP_HEADER_LENGTH);
    return size;
  },
};

/** Size in bytes of one packet on the wire. */
export function rtcpPacketSize(p: RtcpPacket): number {
  switch (p.kind) {
    case 'sr':
      return senderReportEncoder.size(p);
    case 'rr':
      return receiverReportEncoder.size(p);
    case 'sdes':
      return sourceDescriptionEncoder.size(p);
    case 'bye':
      return goodbyeEncoder.size(p);
    case 'app':
      return applicationDefinedEncoder.size(p);
    case 'nack':
      return genericNackEncoder.size(p);
    case 'transport-cc':
      return transportCcEncoder.size(p);
    case 'pli':
      return pictureLossIndicationEncoder.size(p);
    case 'fir':
      return fullIntraRequestEncoder.size(p);
    case 'remb':
      return rembEncoder.size(p);
    case 'xr':
      return extendedReportEncoder.size(p);
    case 'unknown':
      return unknownEncoder.size(p);
  }
}

/** Writes one packet at `offset`; returns the bytes written. Throws TypeError on misuse. */
export function writeRtcpPacket(p: RtcpPacket, out: Buffer, offset: number): number {
  switch (p.kind) {
    case 'sr':
      return senderReportEncoder.write(p, out, offset);
    case 'rr':
      return receiverReportEncoder.write(p, out, offset);
    case 'sdes':
      return sourceDescriptionEncoder.write(p, out, offset);
    case 'bye':
      return goodbyeEncoder.write(p, out, offset);
    case 'app':
      return applicationDefinedEncoder.write(p, out, offset);
    case 'nack':
      return genericNackEncoder.write(p, out, offset);
    case 'transport-cc':
      return transportCcEncoder.write(p, out, offset);
    case 'pli':
      return pictureLossIndicationEncoder.write(p, out, offset);
    case 'fir':
      return fullIntraRequestEncoder.write(p, out, offset);
    case 'remb':
      return rembEncoder.write(p, out, offset);
    case 'xr':
      return extendedReportEncoder.write(p, out, offset);
    case 'unknown':
      return unknownEncoder.write(p, out, offset);
  }
}

/**
 * Builds a compound (or, with one non-SR/RR packet, reduced-size) datagram. Packets are
 * written in the order given; RFC 3550 §6.1 wants SR or RR first and an SDES CNAME in a full
 * compound packet, which is the caller's choice to make.
 */
export function encodeRtcp(packets: readonly RtcpPacket[]): Buffer {
  let size = 0;
  for (const p of packets) size += rtcpPacketSize(p);
  const out = Buffer.alloc(size);
  writeRtcp(packets, out, 0);
  return out;
}

/** Writes packets back to back into `out` at `offset`; returns the bytes written. */
export function writeRtcp(packets: readonly RtcpPacket[], out: Buffer, offset: number): number {
  let at = offset;
  for (const p of packets) at += writeRtcpPacket(p, out, at);
  return at - offset;
}
