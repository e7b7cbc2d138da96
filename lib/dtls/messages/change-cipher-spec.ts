/** ChangeCipherSpec record payload (RFC 5246 §7.1): the single byte 1. */
export function isChangeCipherSpec(fragment: Buffer): boolean {
  return fragment.length === 1 && fragment[0] === 1;
}

export function encodeChangeCipherSpec(): Buffer {
  return Buffer.of(1);
}
