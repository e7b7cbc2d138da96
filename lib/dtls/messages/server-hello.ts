import { type Extension, readExtensionBlock, writeExtensionBlock } from '../extensions.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** ServerHello (RFC 5246 §7.4.1.3). */
export interface ServerHello {
  serverVersion: number;
  /** 32 bytes. */
  random: Buffer;
  /** 0..32 bytes. */
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[];
}

export function decodeServerHello(body: Buffer): ServerHello | undefined {
  const r = new Reader(body);
  const serverVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec8(0, 32);
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  const extensions = readExtensionBlock(r);
  if (!r.ok || !extensions) return undefined;
  return { serverVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeServerHello(m: ServerHello): Buffer {
  if (m.sessionId.length > 32) throw new TypeError('sessionId longer than 32 bytes');
  const w = new Writer()
    .u16(m.serverVersion)
    .fixed(m.random, 32, 'random')
    .vec8(m.sessionId)
    .u16(m.cipherSuite)
    .u8(m.compressionMethod);
  writeExtensionBlock(w, m.extensions);
  return w.toBuffer();
}
