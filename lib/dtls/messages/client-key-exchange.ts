import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** ClientKeyExchange for ECDHE (RFC 8422 §5.7): the client's ephemeral ECPoint. */
export interface ClientKeyExchange {
  publicKey: Buffer;
}

export function decodeClientKeyExchange(body: Buffer): ClientKeyExchange | undefined {
  const r = new Reader(body);
  const publicKey = r.vec8(1);
  return r.done ? { publicKey } : undefined;
}

export function encodeClientKeyExchange(m: ClientKeyExchange): Buffer {
  if (m.publicKey.length === 0) throw new TypeError('empty public key');
  return new Writer().vec8(m.publicKey).toBuffer();
}
