import type { StunAttribute, StunMessage } from '../message.js';

/**
 * REQUESTED-TRANSPORT (RFC 8656 §18.7): an IANA protocol number, then 24 bits RFFU.
 * Only UDP is defined for allocations by RFC 8656; TCP by RFC 6062.
 */

export const TransportProtocol = { TCP: 6, UDP: 17 } as const;

/** The value bytes of REQUESTED-TRANSPORT. Throws TypeError outside 0..255. */
export function encodeRequestedTransport(protocol: number): Buffer {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 0xff) {
    throw new TypeError(`invalid protocol number ${protocol}`);
  }
  return Buffer.from([protocol, 0, 0, 0]);
}

/** Decodes REQUESTED-TRANSPORT to the protocol number; undefined unless the length is 4. */
export function decodeRequestedTransport(m: StunMessage, a: StunAttribute): number | undefined {
  return a.length === 4 ? m.buffer[a.offset] : undefined;
}
