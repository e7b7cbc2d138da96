import type { StunAttribute, StunMessage } from '../message.js';

/**
 * REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.10, §18.11): a family
 * byte (0x01 IPv4, 0x02 IPv6), then 24 bits RFFU. (ADDITIONAL-ADDRESS-FAMILY may only name
 * IPv6; that is a protocol rule checked by TURN, not a format rule.)
 */

/** The value bytes naming `family`. Throws TypeError for anything but 4 or 6. */
export function encodeAddressFamily(family: 4 | 6): Buffer {
  if (family !== 4 && family !== 6) throw new TypeError(`invalid address family ${family}`);
  return Buffer.from([family === 4 ? 0x01 : 0x02, 0, 0, 0]);
}

/** Decodes the family; undefined unless the length is 4 and the family byte is 1 or 2. */
export function decodeAddressFamily(m: StunMessage, a: StunAttribute): 4 | 6 | undefined {
  if (a.length !== 4) return undefined;
  const f = m.buffer[a.offset];
  return f === 0x01 ? 4 : f === 0x02 ? 6 : undefined;
}
