/**
 * Matching offered codecs against what we can receive or forward (RFC 3264 §6.1): same name,
 * clock rate and channels, plus the format parameters that make two formats incompatible —
 * VP9 `profile-id`, H.264 profile and `packetization-mode` (RFC 6184 §8.2.2), AV1 `profile`.
 * Redundancy formats (red, ulpfec, flexfec) match only if a capability names them.
 */
import { type Codec, type Feedback, sameName } from './codecs.js';

export interface CodecCapability {
  name: string;
  clockRate: number;
  /** Audio channels; absent means 1. Opus is always 2 (RFC 7587 §7). */
  channels?: number;
  /** Parameters that must match (`profile-id`, `packetization-mode`, `profile-level-id`). */
  parameters?: Readonly<Record<string, string>>;
  /** Feedback we accept; an answer keeps the offered feedback that is in this list. */
  rtcpFb?: readonly Feedback[];
  /** Whether we negotiate RTX for this codec when offered. Default false. */
  rtx?: boolean;
}

/** The feedback an SFU answers or reads for video: NACK, PLI/FIR, REMB, transport-cc. */
export const DEFAULT_VIDEO_FEEDBACK: readonly Feedback[] = [
  { type: 'goog-remb' },
  { type: 'transport-cc' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
];

/** The feedback an SFU reads for audio: transport-cc. */
export const DEFAULT_AUDIO_FEEDBACK: readonly Feedback[] = [{ type: 'transport-cc' }];

/** What an SFU forwards by default: Opus. */
export const DEFAULT_AUDIO_CODECS: readonly CodecCapability[] = [
  { name: 'opus', clockRate: 48000, channels: 2, rtcpFb: DEFAULT_AUDIO_FEEDBACK },
];

/** VP8, VP9 profile 0, H.264 constrained baseline with packetization-mode 1, AV1 profile 0. */
export const DEFAULT_VIDEO_CODECS: readonly CodecCapability[] = [
  { name: 'VP8', clockRate: 90000, rtcpFb: DEFAULT_VIDEO_FEEDBACK, rtx: true },
  {
    name: 'VP9',
    clockRate: 90000,
    parameters: { 'profile-id': '0' },
    rtcpFb: DEFAULT_VIDEO_FEEDBACK,
    rtx: true,
  },
  {
    name: 'H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': '1', 'profile-level-id': '42e01f' },
    rtcpFb: DEFAULT_VIDEO_FEEDBACK,
    rtx: true,
  },
  {
    name: 'AV1',
    clockRate: 90000,
    parameters: { profile: '0' },
    rtcpFb: DEFAULT_VIDEO_FEEDBACK,
    rtx: true,
  },
];

/**
 * The H.264 profile a `profile-level-id` names (RFC 6184 §8.1, the profile_idc and
 * constraint flags; the level byte does not matter for matching). Absent means 420010.
 */
export function h264Profile(profileLevelId: string | undefined): string | undefined {
  const id = profileLevelId ?? '420010';
  if (!/^[0-9a-fA-F]{6}$/.test(id)) return undefined;
  const idc = Number.parseInt(id.slice(0, 2), 16);
  const iop = Number.parseInt(id.slice(2, 4), 16);
  switch (idc) {
    case 0x42:
      return iop & 0x40 ? 'constrained-baseline' : 'baseline';
    case 0x4d:
      return iop & 0x80 ? 'constrained-baseline' : 'main';
    case 0x58:
      return (iop & 0xc0) === 0xc0 ? 'constrained-baseline' : 'extended';
    case 0x64:
      return iop === 0x0c ? 'constrained-high' : 'high';
    default:
      return `idc-${idc}`;
  }
}

/** Whether an offered codec is the same format as a capability. */
export function codecMatches(codec: Codec, cap: CodecCapability): boolean {
  if (!sameName(codec.name, cap.name) || codec.clockRate !== cap.clockRate) return false;
  if ((codec.channels ?? 1) !== (cap.channels ?? 1)) return false;
  const name = cap.name.toLowerCase();
  const theirs = codec.parameters;
  const ours = cap.parameters;
  if (name === 'vp9') return (theirs.get('profile-id') ?? '0') === (ours?.['profile-id'] ?? '0');
  if (name === 'av1') return (theirs.get('profile') ?? '0') === (ours?.profile ?? '0');
  if (name === 'h264') {
    const mode = (m: string | undefined) => m ?? '0';
    if (mode(theirs.get('packetization-mode')) !== mode(ours?.['packetization-mode'])) return false;
    const profile = h264Profile(theirs.get('profile-level-id'));
    return profile !== undefined && profile === h264Profile(ours?.['profile-level-id']);
  }
  return true;
}

function sameFeedback(a: Feedback, b: Feedback): boolean {
  return a.type === b.type && a.parameter === b.parameter;
}

/**
 * The offered codecs we accept, in the offer's order (its preference) with the offer's payload
 * types and format parameters; feedback cut down to what the capability accepts; RTX kept
 * only where the capability asks for it.
 */
export function matchCodecs(
  offered: readonly Codec[],
  capabilities: readonly CodecCapability[],
): Codec[] {
  const out: Codec[] = [];
  for (const codec of offered) {
    const cap = capabilities.find((c) => codecMatches(codec, c));
    if (cap === undefined) continue;
    const accepted: Codec = {
      ...codec,
      parameters: new Map(codec.parameters),
      rtcpFb: codec.rtcpFb.filter((f) => (cap.rtcpFb ?? []).some((g) => sameFeedback(f, g))),
    };
    if (cap.rtx !== true) {
      delete accepted.rtxPayloadType;
      delete accepted.rtxTime;
    }
    out.push(accepted);
  }
  return out;
}

/** Whether two negotiated codecs are the same format (the rules of `codecMatches`). */
export function sameFormat(a: Codec, b: Codec): boolean {
  const cap: CodecCapability = {
    name: b.name,
    clockRate: b.clockRate,
    parameters: Object.fromEntries(b.parameters),
  };
  if (b.channels !== undefined) cap.channels = b.channels;
  return codecMatches(a, cap);
}

/**
 * Payload-type rewriting for forwarding from one leg to another (an SFU's publisher →
 * subscriber): each `from` payload type, and its RTX one, mapped to the first `to` codec of
 * the same format. Formats the other leg did not negotiate are absent from the map.
 */
export function payloadTypeMap(from: readonly Codec[], to: readonly Codec[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const c of from) {
    const target = to.find((d) => sameFormat(c, d));
    if (target === undefined) continue;
    map.set(c.payloadType, target.payloadType);
    if (c.rtxPayloadType !== undefined && target.rtxPayloadType !== undefined) {
      map.set(c.rtxPayloadType, target.rtxPayloadType);
    }
  }
  return map;
}

/** Header extension id rewriting between two legs: same URI → that leg's id (RFC 8285). */
export function extensionIdMap(
  from: readonly { id: number; uri: string }[],
  to: readonly { id: number; uri: string }[],
): Map<number, number> {
  const map = new Map<number, number>();
  for (const e of from) {
    const target = to.find((x) => x.uri === e.uri);
    if (target !== undefined) map.set(e.id, target.id);
  }
  return map;
}
