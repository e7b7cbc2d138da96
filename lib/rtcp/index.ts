/**
 * RTCP codecs (RFC 3550, 4585, 5104, 5506, 3611, REMB, transport-cc), one file per packet
 * type. Receiving: `decodeRtcp(datagram)` splits a compound or reduced-size datagram and
 * decodes each packet into a typed object discriminated by `kind` (unknown types come back
 * as `kind: 'unknown'` with a view of their body); it never throws and says why it rejected
 * a datagram. `parseCompound` alone splits without decoding, and each `parse<Type>` decodes
 * one `RawRtcpPacket` (`TransportCcReader` reads transport-cc feedback into reusable typed
 * arrays instead, with no object per packet status). Sending: `encodeRtcp(packets)` returns
 * a Buffer, `writeRtcp(packets, out, offset)` writes into a caller's buffer; misuse (a count
 * over 31, a delta that does not fit) throws TypeError, a buffer too small RangeError.
 */
export * from './app.js';
export * from './bye.js';
export * from './compound.js';
export * from './feedback-header.js';
export * from './fir.js';
export * from './generic-nack.js';
export * from './header.js';
export * from './ntp.js';
export * from './packet.js';
export * from './pli.js';
export * from './receiver-report.js';
export * from './remb.js';
export * from './report-block.js';
export * from './sdes.js';
export * from './sender-report.js';
export * from './transport-cc.js';
export * from './transport-cc-reader.js';
export * from './transport-cc-writer.js';
export * from './xr.js';
