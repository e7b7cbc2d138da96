/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4): 64-bit, seconds since 1900 in the high
 * word; the "compact" form (LSR, DLSR, LRR, DLRR) is the middle 32 bits, in 1/65536 s.
 */

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** The 64-bit NTP timestamp of a Unix time in milliseconds (e.g. `Date.now()`). */
export function ntpTimeFromUnixMs(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds + NTP_UNIX_OFFSET_SECONDS) << 32n) | BigInt(fraction);
}

/** Unix milliseconds of a 64-bit NTP timestamp. */
export function unixMsFromNtpTime(ntpTime: bigint): number {
  const seconds = Number(ntpTime >> 32n) - NTP_UNIX_OFFSET_SECONDS;
  return seconds * 1000 + (Number(ntpTime & 0xffffffffn) / 2 ** 32) * 1000;
}

/** The middle 32 bits of an NTP timestamp: what a receiver echoes as LSR (or LRR). */
export function compactNtp(ntpTime: bigint): number {
  return Number((ntpTime >> 16n) & 0xffffffffn);
}

/**
 * Round-trip time in seconds from an echoed report (RFC 3550 §6.4.1; RFC 3611 §4.5 for
 * DLRR): A − LSR − DLSR modulo 2^32, A being the compact NTP time the report arrived.
 * Undefined when LSR is 0 (the peer has not received a report yet); 0 when clock skew makes
 * the result negative.
 */
export function roundTripTime(
  arrivalCompactNtp: number,
  lastReport: number,
  delaySinceLastReport: number,
): number | undefined {
  if (lastReport === 0) return undefined;
  const rtt = (arrivalCompactNtp - lastReport - delaySinceLastReport) >>> 0;
  return rtt >= 0x80000000 ? 0 : rtt / 65536;
}
