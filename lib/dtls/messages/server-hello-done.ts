/** ServerHelloDone (RFC 5246 §7.4.5): an empty body. */
export type ServerHelloDone = Record<string, never>;

export function decodeServerHelloDone(body: Buffer): ServerHelloDone | undefined {
  return body.length === 0 ? {} : undefined;
}

export function encodeServerHelloDone(): Buffer {
  return Buffer.alloc(0);
}
