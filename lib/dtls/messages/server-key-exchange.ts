import { EcCurveType } from '../constants.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * ServerKeyExchange for ECDHE (RFC 8422 §5.4) with a TLS 1.2 digitally-signed struct
 * (RFC 5246 §4.7): ServerECDHParams then SignatureAndHashAlgorithm and the signature.
 */
export interface ServerKeyExchange {
  /** Always 3 (named_curve); other curve types fail to decode. */
  curveType: number;
  namedGroup: number;
  /** The ECPoint: 32 bytes for X25519, an uncompressed point for the NIST curves. */
  publicKey: Buffer;
  signatureScheme: number;
  signature: Buffer;
}

export function decodeServerKeyExchange(body: Buffer): ServerKeyExchange | undefined {
  const r = new Reader(body);
  const curveType = r.u8();
  if (curveType !== EcCurveType.namedCurve) return undefined;
  const namedGroup = r.u16();
  const publicKey = r.vec8(1);
  const signatureScheme = r.u16();
  const signature = r.vec16(1);
  return r.done ? { curveType, namedGroup, publicKey, signatureScheme, signature } : undefined;
}

export function encodeServerKeyExchange(m: ServerKeyExchange): Buffer {
  return Buffer.concat([
    ecdheParams(m),
    new Writer().u16(m.signatureScheme).vec16(m.signature).toBuffer(),
  ]);
}

/**
 * The ServerECDHParams bytes: what is signed after client_random ‖ server_random
 * (RFC 8422 §5.4).
 */
export function ecdheParams(m: Pick<ServerKeyExchange, 'namedGroup' | 'publicKey'>): Buffer {
  return new Writer().u8(EcCurveType.namedCurve).u16(m.namedGroup).vec8(m.publicKey).toBuffer();
}

/** client_random ‖ server_random ‖ ServerECDHParams: the exact input of the signature. */
export function serverKeyExchangeSignedData(
  clientRandom: Buffer,
  serverRandom: Buffer,
  m: Pick<ServerKeyExchange, 'namedGroup' | 'publicKey'>,
): Buffer {
  return Buffer.concat([clientRandom, serverRandom, ecdheParams(m)]);
}
