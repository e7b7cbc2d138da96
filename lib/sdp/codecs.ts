/**
 * The codec model of an RTP media section: `codecsOf()` joins `rtpmap`, `fmtp` and `rtcp-fb`
 * per payload type and folds RTX (RFC 4588, `apt=`) into the codec it repairs.
 */
import type { MediaSection } from './description.js';
import { payloadType } from './numbers.js';
import { fmtpsOf, parseFmtpParameters, rtcpFeedbackOf, rtpmapsOf } from './rtp.js';

export interface Feedback {
  type: string;
  parameter?: string;
}

export interface Codec {
  payloadType: number;
  /** Encoding name as written; compare with `sameName()`. */
  name: string;
  clockRate: number;
  channels?: number;
  /** The `a=fmtp` parameters as written ('' when none). */
  fmtp: string;
  /** `fmtp` parsed: keys lower-cased. */
  parameters: Map<string, string>;
  /** Feedback for this payload type, `rtcp-fb:*` ones included, in order. */
  rtcpFb: Feedback[];
  /** The RTX payload type whose `apt=` names this codec (RFC 4588 §8.6). */
  rtxPayloadType?: number;
  /** `rtx-time` of that RTX format, when given. */
  rtxTime?: number;
}

// Static payload types that may appear without an rtpmap (RFC 3551 §6).
const STATIC: ReadonlyMap<number, [string, number, number?]> = new Map([
  [0, ['PCMU', 8000]],
  [3, ['GSM', 8000]],
  [4, ['G723', 8000]],
  [8, ['PCMA', 8000]],
  [9, ['G722', 8000]],
  [13, ['CN', 8000]],
  [18, ['G729', 8000]],
]);

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The section's codecs in `m=` order, RTX formats folded into the codec they repair (an RTX
 * whose `apt` names no listed codec is dropped). Formats with neither an rtpmap nor a static
 * assignment are skipped.
 */
export function codecsOf(m: MediaSection): Codec[] {
  const rtpmaps = new Map(rtpmapsOf(m.lines).map((r) => [r.payloadType, r]));
  const fmtps = new Map<number, string>();
  for (const f of fmtpsOf(m.lines))
    if (!fmtps.has(f.payloadType)) fmtps.set(f.payloadType, f.parameters);
  const feedback = rtcpFeedbackOf(m.lines);
  const all: Codec[] = [];
  for (const format of m.formats) {
    const pt = payloadType(format);
    if (pt === undefined || all.some((c) => c.payloadType === pt)) continue;
    const map = rtpmaps.get(pt);
    const fixed = STATIC.get(pt);
    if (map === undefined && fixed === undefined) continue;
    const fmtp = fmtps.get(pt) ?? '';
    const codec: Codec = {
      payloadType: pt,
      name: map?.name ?? fixed![0],
      clockRate: map?.clockRate ?? fixed![1],
      fmtp,
      parameters: parseFmtpParameters(fmtp),
      rtcpFb: feedback
        .filter((f) => f.payloadType === pt || f.payloadType === '*')
        .map((f) =>
          f.parameter === undefined ? { type: f.type } : { type: f.type, parameter: f.parameter },
        ),
    };
    if (map?.channels !== undefined) codec.channels = map.channels;
    all.push(codec);
  }
  const out: Codec[] = [];
  for (const c of all) {
    if (!sameName(c.name, 'rtx')) {
      out.push(c);
      continue;
    }
    const target = all.find((x) => x.payloadType === payloadType(c.parameters.get('apt')));
    if (
      target === undefined ||
      sameName(target.name, 'rtx') ||
      target.rtxPayloadType !== undefined
    ) {
      continue;
    }
    target.rtxPayloadType = c.payloadType;
    const time = Number(c.parameters.get('rtx-time'));
    if (c.parameters.has('rtx-time') && Number.isSafeInteger(time)) target.rtxTime = time;
  }
  return out;
}
