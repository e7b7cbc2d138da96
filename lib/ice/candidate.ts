/**
 * ICE candidates: the `candidate-attribute` grammar of RFC 8839 §5.1 both ways, and the
 * priority formulas of RFC 8445 §5.1.2.1 (candidates) and §6.1.2.3 (pairs).
 */

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface IceCandidate {
  /** 1–32 ice-chars; equal for candidates of one type, base and server (RFC 8445 §5.1.1.3). */
  foundation: string;
  /** 1 = RTP (the only component WebRTC uses with rtcp-mux), 2 = RTCP. */
  component: number;
  transport: 'udp' | 'tcp';
  /** 1..2^31-1 (RFC 8445 §5.1.2). */
  priority: number;
  /** An IP address, or a `.local` mDNS name from a browser. */
  address: string;
  port: number;
  type: CandidateType;
  relatedAddress?: string;
  relatedPort?: number;
  /** RFC 6544 ICE-TCP. */
  tcpType?: 'active' | 'passive' | 'so';
  generation?: number;
  ufrag?: string;
  networkId?: number;
  networkCost?: number;
  /** Unknown extension key/value pairs, kept in order so a round trip loses nothing. */
  extensions?: [string, string][];
}

/** Type preferences RFC 8445 §5.1.2.2 recommends. */
export const TYPE_PREFERENCE: Readonly<Record<CandidateType, number>> = {
  host: 126,
  prflx: 110,
  srflx: 100,
  relay: 0,
};

const TYPES: ReadonlySet<string> = new Set(['host', 'srflx', 'prflx', 'relay']);
const TCP_TYPES: ReadonlySet<string> = new Set(['active', 'passive', 'so']);
// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1)
const FOUNDATION = /^[A-Za-z0-9+/]{1,32}$/;
const TOKEN = /^[\x21-\x7e]+$/;
const DIGITS = /^[0-9]{1,10}$/;

/**
 * Priority of a candidate (RFC 8445 §5.1.2.1):
 * `2^24 × type preference + 2^8 × local preference + (256 − component)`.
 */
export function candidatePriority(
  type: CandidateType,
  localPreference: number,
  component: number,
): number {
  if (!Number.isInteger(localPreference) || localPreference < 0 || localPreference > 0xffff) {
    throw new TypeError(`localPreference must be 0..65535, got ${localPreference}`);
  }
  if (!Number.isInteger(component) || component < 1 || component > 256) {
    throw new TypeError(`component must be 1..256, got ${component}`);
  }
  return TYPE_PREFERENCE[type] * 2 ** 24 + localPreference * 2 ** 8 + (256 - component);
}

/**
 * Priority of a pair (RFC 8445 §6.1.2.3), from the controlling agent's candidate priority G
 * and the controlled agent's D: `2^32 × MIN(G,D) + 2 × MAX(G,D) + (G > D ? 1 : 0)`. Exceeds
 * 2^53, hence a bigint.
 */
export function pairPriority(controlling: number, controlled: number): bigint {
  const g = BigInt(controlling);
  const d = BigInt(controlled);
  const min = g < d ? g : d;
  const max = g < d ? d : g;
  return (min << 32n) + 2n * max + (g > d ? 1n : 0n);
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !DIGITS.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffff ? n : undefined;
}

function parseUint(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !DIGITS.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/**
 * Parses a candidate attribute: `candidate:…` or `a=candidate:…` (a trailing CR/LF is
 * ignored). Returns undefined when malformed; never throws, since the text comes from the
 * remote peer through signaling.
 */
export function parseCandidate(line: string): IceCandidate | undefined {
  if (typeof line !== 'string') return undefined;
  let text = line.trim();
  if (text.startsWith('a=')) text = text.slice(2);
  if (!text.startsWith('candidate:')) return undefined;
  const f = text.slice('candidate:'.length).split(/[ \t]+/);
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  const [foundation, componentText, transportText, priorityText, address, portText] = f;
  const component = parseUint(componentText, 256);
  const priority = parseUint(priorityText, 0xffffffff);
  const port = parsePort(portText);
  const transport = transportText?.toLowerCase();
  const type = f[7];
  if (
    foundation === undefined ||
    !FOUNDATION.test(foundation) ||
    component === undefined ||
    component < 1 ||
    priority === undefined ||
    port === undefined ||
    (transport !== 'udp' && transport !== 'tcp') ||
    address === undefined ||
    !TOKEN.test(address) ||
    type === undefined ||
    !TYPES.has(type)
  ) {
    return undefined;
  }
  const c: IceCandidate = {
    foundation,
    component,
    transport,
    priority,
    address,
    port,
    type: type as CandidateType,
  };
  return readExtensions(c, f.slice(8));
}

/** The key/value tail after `typ X`; undefined when a known key has a bad value. */
function readExtensions(c: IceCandidate, rest: string[]): IceCandidate | undefined {
  if (rest.length % 2 !== 0) return undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i]!;
    const value = rest[i + 1]!;
    switch (key) {
      case 'raddr':
        if (!TOKEN.test(value)) return undefined;
        c.relatedAddress = value;
        break;
      case 'rport': {
        const port = parsePort(value);
        if (port === undefined) return undefined;
        c.relatedPort = port;
        break;
      }
      case 'tcptype':
        if (!TCP_TYPES.has(value)) return undefined;
        c.tcpType = value as 'active' | 'passive' | 'so';
        break;
      case 'generation':
      case 'network-id':
      case 'network-cost': {
        const n = parseUint(value, 0xffffffff);
        if (n === undefined) return undefined;
        if (key === 'generation') c.generation = n;
        else if (key === 'network-id') c.networkId = n;
        else c.networkCost = n;
        break;
      }
      case 'ufrag':
        c.ufrag = value;
        break;
      default:
        c.extensions ??= [];
        c.extensions.push([key, value]);
    }
  }
  return c;
}

/** Formats `c` as `candidate:…` (no `a=` and no line end), the form trickle ICE carries. */
export function formatCandidate(c: IceCandidate): string {
  const parts = [
    `candidate:${c.foundation}`,
    String(c.component),
    c.transport,
    String(c.priority),
    c.address,
    String(c.port),
    'typ',
    c.type,
  ];
  if (c.relatedAddress !== undefined) parts.push('raddr', c.relatedAddress);
  if (c.relatedPort !== undefined) parts.push('rport', String(c.relatedPort));
  if (c.tcpType !== undefined) parts.push('tcptype', c.tcpType);
  if (c.generation !== undefined) parts.push('generation', String(c.generation));
  if (c.ufrag !== undefined) parts.push('ufrag', c.ufrag);
  if (c.networkId !== undefined) parts.push('network-id', String(c.networkId));
  if (c.networkCost !== undefined) parts.push('network-cost', String(c.networkCost));
  for (const [k, v] of c.extensions ?? []) parts.push(k, v);
  return parts.join(' ');
}

/** True for a browser's mDNS-obfuscated host address (`<uuid>.local`). */
export function isMdnsName(address: string): boolean {
  return address.toLowerCase().endsWith('.local');
}
