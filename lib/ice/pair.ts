import {
  AttributeType,
  decodeXorAddress,
  type StunMessage,
  type TransportAddress,
} from '../stun/index.js';
import type { IceCandidate } from './candidate.js';

/** Candidate pairs and the address helpers the check list compares them with. */

export type Role = 'controlling' | 'controlled';
export type PairState = 'frozen' | 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/** A local candidate and the base it sends from (a host socket or a TURN allocation). */
export interface LocalCandidate extends IceCandidate {
  /** Identifies the socket/allocation packets of this candidate leave from. */
  base: string;
}

export interface CandidatePair {
  readonly id: string;
  readonly local: LocalCandidate;
  readonly remote: IceCandidate;
  readonly foundation: string;
  priority: bigint;
  state: PairState;
  /** In the valid list (RFC 8445 §7.2.5.3.2). */
  valid: boolean;
  nominated: boolean;
  /** Controlled: USE-CANDIDATE seen on a check of this pair before it succeeded (§7.3.1.5). */
  nominateOnSuccess: boolean;
  /** The valid pair a successful check of this pair produced (itself or one with srflx/prflx). */
  validPair?: CandidatePair;
}

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** Same transport address, IPv4-mapped IPv6 spellings (`::ffff:a.b.c.d`) folded. */
export function sameAddress(a: { address: string; port: number }, b: TransportAddress): boolean {
  return a.port === b.port && normalize(a.address) === normalize(b.address);
}

export function normalize(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

export function toAddress(c: { address: string; port: number }): TransportAddress {
  return { family: familyOf(c.address), address: c.address, port: c.port };
}

export function readMapped(m: StunMessage): TransportAddress | undefined {
  const a = m.get(AttributeType.XOR_MAPPED_ADDRESS);
  return a === undefined ? undefined : decodeXorAddress(m, a);
}

/** The PRIORITY a check carried (what a prflx local candidate gets, §7.2.5.3.1). */
export function priorityOf(request: Buffer): number {
  // Attributes start at 20; PRIORITY is the second attribute we write (after USERNAME).
  let offset = 20;
  while (offset + 4 <= request.length) {
    const type = request.readUInt16BE(offset);
    const length = request.readUInt16BE(offset + 2);
    if (type === AttributeType.PRIORITY && length === 4) return request.readUInt32BE(offset + 4);
    offset += 4 + ((length + 3) & ~3);
  }
  return 0;
}
