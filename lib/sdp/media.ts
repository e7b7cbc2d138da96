/**
 * Per-section views: direction (RFC 8866 §6.7), `a=msid` (RFC 8830), rejection (port 0,
 * RFC 8829 §5.3.1), SCTP (RFC 8841) and bandwidth (`b=`, RFC 8866 §5.8, RFC 3890 TIAS).
 */
import { attributeValue, attributeValues } from './attributes.js';
import type { MediaSection, SdpLine } from './description.js';
import { decimal } from './numbers.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function isDirection(name: string): name is Direction {
  return (DIRECTIONS as readonly string[]).includes(name);
}

/**
 * The section's direction: its own direction attribute (the last if several), else the
 * session's, else `sendrecv`, the default of RFC 8866 §6.7.
 */
export function directionOf(m: MediaSection, session: readonly SdpLine[] = []): Direction {
  return directionIn(m.lines) ?? directionIn(session) ?? 'sendrecv';
}

function directionIn(lines: readonly SdpLine[]): Direction | undefined {
  let found: Direction | undefined;
  for (const l of lines) if (l.type === 'a' && isDirection(l.value)) found = l.value;
  return found;
}

/** The direction an answerer uses for an offered one: send and receive swap (RFC 3264 §6.1). */
export function reverseDirection(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

/** Whether the direction includes sending / receiving. */
export function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
export function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/** Replaces the section's direction attributes with one `d` where the first one stood. */
export function setDirection(m: MediaSection, d: Direction): void {
  const at = m.lines.findIndex((l) => l.type === 'a' && isDirection(l.value));
  const kept = m.lines.filter((l) => !(l.type === 'a' && isDirection(l.value)));
  kept.splice(at < 0 ? kept.length : at, 0, { type: 'a', value: d });
  m.lines.splice(0, m.lines.length, ...kept);
}

export interface Msid {
  /** `-` when the track belongs to no stream. */
  streamId: string;
  trackId: string | undefined;
}

/** `a=msid:<stream> [<track>]`, in order (a track may be in several streams). */
export function msidsOf(m: MediaSection): Msid[] {
  const out: Msid[] = [];
  for (const v of attributeValues(m.lines, 'msid')) {
    const [streamId, trackId, extra] = v.split(' ');
    if (streamId && extra === undefined) out.push({ streamId, trackId: trackId || undefined });
  }
  return out;
}

export function formatMsid(msid: Msid): string {
  return msid.trackId === undefined ? msid.streamId : `${msid.streamId} ${msid.trackId}`;
}

/**
 * Port 0 without `a=bundle-only`: the offerer or answerer rejected (or stopped) this section.
 * A bundle-only section (RFC 8843 §6) also has port 0 but is live inside the BUNDLE group.
 */
export function isRejected(m: MediaSection): boolean {
  return m.port === 0 && attributeValue(m.lines, 'bundle-only') === undefined;
}

/** `a=sctp-port` (RFC 8841 §5), 1–65535. */
export function sctpPortOf(m: MediaSection): number | undefined {
  return decimal(attributeValue(m.lines, 'sctp-port'), 1, 65535);
}

/** `a=max-message-size` (RFC 8841 §6); 0 means "no limit"; absent means 64 KiB. */
export function maxMessageSizeOf(m: MediaSection): number | undefined {
  return decimal(attributeValue(m.lines, 'max-message-size'), 0, Number.MAX_SAFE_INTEGER);
}

export interface Bandwidth {
  /** `AS` (kbit/s), `TIAS` (bit/s), `CT`, `RS`, `RR`, … as written. */
  type: string;
  value: number;
}

/** Every well-formed `b=` line of a section or of the session, in order. */
export function bandwidthsOf(lines: readonly SdpLine[]): Bandwidth[] {
  const out: Bandwidth[] = [];
  for (const l of lines) {
    if (l.type !== 'b') continue;
    const colon = l.value.indexOf(':');
    const value = decimal(l.value.slice(colon + 1), 0, Number.MAX_SAFE_INTEGER);
    if (colon > 0 && value !== undefined) out.push({ type: l.value.slice(0, colon), value });
  }
  return out;
}

/** The first `b=<type>:` value, e.g. `bandwidthOf(m.lines, 'TIAS')`. */
export function bandwidthOf(lines: readonly SdpLine[], type: string): number | undefined {
  return bandwidthsOf(lines).find((b) => b.type === type)?.value;
}
