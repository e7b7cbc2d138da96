import { Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * HelloVerifyRequest (RFC 6347 §4.2.1). RFC 6347 says server_version SHOULD be DTLS 1.0
 * (0xfeff) whatever is negotiated later; OpenSSL sends that.
 */
export interface HelloVerifyRequest {
  serverVersion: number;
  /** 0..255 bytes. */
  cookie: Buffer;
}

export function decodeHelloVerifyRequest(body: Buffer): HelloVerifyRequest | undefined {
  const r = new Reader(body);
  const serverVersion = r.u16();
  const cookie = r.vec8();
  return r.done ? { serverVersion, cookie } : undefined;
}

export function encodeHelloVerifyRequest(m: HelloVerifyRequest): Buffer {
  return new Writer().u16(m.serverVersion).vec8(m.cookie).toBuffer();
}
