import type { HandshakeFragment, HandshakeMessage } from './handshake.js';

/** Limits of a `HandshakeReassembler`; every one is finite so a peer cannot grow memory. */
export interface ReassemblerOptions {
  /** Largest message body accepted, in bytes. Default 65536 (a certificate chain fits). */
  maxMessageLength?: number;
  /** How many messages beyond `nextSeq` may be buffered. Default 8 (a whole flight). */
  maxFutureMessages?: number;
  /** Bytes of message bodies buffered at once across all messages. Default 262144. */
  maxBufferedBytes?: number;
  /** The first message_seq expected. Default 0. */
  nextSeq?: number;
}

/**
 * What `add` did with a fragment:
 * - `new`: accepted for the current or a future message (may repeat bytes already held);
 * - `old`: message_seq below `nextSeq`, a retransmission: the peer probably lost our last
 *   flight, so the handshake layer may retransmit it (RFC 6347 §4.2.4);
 * - `invalid`: inconsistent with what is held for that message_seq (other type or length),
 *   or longer than `maxMessageLength`;
 * - `dropped`: too far ahead, or the buffer budget is spent; the peer will retransmit.
 */
export type ReassemblyResult = 'new' | 'old' | 'invalid' | 'dropped';

interface Pending {
  msgType: number;
  body: Buffer;
  /** Received byte ranges [start, end), sorted and merged. */
  ranges: number[];
}

/**
 * Reassembles handshake messages from fragments that may arrive out of order, duplicated or
 * overlapping (RFC 6347 §4.2.3), and hands them out in message_seq order. Bytes are copied
 * into a buffer per message, so fragments need not outlive `add`. When overlapping fragments
 * disagree, the first bytes received win (the transcript hash catches a tampered message).
 */
export class HandshakeReassembler {
  private readonly maxMessageLength: number;
  private readonly maxFutureMessages: number;
  private readonly maxBufferedBytes: number;
  private readonly pending = new Map<number, Pending>();
  private buffered = 0;
  private seq: number;

  constructor(opts: ReassemblerOptions = {}) {
    this.maxMessageLength = positive(opts.maxMessageLength ?? 65536, 'maxMessageLength');
    this.maxFutureMessages = positive(opts.maxFutureMessages ?? 8, 'maxFutureMessages');
    this.maxBufferedBytes = positive(opts.maxBufferedBytes ?? 262144, 'maxBufferedBytes');
    this.seq = opts.nextSeq ?? 0;
    if (!Number.isInteger(this.seq) || this.seq < 0 || this.seq > 0xffff) {
      throw new TypeError('nextSeq must be an integer in 0..65535');
    }
  }

  /** The message_seq of the next message `next()` will return. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Skips ahead (e.g. a server that starts after a stateless cookie exchange). */
  set nextSeq(seq: number) {
    if (!Number.isInteger(seq) || seq < this.seq || seq > 0x10000) {
      throw new TypeError('nextSeq can only move forward');
    }
    this.seq = seq;
    for (const [s, p] of this.pending) {
      if (s < seq) this.drop(s, p);
    }
  }

  /** Bytes currently held for incomplete or unread messages. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  add(f: HandshakeFragment): ReassemblyResult {
    if (
      f.fragmentOffset + f.fragmentLength > f.length ||
      f.body.length !== f.fragmentLength ||
      f.length > this.maxMessageLength
    ) {
      return 'invalid';
    }
    if (f.messageSeq < this.seq) return 'old';
    if (f.messageSeq >= this.seq + this.maxFutureMessages) return 'dropped';
    let p = this.pending.get(f.messageSeq);
    if (p) {
      if (p.msgType !== f.msgType || p.body.length !== f.length) return 'invalid';
    } else {
      if (this.buffered + f.length > this.maxBufferedBytes) return 'dropped';
      p = { msgType: f.msgType, body: Buffer.alloc(f.length), ranges: [] };
      this.pending.set(f.messageSeq, p);
      this.buffered += f.length;
    }
    insertRange(p, f.fragmentOffset, f.body);
    return 'new';
  }

  /** The next complete message in message_seq order, or undefined while it is incomplete. */
  next(): HandshakeMessage | undefined {
    const p = this.pending.get(this.seq);
    if (!p || !isComplete(p)) return undefined;
    const messageSeq = this.seq;
    this.drop(messageSeq, p);
    this.seq++;
    return { msgType: p.msgType, messageSeq, body: p.body };
  }

  /** True when the message at `nextSeq` is complete. */
  hasNext(): boolean {
    const p = this.pending.get(this.seq);
    return p !== undefined && isComplete(p);
  }

  private drop(seq: number, p: Pending): void {
    this.pending.delete(seq);
    this.buffered -= p.body.length;
  }
}

function isComplete(p: Pending): boolean {
  if (p.body.length === 0) return true;
  return p.ranges.length === 2 && p.ranges[0] === 0 && p.ranges[1] === p.body.length;
}

/** Copies the bytes not yet held and merges [start, end) into the sorted range list. */
function insertRange(p: Pending, start: number, bytes: Buffer): void {
  const end = start + bytes.length;
  if (end === start) return;
  const r = p.ranges;
  // Copy only into the gaps so the first bytes received for any offset are kept.
  let cursor = start;
  for (let i = 0; i < r.length && cursor < end; i += 2) {
    const a = r[i]!;
    const b = r[i + 1]!;
    if (b <= cursor) continue;
    if (a >= end) break;
    if (a > cursor) bytes.copy(p.body, cursor, cursor - start, a - start);
    cursor = Math.max(cursor, b);
  }
  if (cursor < end) bytes.copy(p.body, cursor, cursor - start, end - start);
  // Merge.
  const merged: number[] = [];
  let ns = start;
  let ne = end;
  let placed = false;
  for (let i = 0; i < r.length; i += 2) {
    const a = r[i]!;
    const b = r[i + 1]!;
    if (b < ns) {
      merged.push(a, b);
    } else if (a > ne) {
      if (!placed) {
        merged.push(ns, ne);
        placed = true;
      }
      merged.push(a, b);
    } else {
      ns = Math.min(ns, a);
      ne = Math.max(ne, b);
    }
  }
  if (!placed) merged.push(ns, ne);
  p.ranges = merged;
}

function positive(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer`);
  return v;
}
