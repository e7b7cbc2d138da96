/**
 * RFC 7983 (updating RFC 5764 §5.1.2): what a packet arriving on a port shared by STUN, DTLS,
 * TURN channels and SRTP is, from its first byte alone.
 *
 * | first byte | class          |
 * |------------|----------------|
 * | 0–3        | `stun`         |
 * | 16–19      | `unknown` (ZRTP: not spoken here) |
 * | 20–63      | `dtls`         |
 * | 64–79      | `turn-channel` |
 * | 128–191    | `rtp` (RTP and RTCP, told apart by `isRtcp`) |
 * | anything else, or an empty packet | `unknown` |
 */
export type PacketClass = 'stun' | 'dtls' | 'rtp' | 'turn-channel' | 'unknown';

/** Class of each first-byte value, so classifying is one array read. */
const CLASS_BY_FIRST_BYTE: readonly PacketClass[] = Array.from({ length: 256 }, (_, b) => {
  if (b <= 3) return 'stun';
  if (b >= 20 && b <= 63) return 'dtls';
  if (b >= 64 && b <= 79) return 'turn-channel';
  if (b >= 128 && b <= 191) return 'rtp';
  return 'unknown';
});

/** The RFC 7983 class of `buf` from its first byte; never throws. */
export function classifyPacket(buf: Uint8Array): PacketClass {
  return buf.length === 0 ? 'unknown' : CLASS_BY_FIRST_BYTE[buf[0]!]!;
}

/**
 * For a packet of class `rtp`: true if it is RTCP (RFC 5761 §4: second byte — marker bit and
 * payload type for RTP, packet type for RTCP — in 192–223, i.e. payload type 64–95 with the
 * marker bit set, which RTP avoids). False when shorter than 2 bytes.
 */
export function isRtcp(buf: Uint8Array): boolean {
  if (buf.length < 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}
