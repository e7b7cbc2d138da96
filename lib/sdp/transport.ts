/**
 * ICE (RFC 8839) and DTLS (RFC 8122, RFC 5763) parameters. Media-level attributes override
 * session-level ones (RFC 8839 §5.4, RFC 8122 §5); pass the session lines to get the fallback.
 * Candidates stay raw strings: lib/ice parses them.
 */
import { attributeValue, attributeValues, hasAttribute } from './attributes.js';
import type { SdpLine } from './description.js';

export interface IceParameters {
  ufrag: string | undefined;
  pwd: string | undefined;
  /** `a=ice-options` tokens (`trickle`, `renomination`, …). */
  options: string[];
  /** `a=ice-lite` at session level (RFC 8839 §5.3): the peer only answers checks. */
  lite: boolean;
}

export type SetupRole = 'actpass' | 'active' | 'passive' | 'holdconn';

export interface Fingerprint {
  /** Hash function as written (`sha-256`). */
  algorithm: string;
  /** Colon-separated upper-case hex as written. */
  value: string;
}

function mediaOrSession(
  media: readonly SdpLine[],
  session: readonly SdpLine[],
  name: string,
): string | undefined {
  return attributeValue(media, name) ?? attributeValue(session, name);
}

export function iceParametersOf(
  media: readonly SdpLine[],
  session: readonly SdpLine[] = [],
): IceParameters {
  const options = mediaOrSession(media, session, 'ice-options');
  return {
    ufrag: mediaOrSession(media, session, 'ice-ufrag'),
    pwd: mediaOrSession(media, session, 'ice-pwd'),
    options: options === undefined ? [] : options.split(' ').filter((x) => x !== ''),
    lite: hasAttribute(session, 'ice-lite'),
  };
}

/** `a=candidate` values (without `candidate:`), in order, for lib/ice to parse. */
export function candidatesOf(media: readonly SdpLine[]): string[] {
  return attributeValues(media, 'candidate');
}

export function endOfCandidates(media: readonly SdpLine[]): boolean {
  return hasAttribute(media, 'end-of-candidates');
}

/** Media-level `a=fingerprint`s, or the session's when the section has none (RFC 8122 §5). */
export function fingerprintsOf(
  media: readonly SdpLine[],
  session: readonly SdpLine[] = [],
): Fingerprint[] {
  const parse = (lines: readonly SdpLine[]): Fingerprint[] => {
    const out: Fingerprint[] = [];
    for (const v of attributeValues(lines, 'fingerprint')) {
      const [algorithm, value, extra] = v.split(' ');
      if (algorithm && value && extra === undefined) out.push({ algorithm, value });
    }
    return out;
  };
  const own = parse(media);
  return own.length > 0 ? own : parse(session);
}

export function formatFingerprint(f: Fingerprint): string {
  return `${f.algorithm} ${f.value}`;
}

const ROLES: readonly SetupRole[] = ['actpass', 'active', 'passive', 'holdconn'];

function isSetupRole(v: string | undefined): v is SetupRole {
  return (ROLES as readonly (string | undefined)[]).includes(v);
}

/** `a=setup` (RFC 4145 §4), media then session; undefined if absent or unknown. */
export function setupOf(
  media: readonly SdpLine[],
  session: readonly SdpLine[] = [],
): SetupRole | undefined {
  const v = mediaOrSession(media, session, 'setup');
  return isSetupRole(v) ? v : undefined;
}

/** RTP and RTCP on one port (RFC 5761); WebRTC requires it (RFC 8834 §4.5). */
export function rtcpMux(media: readonly SdpLine[]): boolean {
  return hasAttribute(media, 'rtcp-mux');
}

/** Reduced-size RTCP (RFC 5506). */
export function rtcpRsize(media: readonly SdpLine[]): boolean {
  return hasAttribute(media, 'rtcp-rsize');
}
