/**
 * Finished (RFC 5246 §7.4.9): verify_data, 12 bytes for every TLS 1.2 cipher suite here.
 * Decoding accepts any non-empty length; the handshake compares it with what it computed.
 */
export interface Finished {
  verifyData: Buffer;
}

export function decodeFinished(body: Buffer): Finished | undefined {
  return body.length > 0 ? { verifyData: body } : undefined;
}

export function encodeFinished(m: Finished): Buffer {
  if (m.verifyData.length === 0) throw new TypeError('empty verify_data');
  return Buffer.from(m.verifyData);
}
