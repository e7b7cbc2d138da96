/**
 * RTP attributes of a media section: `a=rtpmap`, `a=fmtp` (RFC 8866 §6.6, §6.15),
 * `a=rtcp-fb` (RFC 4585 §4.2), `a=extmap` (RFC 8285 §5), `a=ssrc` and `a=ssrc-group`
 * (RFC 5576). Malformed lines are skipped, never thrown on.
 */
import { attributeValues } from './attributes.js';
import type { SdpLine } from './description.js';
import { decimal, payloadType, ssrcValue } from './numbers.js';

export interface Rtpmap {
  payloadType: number;
  /** Encoding name as written (`opus`, `VP8`, `H264`, `rtx`). Compare case-insensitively. */
  name: string;
  clockRate: number;
  /** Audio channels; absent means 1 (RFC 8866 §6.6). */
  channels?: number;
}

export function rtpmapsOf(lines: readonly SdpLine[]): Rtpmap[] {
  const out: Rtpmap[] = [];
  for (const v of attributeValues(lines, 'rtpmap')) {
    const [pt, encoding, extra] = v.split(' ');
    const [name, clock, channels, more] = (encoding ?? '').split('/');
    const r: Rtpmap = {
      payloadType: payloadType(pt) ?? -1,
      name: name ?? '',
      clockRate: decimal(clock, 1, 0xffffffff) ?? -1,
    };
    if (channels !== undefined) r.channels = decimal(channels, 1, 255) ?? -1;
    if (extra !== undefined || more !== undefined || r.name === '') continue;
    if (r.payloadType < 0 || r.clockRate < 0 || r.channels === -1) continue;
    out.push(r);
  }
  return out;
}

export function formatRtpmap(r: Rtpmap): string {
  const ch = r.channels === undefined ? '' : `/${r.channels}`;
  return `${r.payloadType} ${r.name}/${r.clockRate}${ch}`;
}

export interface Fmtp {
  payloadType: number;
  /** The format parameters exactly as written. */
  parameters: string;
}

export function fmtpsOf(lines: readonly SdpLine[]): Fmtp[] {
  const out: Fmtp[] = [];
  for (const v of attributeValues(lines, 'fmtp')) {
    const space = v.indexOf(' ');
    const pt = payloadType(space < 0 ? v : v.slice(0, space));
    if (pt !== undefined && space > 0)
      out.push({ payloadType: pt, parameters: v.slice(space + 1) });
  }
  return out;
}

/**
 * `key=value;key=value` as a map, keys lower-cased (they are case-insensitive, RFC 6184 §8.1);
 * whitespace around entries is dropped; a key without `=` maps to ''.
 */
export function parseFmtpParameters(parameters: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of parameters.split(';')) {
    const e = entry.trim();
    if (e === '') continue;
    const eq = e.indexOf('=');
    if (eq < 0) map.set(e.toLowerCase(), '');
    else map.set(e.slice(0, eq).trim().toLowerCase(), e.slice(eq + 1).trim());
  }
  return map;
}

export function formatFmtpParameters(params: ReadonlyMap<string, string>): string {
  return [...params].map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';');
}

export interface RtcpFeedback {
  /** `'*'` applies to every payload type of the section. */
  payloadType: number | '*';
  /** `nack`, `ccm`, `goog-remb`, `transport-cc`, … */
  type: string;
  /** `pli` for `nack pli`, `fir` for `ccm fir`. */
  parameter?: string;
}

export function rtcpFeedbackOf(lines: readonly SdpLine[]): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  for (const v of attributeValues(lines, 'rtcp-fb')) {
    const [pt, type, ...rest] = v.split(' ');
    const p = pt === '*' ? '*' : payloadType(pt);
    if (p === undefined || !type) continue;
    const fb: RtcpFeedback = { payloadType: p, type };
    if (rest.length > 0) fb.parameter = rest.join(' ');
    out.push(fb);
  }
  return out;
}

export function formatRtcpFeedback(fb: RtcpFeedback): string {
  const param = fb.parameter === undefined ? '' : ` ${fb.parameter}`;
  return `${fb.payloadType} ${fb.type}${param}`;
}

export type ExtmapDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface Extmap {
  /** 1–14 (one-byte headers) or 1–255 (two-byte, RFC 8285 §4.3); 15 is reserved. */
  id: number;
  direction?: ExtmapDirection;
  uri: string;
  /** Extension attributes after the URI, as written (`vad=on`). */
  attributes?: string;
}

const EXTMAP_DIRECTIONS: readonly ExtmapDirection[] = [
  'sendrecv',
  'sendonly',
  'recvonly',
  'inactive',
];

function isExtmapDirection(v: string): v is ExtmapDirection {
  return (EXTMAP_DIRECTIONS as readonly string[]).includes(v);
}

export function extmapsOf(lines: readonly SdpLine[]): Extmap[] {
  const out: Extmap[] = [];
  for (const v of attributeValues(lines, 'extmap')) {
    const [head = '', uri, ...rest] = v.split(' ');
    const [idText, direction, more] = head.split('/');
    const id = decimal(idText, 1, 255);
    if (id === undefined || id === 15 || !uri || more !== undefined) continue;
    const e: Extmap = { id, uri };
    if (direction !== undefined) {
      if (!isExtmapDirection(direction)) continue;
      e.direction = direction;
    }
    if (rest.length > 0) e.attributes = rest.join(' ');
    out.push(e);
  }
  return out;
}

export function formatExtmap(e: Extmap): string {
  const dir = e.direction === undefined ? '' : `/${e.direction}`;
  const attrs = e.attributes === undefined ? '' : ` ${e.attributes}`;
  return `${e.id}${dir} ${e.uri}${attrs}`;
}

export interface SsrcAttribute {
  ssrc: number;
  /** `cname`, `msid`, `label`, … */
  attribute: string;
  value?: string;
}

/** `a=ssrc:<ssrc> <attribute>[:<value>]` lines, in order. */
export function ssrcsOf(lines: readonly SdpLine[]): SsrcAttribute[] {
  const out: SsrcAttribute[] = [];
  for (const v of attributeValues(lines, 'ssrc')) {
    const space = v.indexOf(' ');
    const ssrc = ssrcValue(space < 0 ? undefined : v.slice(0, space));
    if (ssrc === undefined) continue;
    const rest = v.slice(space + 1);
    const colon = rest.indexOf(':');
    const attribute = colon < 0 ? rest : rest.slice(0, colon);
    if (attribute === '') continue;
    const a: SsrcAttribute = { ssrc, attribute };
    if (colon >= 0) a.value = rest.slice(colon + 1);
    out.push(a);
  }
  return out;
}

export function formatSsrc(a: SsrcAttribute): string {
  return a.value === undefined ? `${a.ssrc} ${a.attribute}` : `${a.ssrc} ${a.attribute}:${a.value}`;
}

export interface SsrcGroup {
  /** `FID` (RTX, RFC 4588), `SIM` (legacy simulcast), `FEC-FR`, … */
  semantics: string;
  ssrcs: number[];
}

export function ssrcGroupsOf(lines: readonly SdpLine[]): SsrcGroup[] {
  const out: SsrcGroup[] = [];
  for (const v of attributeValues(lines, 'ssrc-group')) {
    const [semantics, ...list] = v.split(' ');
    const ssrcs = list.map(ssrcValue);
    if (!semantics || ssrcs.length === 0 || ssrcs.some((s) => s === undefined)) continue;
    out.push({ semantics, ssrcs: ssrcs.filter((s): s is number => s !== undefined) });
  }
  return out;
}

export function formatSsrcGroup(g: SsrcGroup): string {
  return [g.semantics, ...g.ssrcs].join(' ');
}
