/**
 * Answers for an ICE-lite server (RFC 8829 §5.3, RFC 3264 §6): one answer section per offered
 * one, mids mirrored, one BUNDLE group, our ICE and DTLS parameters in every accepted section,
 * chosen codecs and header extensions, the direction reversed, simulcast `send` answered with
 * `recv` (RFC 8853 §5.3). Never throws on the offer: a refused offer gives a stable code.
 */
import { addAttribute, hasAttribute } from './attributes.js';
import {
  type CodecCapability,
  DEFAULT_AUDIO_CODECS,
  DEFAULT_VIDEO_CODECS,
  matchCodecs,
} from './codec-match.js';
import { type Codec, codecsOf } from './codecs.js';
import type { MediaSection, SdpLine, SessionDescription } from './description.js';
import {
  type Direction,
  directionOf,
  formatMsid,
  isRejected,
  type Msid,
  receives,
  reverseDirection,
  sends,
} from './media.js';
import {
  extmapsOf,
  formatExtmap,
  formatFmtpParameters,
  formatRtcpFeedback,
  formatRtpmap,
  formatSsrc,
  formatSsrcGroup,
  type SsrcAttribute,
  type SsrcGroup,
} from './rtp.js';
import { bundleGroupsOf, midOf } from './session.js';
import {
  formatRid,
  formatSimulcast,
  KNOWN_RID_RESTRICTIONS,
  type Rid,
  ridsOf,
  type SimulcastStream,
  simulcastOf,
} from './simulcast.js';
import {
  type Fingerprint,
  fingerprintsOf,
  formatFingerprint,
  iceParametersOf,
  setupOf,
} from './transport.js';

/** Header extensions an SFU needs to route and to run congestion control. */
export const DEFAULT_AUDIO_EXTENSIONS: readonly string[] = [
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
];
export const DEFAULT_VIDEO_EXTENSIONS: readonly string[] = [
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
];

/** What to do with one offered section; see `AnswerOptions.media`. */
export interface MediaAnswerChoice {
  /** Reject the section (port 0). Default false. */
  reject?: boolean;
  /** Default: the offered direction reversed. */
  direction?: Direction;
  /** Our `a=msid` when we send on this section. */
  msid?: Msid;
  /** Our sending SSRCs (`cname`, `msid`) and groups (`FID` for RTX). */
  ssrcs?: readonly SsrcAttribute[];
  ssrcGroups?: readonly SsrcGroup[];
  /**
   * The offered `a=simulcast:send` streams we receive, in the offer's order, each a subset of
   * its offered alternatives (RFC 8853 §5.3 lets the answerer drop streams and alternatives).
   * Default: every offered stream whose rids survive the codec choice.
   */
  simulcastRecv?: readonly SimulcastStream[];
}

export interface AnswerOptions {
  ice: { ufrag: string; pwd: string };
  /** Our certificate's fingerprints (RFC 8122); at least one. */
  fingerprints: readonly Fingerprint[];
  /** Our DTLS role when the offer says `actpass`. Default `passive` (the browser is client). */
  setup?: 'active' | 'passive';
  /** Write session-level `a=ice-lite`. Default true. */
  iceLite?: boolean;
  /** Our candidates as `a=candidate` values, written in every accepted section. Default none. */
  candidates?: readonly string[];
  /** Write `a=end-of-candidates` (we gather nothing later). Default true. */
  endOfCandidates?: boolean;
  /** Default `DEFAULT_AUDIO_CODECS` / `DEFAULT_VIDEO_CODECS`. */
  audioCodecs?: readonly CodecCapability[];
  videoCodecs?: readonly CodecCapability[];
  /** Header extension URIs we accept. Default `DEFAULT_AUDIO_EXTENSIONS` / `…_VIDEO_…`. */
  audioExtensions?: readonly string[];
  videoExtensions?: readonly string[];
  /** Accept a `webrtc-datachannel` section. Default true. */
  dataChannels?: boolean;
  /** Our `a=max-message-size` (RFC 8841 §6). Default 262144. */
  maxMessageSize?: number;
  /** `o=` session id (digits). Default a random 62-bit one. */
  sessionId?: string;
  /** `o=` session version; increment it on every new answer of a session. Default 1. */
  sessionVersion?: number;
  /** Per-section choice; default: accept with the reversed direction. */
  media?: (offered: MediaSection, mid: string) => MediaAnswerChoice;
}

export type AnswerErrorCode =
  /** A section has no `a=mid` (unified plan requires one, RFC 8829 §5.2.1). */
  | 'missing-mid'
  | 'duplicate-mid'
  /** No `a=group:BUNDLE`: one transport per section is not supported. */
  | 'no-bundle'
  /** An accepted section has no `a=ice-ufrag`/`a=ice-pwd`. */
  | 'missing-ice-credentials'
  | 'missing-fingerprint'
  /** An accepted RTP section without `a=rtcp-mux` (RFC 8829 §5.1.3 policy "require"). */
  | 'no-rtcp-mux'
  /** `a=setup:holdconn` or an unknown value. */
  | 'bad-setup';

export interface AnswerError {
  code: AnswerErrorCode;
  /** The offending section's mid (or index when it has none). */
  mid?: string;
  message: string;
}

export type AnswerResult =
  | { ok: true; value: SessionDescription }
  | { ok: false; error: AnswerError };

interface Accepted {
  mid: string;
  section: MediaSection;
}

export function createAnswer(offer: SessionDescription, options: AnswerOptions): AnswerResult {
  if (options.fingerprints.length === 0) throw new TypeError('fingerprints must not be empty');
  const bundle = bundleGroupsOf(offer)[0];
  if (bundle === undefined) return fail('no-bundle', undefined, 'the offer has no BUNDLE group');
  const seen = new Set<string>();
  const answered: Accepted[] = [];
  for (const [i, m] of offer.media.entries()) {
    const mid = midOf(m);
    if (mid === undefined) return fail('missing-mid', `${i}`, `section ${i} has no a=mid`);
    if (seen.has(mid)) return fail('duplicate-mid', mid, `mid ${mid} appears twice`);
    seen.add(mid);
    const r = answerSection(offer, m, mid, bundle.includes(mid), options);
    if (!r.ok) return r;
    answered.push({ mid, section: r.value });
  }
  const session: SdpLine[] = [
    { type: 'v', value: '0' },
    {
      type: 'o',
      value: `rtcd ${options.sessionId ?? randomSessionId()} ${options.sessionVersion ?? 1} IN IP4 0.0.0.0`,
    },
    { type: 's', value: '-' },
    { type: 't', value: '0 0' },
  ];
  const live = answered.filter((a) => a.section.port !== 0).map((a) => a.mid);
  const group = bundle.filter((mid) => live.includes(mid));
  if (group.length > 0) addAttribute(session, 'group', ['BUNDLE', ...group].join(' '));
  if (options.iceLite ?? true) addAttribute(session, 'ice-lite');
  if (hasAttribute(offer.session, 'extmap-allow-mixed'))
    addAttribute(session, 'extmap-allow-mixed');
  addAttribute(session, 'msid-semantic', ' WMS *');
  return { ok: true, value: { session, media: answered.map((a) => a.section) } };
}

function answerSection(
  offer: SessionDescription,
  m: MediaSection,
  mid: string,
  inBundle: boolean,
  options: AnswerOptions,
): { ok: true; value: MediaSection } | { ok: false; error: AnswerError } {
  const choice = options.media?.(m, mid) ?? {};
  const rtp = m.protocol.includes('RTP/');
  const data =
    m.kind === 'application' &&
    m.protocol.endsWith('SCTP') &&
    m.formats[0] === 'webrtc-datachannel';
  const codecs = rtp ? matchCodecs(codecsOf(m), capabilitiesFor(m.kind, options)) : [];
  const rejectedByUs =
    choice.reject === true ||
    !inBundle ||
    (rtp ? codecs.length === 0 : !data || options.dataChannels === false);
  if (isRejected(m) || rejectedByUs) return { ok: true, value: rejected(m, mid) };

  const ice = iceParametersOf(m.lines, offer.session);
  if (ice.ufrag === undefined || ice.pwd === undefined) {
    return fail('missing-ice-credentials', mid, `section ${mid} has no ICE credentials`);
  }
  if (fingerprintsOf(m.lines, offer.session).length === 0) {
    return fail('missing-fingerprint', mid, `section ${mid} has no a=fingerprint`);
  }
  const offeredSetup = setupOf(m.lines, offer.session) ?? 'active';
  if (offeredSetup === 'holdconn') return fail('bad-setup', mid, `a=setup:${offeredSetup}`);
  if (rtp && !hasAttribute(m.lines, 'rtcp-mux')) {
    return fail('no-rtcp-mux', mid, `section ${mid} does not offer a=rtcp-mux`);
  }
  const setup =
    offeredSetup === 'active'
      ? 'passive'
      : offeredSetup === 'passive'
        ? 'active'
        : (options.setup ?? 'passive');

  const formats = rtp
    ? codecs.flatMap((c) =>
        c.rtxPayloadType === undefined
          ? [`${c.payloadType}`]
          : [`${c.payloadType}`, `${c.rtxPayloadType}`],
      )
    : [...m.formats];
  const section: MediaSection = { kind: m.kind, port: 9, protocol: m.protocol, formats, lines: [] };
  const lines = section.lines;
  lines.push({ type: 'c', value: 'IN IP4 0.0.0.0' });
  addAttribute(lines, 'ice-ufrag', options.ice.ufrag);
  addAttribute(lines, 'ice-pwd', options.ice.pwd);
  for (const f of options.fingerprints) addAttribute(lines, 'fingerprint', formatFingerprint(f));
  addAttribute(lines, 'setup', setup);
  addAttribute(lines, 'mid', mid);
  if (rtp) writeRtp(offer, m, codecs, choice, options, lines);
  else {
    addAttribute(lines, 'sctp-port', '5000');
    addAttribute(lines, 'max-message-size', `${options.maxMessageSize ?? 262144}`);
  }
  for (const c of options.candidates ?? []) addAttribute(lines, 'candidate', c);
  if (options.endOfCandidates ?? true) addAttribute(lines, 'end-of-candidates');
  return { ok: true, value: section };
}

function writeRtp(
  offer: SessionDescription,
  m: MediaSection,
  codecs: readonly Codec[],
  choice: MediaAnswerChoice,
  options: AnswerOptions,
  lines: SdpLine[],
): void {
  const uris =
    m.kind === 'audio'
      ? (options.audioExtensions ?? DEFAULT_AUDIO_EXTENSIONS)
      : (options.videoExtensions ?? DEFAULT_VIDEO_EXTENSIONS);
  for (const e of extmapsOf(m.lines)) {
    if (uris.includes(e.uri)) addAttribute(lines, 'extmap', formatExtmap({ id: e.id, uri: e.uri }));
  }
  const direction = choice.direction ?? reverseDirection(directionOf(m, offer.session));
  addAttribute(lines, direction);
  if (choice.msid !== undefined && sends(direction))
    addAttribute(lines, 'msid', formatMsid(choice.msid));
  addAttribute(lines, 'rtcp-mux');
  if (hasAttribute(m.lines, 'rtcp-rsize')) addAttribute(lines, 'rtcp-rsize');
  for (const c of codecs) writeCodec(lines, c);
  if (receives(direction)) writeSimulcastRecv(m, codecs, choice.simulcastRecv, lines);
  if (sends(direction)) {
    for (const g of choice.ssrcGroups ?? []) addAttribute(lines, 'ssrc-group', formatSsrcGroup(g));
    for (const s of choice.ssrcs ?? []) addAttribute(lines, 'ssrc', formatSsrc(s));
  }
}

/** rtpmap, rtcp-fb, fmtp of a codec, then its RTX format (RFC 4588 §8.6). */
export function writeCodec(lines: SdpLine[], c: Codec): void {
  const map = { payloadType: c.payloadType, name: c.name, clockRate: c.clockRate };
  addAttribute(
    lines,
    'rtpmap',
    formatRtpmap(c.channels === undefined ? map : { ...map, channels: c.channels }),
  );
  for (const f of c.rtcpFb)
    addAttribute(lines, 'rtcp-fb', formatRtcpFeedback({ payloadType: c.payloadType, ...f }));
  if (c.fmtp !== '') addAttribute(lines, 'fmtp', `${c.payloadType} ${c.fmtp}`);
  if (c.rtxPayloadType === undefined) return;
  addAttribute(
    lines,
    'rtpmap',
    formatRtpmap({ payloadType: c.rtxPayloadType, name: 'rtx', clockRate: c.clockRate }),
  );
  const rtx = new Map([['apt', `${c.payloadType}`]]);
  if (c.rtxTime !== undefined) rtx.set('rtx-time', `${c.rtxTime}`);
  addAttribute(lines, 'fmtp', `${c.rtxPayloadType} ${formatFmtpParameters(rtx)}`);
}

/**
 * The offer's `send` rids become our `recv` rids (RFC 8851 §4), `pt=` cut to the payload types
 * we accepted and restrictions we do not know removed (an answerer only keeps restrictions it
 * understands), and `a=simulcast:send` becomes `recv` (RFC 8853 §5.3) with the same streams
 * in the same order, or with `chosen` ones. A rid named twice counts once; a rid with no
 * `a=rid` line, or whose payload types were all refused, is dropped with its stream.
 */
function writeSimulcastRecv(
  m: MediaSection,
  codecs: readonly Codec[],
  chosen: readonly SimulcastStream[] | undefined,
  lines: SdpLine[],
): void {
  const simulcast = simulcastOf(m.lines);
  if (simulcast?.send === undefined) return;
  const accepted = new Set(codecs.map((c) => c.payloadType));
  const usable = new Map<string, Rid>();
  for (const r of ridsOf(m.lines)) {
    if (r.direction !== 'send' || usable.has(r.id)) continue;
    const pts = r.payloadTypes?.filter((pt) => accepted.has(pt));
    if (pts !== undefined && pts.length === 0) continue;
    const restrictions = r.restrictions.filter(([k]) => KNOWN_RID_RESTRICTIONS.has(k));
    const rid: Rid = { id: r.id, direction: 'recv', restrictions };
    if (pts !== undefined) rid.payloadTypes = pts;
    usable.set(r.id, rid);
  }
  const seen = new Set<string>();
  const streams: SimulcastStream[] = [];
  for (const alts of chosen ?? simulcast.send) {
    const kept = alts.filter((a) => usable.has(a.rid) && !seen.has(a.rid));
    for (const a of kept) seen.add(a.rid);
    if (kept.length > 0) streams.push(kept);
  }
  if (streams.length === 0) return;
  for (const r of usable.values()) if (seen.has(r.id)) addAttribute(lines, 'rid', formatRid(r));
  addAttribute(lines, 'simulcast', formatSimulcast({ recv: streams }));
}

function capabilitiesFor(kind: string, options: AnswerOptions): readonly CodecCapability[] {
  if (kind === 'audio') return options.audioCodecs ?? DEFAULT_AUDIO_CODECS;
  if (kind === 'video') return options.videoCodecs ?? DEFAULT_VIDEO_CODECS;
  return [];
}

/** A rejected section (RFC 8829 §5.3.1): port 0, the offer's first format, the mid kept. */
function rejected(m: MediaSection, mid: string): MediaSection {
  const lines: SdpLine[] = [{ type: 'c', value: 'IN IP4 0.0.0.0' }];
  addAttribute(lines, 'mid', mid);
  if (m.protocol.includes('RTP/')) addAttribute(lines, 'inactive');
  return { kind: m.kind, port: 0, protocol: m.protocol, formats: m.formats.slice(0, 1), lines };
}

function randomSessionId(): string {
  // 62 bits so it stays positive in a signed 64-bit field (RFC 8829 §5.2.1).
  const hi = Math.floor(Math.random() * 0x40000000);
  const lo = Math.floor(Math.random() * 0x100000000);
  return (BigInt(hi) * 0x100000000n + BigInt(lo)).toString();
}

function fail(
  code: AnswerErrorCode,
  mid: string | undefined,
  message: string,
): { ok: false; error: AnswerError } {
  return { ok: false, error: mid === undefined ? { code, message } : { code, mid, message } };
}
