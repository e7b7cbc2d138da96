import { type Extension, readExtensionBlock, writeExtensionBlock } from '../extensions.js';
import { Reader, readUint8List, readUint16List } from './reader.js';
import { uint8List, uint16List, Writer } from './writer.js';

/** ClientHello (RFC 6347 §4.2.1: the TLS 1.2 one plus a cookie after the session id). */
export interface ClientHello {
  clientVersion: number;
  /** 32 bytes. */
  random: Buffer;
  /** 0..32 bytes. */
  sessionId: Buffer;
  /** 0..255 bytes (RFC 6347 §4.3.2 as updated: DTLS 1.2 cookies up to 255). */
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: number[];
  /** In wire order; unknown ones kept raw. */
  extensions: Extension[];
}

/** Undefined when malformed (decode_error). Views share memory with `body`. */
export function decodeClientHello(body: Buffer): ClientHello | undefined {
  const r = new Reader(body);
  const clientVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec8(0, 32);
  const cookie = r.vec8();
  const cipherSuites = readUint16List(r.vec16(2, 0xfffe));
  const compressionMethods = readUint8List(r.vec8(1));
  const extensions = readExtensionBlock(r);
  if (!r.ok || !cipherSuites || !extensions) return undefined;
  return {
    clientVersion,
    random,
    sessionId,
    cookie,
    cipherSuites,
    compressionMethods,
    extensions,
  };
}

export function encodeClientHello(m: ClientHello): Buffer {
  const w = new Writer()
    .u16(m.clientVersion)
    .fixed(m.random, 32, 'random')
    .vec8(checkMax(m.sessionId, 32, 'sessionId'))
    .vec8(m.cookie)
    .vec16(uint16List(m.cipherSuites))
    .vec8(uint8List(m.compressionMethods));
  writeExtensionBlock(w, m.extensions);
  return w.toBuffer();
}

/**
 * The ClientHello body with its cookie field left out (the bytes before it and after it),
 * straight from the received bytes: the input a stateless cookie is computed over
 * (RFC 6347 §4.2.1), identical in the first and the second ClientHello.
 */
export function clientHelloWithoutCookie(body: Buffer): Buffer | undefined {
  const r = new Reader(body);
  r.u16();
  r.bytes(32);
  r.vec8(0, 32);
  const cookieAt = r.offset;
  r.vec8();
  if (!r.ok) return undefined;
  return Buffer.concat([body.subarray(0, cookieAt), body.subarray(r.offset)]);
}

function checkMax(b: Buffer, max: number, name: string): Buffer {
  if (b.length > max) throw new TypeError(`${name} longer than ${max} bytes`);
  return b;
}
