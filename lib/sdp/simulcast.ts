/**
 * RTP stream identifiers (`a=rid`, RFC 8851 §10) and simulcast (`a=simulcast`, RFC 8853 §5.1).
 * Malformed values read as absent.
 */
import { attributeValue, attributeValues } from './attributes.js';
import type { SdpLine } from './description.js';
import { payloadType } from './numbers.js';

// rid-syntax = 1*(alpha-numeric / "-" / "_") (RFC 8851 §10).
const RID = /^[A-Za-z0-9_-]+$/;

export type RidDirection = 'send' | 'recv';

export interface Rid {
  id: string;
  direction: RidDirection;
  /** `pt=` restriction: the payload types this stream may use. */
  payloadTypes?: number[];
  /** Other restrictions in order (`max-width` → `'320'`); keys as written. */
  restrictions: [string, string][];
}

/**
 * The rid restrictions of RFC 8851 §5 that an answer keeps (others are removed: an answerer
 * keeps only what it understands). `depend` (layered coding across rids) is not among them:
 * simulcast streams here are independent.
 */
export const KNOWN_RID_RESTRICTIONS: ReadonlySet<string> = new Set([
  'max-width',
  'max-height',
  'max-fps',
  'max-fs',
  'max-br',
  'max-pps',
  'max-bpp',
]);

/** A numeric restriction of `rid` (`max-width` → 320), or undefined if absent or malformed. */
export function ridRestriction(rid: Rid, key: string): number | undefined {
  const v = rid.restrictions.find(([k]) => k === key)?.[1];
  if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) return undefined;
  return Number(v);
}

export function isRidId(id: string): boolean {
  return RID.test(id) && id.length <= 255;
}

export function ridsOf(lines: readonly SdpLine[]): Rid[] {
  const out: Rid[] = [];
  for (const v of attributeValues(lines, 'rid')) {
    const r = parseRid(v);
    if (r !== undefined) out.push(r);
  }
  return out;
}

function parseRid(v: string): Rid | undefined {
  const [id = '', direction, params, extra] = v.split(' ');
  if (!isRidId(id) || (direction !== 'send' && direction !== 'recv')) return undefined;
  if (extra !== undefined) return undefined;
  const rid: Rid = { id, direction, restrictions: [] };
  for (const p of params === undefined ? [] : params.split(';')) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    if (key === '') return undefined;
    if (key === 'pt') {
      const pts = value.split(',').map(payloadType);
      if (pts.some((x) => x === undefined)) return undefined;
      rid.payloadTypes = pts.filter((x): x is number => x !== undefined);
    } else rid.restrictions.push([key, value]);
  }
  return rid;
}

export function formatRid(r: Rid): string {
  const params: string[] = [];
  if (r.payloadTypes !== undefined) params.push(`pt=${r.payloadTypes.join(',')}`);
  for (const [k, v] of r.restrictions) params.push(v === '' ? k : `${k}=${v}`);
  return params.length === 0
    ? `${r.id} ${r.direction}`
    : `${r.id} ${r.direction} ${params.join(';')}`;
}

export interface SimulcastRid {
  rid: string;
  /** `~` prefix: offered but paused (RFC 8853 §5.1). */
  paused: boolean;
}

/** One simulcast stream: its alternative rids, in preference order. */
export type SimulcastStream = SimulcastRid[];

export interface Simulcast {
  send?: SimulcastStream[];
  recv?: SimulcastStream[];
}

/** `a=simulcast:` of a section, or undefined when absent or malformed. */
export function simulcastOf(lines: readonly SdpLine[]): Simulcast | undefined {
  const v = attributeValue(lines, 'simulcast');
  return v === undefined ? undefined : parseSimulcast(v);
}

export function parseSimulcast(v: string): Simulcast | undefined {
  const f = v.split(' ');
  if (f.length !== 2 && f.length !== 4) return undefined;
  const out: Simulcast = {};
  for (let i = 0; i < f.length; i += 2) {
    const dir = f[i];
    const list = parseStreams(f[i + 1]!);
    if ((dir !== 'send' && dir !== 'recv') || list === undefined || out[dir] !== undefined) {
      return undefined;
    }
    out[dir] = list;
  }
  return out;
}

function parseStreams(text: string): SimulcastStream[] | undefined {
  const streams: SimulcastStream[] = [];
  for (const s of text.split(';')) {
    const alts: SimulcastStream = [];
    for (const a of s.split(',')) {
      const paused = a.startsWith('~');
      const rid = paused ? a.slice(1) : a;
      if (!isRidId(rid)) return undefined;
      alts.push({ rid, paused });
    }
    streams.push(alts);
  }
  return streams;
}

export function formatSimulcast(s: Simulcast): string {
  const list = (streams: SimulcastStream[]): string =>
    streams.map((alts) => alts.map((a) => (a.paused ? `~${a.rid}` : a.rid)).join(',')).join(';');
  const parts: string[] = [];
  if (s.send !== undefined) parts.push(`send ${list(s.send)}`);
  if (s.recv !== undefined) parts.push(`recv ${list(s.recv)}`);
  return parts.join(' ');
}
