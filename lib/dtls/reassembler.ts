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
  /**
   * One bit per body byte received. A bitmap rather than a list of ranges: a peer sending
   * thousands of 1-byte fragments with gaps would make range merging quadratic.
   */
  have: Uint8Array;
  /** Body bytes received so far. */
  received: number;
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
      p = {
        msgType: f.msgType,
        body: Buffer.alloc(f.length),
        have: new Uint8Array((f.length + 7) >>> 3),
        received: 0,
      };
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
  return p.received === p.body.length;
}

/** Copies the bytes not yet held (the first bytes received for an offset win). */
function insertRange(p: Pending, start: number, bytes: Buffer): void {
  const { body, have } = p;
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const at = start + i;
    const byte = at >>> 3;
    // Whole bitmap bytes at once when the fragment covers 8 aligned body bytes.
    if ((at & 7) === 0 && n - i >= 8) {
      const bits = have[byte]!;
      if (bits === 0) {
        bytes.copy(body, at, i, i + 8);
        have[byte] = 0xff;
        p.received += 8;
        i += 8;
        continue;
      }
      if (bits === 0xff) {
        i += 8;
        continue;
      }
    }
    const mask = 1 << (at & 7);
    if ((have[byte]! & mask) === 0) {
      have[byte]! |= mask;
      body[at] = bytes[i]!;
      p.received++;
    }
    i++;
  }
}

function positive(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer`);
  return v;
}
