/**
 * The cipher-and-tag half of SRTP, below the per-SSRC state: given the packet index it
 * protects or authenticates-then-decrypts one packet. Implementations hold the session keys
 * (as node:crypto KeyObjects, imported once) and reuse scratch buffers, so a transform is not
 * reentrant; one session owns one.
 *
 * Unprotect methods return the plaintext length, or -1 when authentication fails, in which
 * case `out` is left as it was.
 */
export interface SrtpTransform {
  /** Bytes protectRtp appends (the tag). */
  readonly rtpOverhead: number;
  /** Bytes protectRtcp appends (E flag and index word, and the tag). */
  readonly rtcpOverhead: number;
  /** Where the E flag and SRTCP index word starts, counted back from the packet's end. */
  readonly rtcpIndexFromEnd: number;
  protectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number;
  unprotectRtp(
    packet: Uint8Array,
    headerLength: number,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number;
  protectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    out: Uint8Array,
  ): number;
  /** `length` is the whole SRTCP packet; the E flag and index are read from its trailer. */
  unprotectRtcp(
    packet: Uint8Array,
    length: number,
    ssrc: number,
    index: number,
    encrypted: boolean,
    out: Uint8Array,
  ): number;
  /** Frees what the keys hold outside the JS heap (GHASH tables in WebAssembly); idempotent. */
  close(): void;
}

/** Big-endian 32-bit read, as an unsigned number. */
export function readUint32(b: Uint8Array, offset: number): number {
  return (
    (((b[offset] ?? 0) << 24) |
      ((b[offset + 1] ?? 0) << 16) |
      ((b[offset + 2] ?? 0) << 8) |
      (b[offset + 3] ?? 0)) >>>
    0
  );
}

export function writeUint32(b: Uint8Array, offset: number, v: number): void {
  b[offset] = v >>> 24;
  b[offset + 1] = v >>> 16;
  b[offset + 2] = v >>> 8;
  b[offset + 3] = v;
}

/** XORs the big-endian 32-bit `v` into `b` at `offset`. */
export function xorUint32(b: Uint8Array, offset: number, v: number): void {
  b[offset] = (b[offset] ?? 0) ^ (v >>> 24);
  b[offset + 1] = (b[offset + 1] ?? 0) ^ ((v >>> 16) & 0xff);
  b[offset + 2] = (b[offset + 2] ?? 0) ^ ((v >>> 8) & 0xff);
  b[offset + 3] = (b[offset + 3] ?? 0) ^ (v & 0xff);
}
