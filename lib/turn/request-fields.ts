import { decodeAddressFamily } from '../stun/attributes/address-family.js';
import { decodeChannelNumber } from '../stun/attributes/channel-number.js';
import { decodeEvenPort } from '../stun/attributes/even-port.js';
import { decodeRequestedTransport } from '../stun/attributes/requested-transport.js';
import { decodeReservationToken } from '../stun/attributes/reservation-token.js';
import { decodeLifetime } from '../stun/attributes/uint32.js';
import { AttributeType } from '../stun/constants.js';
import type { StunAttribute, StunMessage } from '../stun/message.js';

/**
 * The small TURN attributes of a request (RFC 8656 §18) through lib/stun's codecs, telling
 * "absent" (`undefined`) from "present but malformed" (`null`, which handlers answer 400).
 */
function field<T>(
  m: StunMessage,
  type: number,
  decode: (m: StunMessage, a: StunAttribute) => T | undefined,
): T | null | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : (decode(m, a) ?? null);
}

/** REQUESTED-TRANSPORT protocol number (17 is UDP). */
export function requestedTransport(m: StunMessage): number | null | undefined {
  return field(m, AttributeType.REQUESTED_TRANSPORT, decodeRequestedTransport);
}

/** LIFETIME, seconds. */
export function lifetime(m: StunMessage): number | null | undefined {
  return field(m, AttributeType.LIFETIME, decodeLifetime);
}

/** CHANNEL-NUMBER as sent (range checks are the handler's). */
export function channelNumber(m: StunMessage): number | null | undefined {
  return field(m, AttributeType.CHANNEL_NUMBER, decodeChannelNumber);
}

/** EVEN-PORT's R bit: reserve the next port too. */
export function evenPort(m: StunMessage): boolean | null | undefined {
  return field(m, AttributeType.EVEN_PORT, decodeEvenPort);
}

/** RESERVATION-TOKEN as hex, the reservation table's key. */
export function reservationToken(m: StunMessage): string | null | undefined {
  return field(m, AttributeType.RESERVATION_TOKEN, (msg, a) =>
    decodeReservationToken(msg, a)?.toString('hex'),
  );
}

/**
 * REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY: 4 or 6; 0 for a well-formed value
 * naming another family (440 for REQUESTED-ADDRESS-FAMILY, RFC 8656 §7.2); null if malformed.
 */
export function addressFamily(m: StunMessage, type: number): 0 | 4 | 6 | null | undefined {
  const a = m.get(type);
  if (a === undefined) return undefined;
  if (a.length !== 4) return null;
  return decodeAddressFamily(m, a) ?? 0;
}
