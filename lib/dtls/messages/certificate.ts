import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** Certificate (RFC 5246 §7.4.2): DER certificates, the sender's own first. */
export interface Certificate {
  certificates: Buffer[];
}

export function decodeCertificate(body: Buffer): Certificate | undefined {
  const r = new Reader(body);
  const list = r.sub(r.u24());
  if (!r.done) return undefined;
  const certificates: Buffer[] = [];
  while (list.ok && list.remaining > 0) certificates.push(list.vec24(1));
  return list.ok ? { certificates } : undefined;
}

export function encodeCertificate(m: Certificate): Buffer {
  const list = new Writer();
  for (const der of m.certificates) {
    if (der.length === 0) throw new TypeError('empty certificate');
    list.vec24(der);
  }
  return new Writer().vec24(list.toBuffer()).toBuffer();
}
