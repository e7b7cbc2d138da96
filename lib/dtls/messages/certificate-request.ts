import { Reader, readUint8List, readUint16List } from './reader.js';
import { uint8List, uint16List, Writer } from './writer.js';

/** CertificateRequest (RFC 5246 §7.4.4). */
export interface CertificateRequest {
  /** ClientCertificateType values (64 ecdsa_sign, 1 rsa_sign). */
  certificateTypes: number[];
  /** SignatureScheme values the server accepts. */
  signatureSchemes: number[];
  /** DER DistinguishedNames; WebRTC sends none. */
  authorities: Buffer[];
}

export function decodeCertificateRequest(body: Buffer): CertificateRequest | undefined {
  const r = new Reader(body);
  const certificateTypes = readUint8List(r.vec8(1));
  const signatureSchemes = readUint16List(r.vec16(2, 0xfffe));
  const names = r.sub(r.u16());
  if (!r.done || !signatureSchemes) return undefined;
  const authorities: Buffer[] = [];
  while (names.ok && names.remaining > 0) authorities.push(names.vec16(1));
  return names.ok ? { certificateTypes, signatureSchemes, authorities } : undefined;
}

export function encodeCertificateRequest(m: CertificateRequest): Buffer {
  const names = new Writer();
  for (const dn of m.authorities) names.vec16(dn);
  return new Writer()
    .vec8(uint8List(m.certificateTypes))
    .vec16(uint16List(m.signatureSchemes))
    .vec16(names.toBuffer())
    .toBuffer();
}
