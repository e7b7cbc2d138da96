/**
 * HelloRequest (RFC 5246 §7.4.1.1): an empty body asking for renegotiation, which WebRTC
 * peers refuse (no_renegotiation warning).
 */
export type HelloRequest = Record<string, never>;

export function decodeHelloRequest(body: Buffer): HelloRequest | undefined {
  return body.length === 0 ? {} : undefined;
}

export function encodeHelloRequest(): Buffer {
  return Buffer.alloc(0);
}
