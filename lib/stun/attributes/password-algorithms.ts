import type { PasswordAlgorithm } from '../constants.js';
import type { StunAttribute, StunMessage } from '../message.js';

/**
 * PASSWORD-ALGORITHMS (RFC 8489 §14.11): the server's list of algorithms, each
 * algorithm (16 bits), parameters length (16 bits), parameters padded to 4 bytes.
 * PASSWORD-ALGORITHM (§14.12): the one the client picked, same layout, exactly one entry.
 * MD5 and SHA-256 take no parameters.
 */

export interface PasswordAlgorithmEntry {
  algorithm: number;
  /** A view into the message buffer when decoded. */
  parameters: Uint8Array;
}

const NO_PARAMETERS = new Uint8Array(0);

/** `{ algorithm, parameters: empty }` for MD5 or SHA-256. */
export function passwordAlgorithm(algorithm: PasswordAlgorithm): PasswordAlgorithmEntry {
  return { algorithm, parameters: NO_PARAMETERS };
}

/** The value bytes of PASSWORD-ALGORITHMS (or, with one entry, PASSWORD-ALGORITHM). */
export function encodePasswordAlgorithms(entries: readonly PasswordAlgorithmEntry[]): Buffer {
  let length = 0;
  for (const e of entries) {
    if (!Number.isInteger(e.algorithm) || e.algorithm < 0 || e.algorithm > 0xffff) {
      throw new TypeError(`invalid password algorithm ${e.algorithm}`);
    }
    if (e.parameters.length > 0xffff) throw new TypeError('algorithm parameters too long');
    length += 4 + ((e.parameters.length + 3) & ~3);
  }
  const out = Buffer.alloc(length);
  let o = 0;
  for (const e of entries) {
    out.writeUInt16BE(e.algorithm, o);
    out.writeUInt16BE(e.parameters.length, o + 2);
    out.set(e.parameters, o + 4);
    o += 4 + ((e.parameters.length + 3) & ~3);
  }
  return out;
}

/** The value bytes of PASSWORD-ALGORITHM. */
export function encodePasswordAlgorithm(entry: PasswordAlgorithmEntry): Buffer {
  return encodePasswordAlgorithms([entry]);
}

function readEntries(
  buf: Buffer,
  start: number,
  end: number,
): PasswordAlgorithmEntry[] | undefined {
  const entries: PasswordAlgorithmEntry[] = [];
  let o = start;
  while (o < end) {
    if (end - o < 4) return undefined;
    const algorithm = buf.readUInt16BE(o);
    const n = buf.readUInt16BE(o + 2);
    // The last entry's padding may be cut off by the attribute length; its bytes may not.
    if (o + 4 + n > end) return undefined;
    entries.push({ algorithm, parameters: buf.subarray(o + 4, o + 4 + n) });
    o += 4 + ((n + 3) & ~3);
  }
  return entries;
}

/** Decodes PASSWORD-ALGORITHMS; undefined if empty or an entry overflows the value. */
export function decodePasswordAlgorithms(
  m: StunMessage,
  a: StunAttribute,
): PasswordAlgorithmEntry[] | undefined {
  const entries = readEntries(m.buffer, a.offset, a.offset + a.length);
  return entries === undefined || entries.length === 0 ? undefined : entries;
}

/** Decodes PASSWORD-ALGORITHM; undefined unless it holds exactly one well-formed entry. */
export function decodePasswordAlgorithm(
  m: StunMessage,
  a: StunAttribute,
): PasswordAlgorithmEntry | undefined {
  const entries = readEntries(m.buffer, a.offset, a.offset + a.length);
  return entries?.length === 1 ? entries[0] : undefined;
}
