import { HANDSHAKE_HEADER_LENGTH } from './constants.js';

/**
 * One handshake fragment (RFC 6347 §4.2.2). `body` is a view of `fragmentLength` bytes into
 * the record fragment it was read from.
 */
export interface HandshakeFragment {
  msgType: number;
  /** Length of the whole message body. */
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
  body: Buffer;
}

/** A complete, reassembled handshake message. */
export interface HandshakeMessage {
  msgType: number;
  messageSeq: number;
  body: Buffer;
}

/**
 * The handshake fragments in one plaintext record fragment. Undefined (decode_error) when a
 * header is truncated, a body runs past the record, or a fragment does not fit inside its
 * message (offset + fragment length > length). A record holds whole fragments only.
 */
export function readHandshakeFragments(recordFragment: Buffer): HandshakeFragment[] | undefined {
  const out: HandshakeFragment[] = [];
  let o = 0;
  while (o < recordFragment.length) {
    if (recordFragment.length - o < HANDSHAKE_HEADER_LENGTH) return undefined;
    const length = recordFragment.readUIntBE(o + 1, 3);
    const fragmentOffset = recordFragment.readUIntBE(o + 6, 3);
    const fragmentLength = recordFragment.readUIntBE(o + 9, 3);
    const start = o + HANDSHAKE_HEADER_LENGTH;
    if (start + fragmentLength > recordFragment.length) return undefined;
    if (fragmentOffset + fragmentLength > length) return undefined;
    out.push({
      msgType: recordFragment[o]!,
      length,
      messageSeq: recordFragment.readUInt16BE(o + 4),
      fragmentOffset,
      fragmentLength,
      body: recordFragment.subarray(start, start + fragmentLength),
    });
    o = start + fragmentLength;
  }
  return out;
}

/** Writes a 12-byte handshake header at `offset`. */
export function writeHandshakeHeader(
  out: Buffer,
  offset: number,
  h: Omit<HandshakeFragment, 'body'>,
): void {
  out[offset] = h.msgType;
  out.writeUIntBE(h.length, offset + 1, 3);
  out.writeUInt16BE(h.messageSeq, offset + 4);
  out.writeUIntBE(h.fragmentOffset, offset + 6, 3);
  out.writeUIntBE(h.fragmentLength, offset + 9, 3);
}

/**
 * The whole message with an unfragmented header (offset 0, fragment length = length): the
 * form sent when it fits, and the form hashed into the transcript (RFC 6347 §4.2.6).
 */
export function encodeHandshake(msgType: number, messageSeq: number, body: Buffer): Buffer {
  checkHeaderFields(msgType, messageSeq, body.length);
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH + body.length);
  writeHandshakeHeader(out, 0, {
    msgType,
    length: body.length,
    messageSeq,
    fragmentOffset: 0,
    fragmentLength: body.length,
  });
  body.copy(out, HANDSHAKE_HEADER_LENGTH);
  return out;
}

/** Encodes one fragment (header + body). */
export function encodeHandshakeFragment(f: HandshakeFragment): Buffer {
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH + f.body.length);
  writeHandshakeHeader(out, 0, { ...f, fragmentLength: f.body.length });
  f.body.copy(out, HANDSHAKE_HEADER_LENGTH);
  return out;
}

/**
 * Splits a message into fragments of at most `maxFragment` body bytes each (the caller
 * subtracts record header, handshake header and AEAD overhead from the MTU). Each element
 * is a 12-byte header followed by its piece; an empty body gives one fragment.
 */
export function fragmentHandshake(
  msgType: number,
  messageSeq: number,
  body: Buffer,
  maxFragment: number,
): Buffer[] {
  checkHeaderFields(msgType, messageSeq, body.length);
  if (!Number.isInteger(maxFragment) || maxFragment < 1) {
    throw new TypeError(`maxFragment must be a positive integer: ${maxFragment}`);
  }
  const out: Buffer[] = [];
  let offset = 0;
  do {
    const n = Math.min(maxFragment, body.length - offset);
    out.push(
      encodeHandshakeFragment({
        msgType,
        length: body.length,
        messageSeq,
        fragmentOffset: offset,
        fragmentLength: n,
        body: body.subarray(offset, offset + n),
      }),
    );
    offset += n;
  } while (offset < body.length);
  return out;
}

function checkHeaderFields(msgType: number, messageSeq: number, length: number): void {
  if (!Number.isInteger(msgType) || msgType < 0 || msgType > 255) {
    throw new TypeError(`handshake type out of range: ${msgType}`);
  }
  if (!Number.isInteger(messageSeq) || messageSeq < 0 || messageSeq > 0xffff) {
    throw new TypeError(`message_seq out of range: ${messageSeq}`);
  }
  if (length > 0xffffff) throw new TypeError(`handshake body too long: ${length}`);
}
