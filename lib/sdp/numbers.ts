// Strict decimal parsing for SDP fields: digits only, no sign, no exponent, no leading zeros
// beyond "0" itself, so a view never accepts what it could not write back the same way.
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The integer in `text` if it is plain decimal within [min, max], else undefined. */
export function decimal(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || text.length > 10 || !DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** An RTP payload type (0–127, RFC 3550 §5.1). */
export function payloadType(text: string | undefined): number | undefined {
  return decimal(text, 0, 127);
}

/** A 32-bit SSRC. */
export function ssrcValue(text: string | undefined): number | undefined {
  return decimal(text, 0, 0xffffffff);
}
