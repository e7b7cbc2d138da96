import { Reader } from './reader.js';
import { Writer } from './writer.js';

/**
 * CertificateVerify (RFC 5246 §7.4.8): a digitally-signed struct over the handshake messages
 * so far (the transcript bytes, hashed by the signature scheme itself).
 */
export interface CertificateVerify {
  signatureScheme: number;
  signature: Buffer;
}

export function decodeCertificateVerify(body: Buffer): CertificateVerify | undefined {
  const r = new Reader(body);
  const signatureScheme = r.u16();
  const signature = r.vec16(1);
  return r.done ? { signatureScheme, signature } : undefined;
}

export function encodeCertificateVerify(m: CertificateVerify): Buffer {
  return new Writer().u16(m.signatureScheme).vec16(m.signature).toBuffer();
}
