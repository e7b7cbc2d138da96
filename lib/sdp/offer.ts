/**
 * Offers from the server (RFC 8829 §5.2): what an SFU sends a subscriber when it adds or
 * removes tracks. The caller chooses every section (mid, codecs with their payload types,
 * header extension ids, our SSRCs); this writes them with our ICE/DTLS parameters and one
 * BUNDLE group of the live sections. Renegotiation keeps mids and m-line order (RFC 8829
 * §5.2.2): pass the previous sections again, a removed one with `rejected: true`.
 */

import { writeCodec } from './answer.js';
import { addAttribute } from './attributes.js';
import type { Codec } from './codecs.js';
import type { MediaSection, SdpLine, SessionDescription } from './description.js';
import { type Direction, formatMsid, type Msid, sends } from './media.js';
import {
  type Extmap,
  formatExtmap,
  formatSsrc,
  formatSsrcGroup,
  type SsrcAttribute,
  type SsrcGroup,
} from './rtp.js';
import { type Fingerprint, formatFingerprint } from './transport.js';

export interface OfferMedia {
  mid: string;
  kind: 'audio' | 'video' | 'application';
  /** Default `sendonly` (an SFU forwarding a track). Ignored for `application`. */
  direction?: Direction;
  /** Codecs with the payload types this leg uses, in preference order; RTX via `rtxPayloadType`. */
  codecs?: readonly Codec[];
  /** Header extensions with the ids this leg uses. */
  extensions?: readonly Extmap[];
  msid?: Msid;
  ssrcs?: readonly SsrcAttribute[];
  ssrcGroups?: readonly SsrcGroup[];
  /** Port 0: a section whose track was removed (its mid is not reused). */
  rejected?: boolean;
}

export interface OfferOptions {
  ice: { ufrag: string; pwd: string };
  fingerprints: readonly Fingerprint[];
  /** Default `actpass` (RFC 8842 §5.2); a re-offer may keep the role already in use. */
  setup?: 'actpass' | 'active' | 'passive';
  /** Write session-level `a=ice-lite`. Default true. */
  iceLite?: boolean;
  candidates?: readonly string[];
  /** Default true. */
  endOfCandidates?: boolean;
  /** Default 262144. */
  maxMessageSize?: number;
  /** `o=` session id; keep it across re-offers. */
  sessionId: string;
  /** Increment on every re-offer (RFC 8866 §5.2). Default 1. */
  sessionVersion?: number;
  media: readonly OfferMedia[];
}

const RTP_PROTOCOL = 'UDP/TLS/RTP/SAVPF';
const SCTP_PROTOCOL = 'UDP/DTLS/SCTP';

/** Writes the offer; throws TypeError for misuse (no fingerprint, repeated mid, no codecs). */
export function createOffer(options: OfferOptions): SessionDescription {
  if (options.fingerprints.length === 0) throw new TypeError('fingerprints must not be empty');
  const mids = new Set<string>();
  const media: MediaSection[] = [];
  for (const m of options.media) {
    if (mids.has(m.mid) || !/^[\x21-\x7e]{1,32}$/.test(m.mid)) {
      throw new TypeError(`bad or repeated mid ${JSON.stringify(m.mid)}`);
    }
    mids.add(m.mid);
    media.push(offerSection(m, options));
  }
  const session: SdpLine[] = [
    { type: 'v', value: '0' },
    { type: 'o', value: `rtcd ${options.sessionId} ${options.sessionVersion ?? 1} IN IP4 0.0.0.0` },
    { type: 's', value: '-' },
    { type: 't', value: '0 0' },
  ];
  const live = options.media.filter((m) => m.rejected !== true).map((m) => m.mid);
  if (live.length > 0) addAttribute(session, 'group', ['BUNDLE', ...live].join(' '));
  if (options.iceLite ?? true) addAttribute(session, 'ice-lite');
  addAttribute(session, 'extmap-allow-mixed');
  addAttribute(session, 'msid-semantic', ' WMS *');
  return { session, media };
}

function offerSection(m: OfferMedia, options: OfferOptions): MediaSection {
  const data = m.kind === 'application';
  const codecs = m.codecs ?? [];
  if (!data && codecs.length === 0 && m.rejected !== true) {
    throw new TypeError(`section ${m.mid} has no codecs`);
  }
  const formats = data
    ? ['webrtc-datachannel']
    : codecs.flatMap((c) =>
        c.rtxPayloadType === undefined
          ? [`${c.payloadType}`]
          : [`${c.payloadType}`, `${c.rtxPayloadType}`],
      );
  const section: MediaSection = {
    kind: m.kind,
    port: m.rejected === true ? 0 : 9,
    protocol: data ? SCTP_PROTOCOL : RTP_PROTOCOL,
    formats: formats.length > 0 ? formats : ['0'],
    lines: [{ type: 'c', value: 'IN IP4 0.0.0.0' }],
  };
  const lines = section.lines;
  if (m.rejected === true) {
    addAttribute(lines, 'mid', m.mid);
    if (!data) addAttribute(lines, 'inactive');
    return section;
  }
  addAttribute(lines, 'ice-ufrag', options.ice.ufrag);
  addAttribute(lines, 'ice-pwd', options.ice.pwd);
  for (const f of options.fingerprints) addAttribute(lines, 'fingerprint', formatFingerprint(f));
  addAttribute(lines, 'setup', options.setup ?? 'actpass');
  addAttribute(lines, 'mid', m.mid);
  if (data) {
    addAttribute(lines, 'sctp-port', '5000');
    addAttribute(lines, 'max-message-size', `${options.maxMessageSize ?? 262144}`);
  } else {
    for (const e of m.extensions ?? []) addAttribute(lines, 'extmap', formatExtmap(e));
    const direction = m.direction ?? 'sendonly';
    addAttribute(lines, direction);
    if (m.msid !== undefined && sends(direction)) addAttribute(lines, 'msid', formatMsid(m.msid));
    addAttribute(lines, 'rtcp-mux');
    addAttribute(lines, 'rtcp-rsize');
    for (const c of codecs) writeCodec(lines, c);
    if (sends(direction)) {
      for (const g of m.ssrcGroups ?? []) addAttribute(lines, 'ssrc-group', formatSsrcGroup(g));
      for (const s of m.ssrcs ?? []) addAttribute(lines, 'ssrc', formatSsrc(s));
    }
  }
  for (const c of options.candidates ?? []) addAttribute(lines, 'candidate', c);
  if (options.endOfCandidates ?? true) addAttribute(lines, 'end-of-candidates');
  return section;
}
