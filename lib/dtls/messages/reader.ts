/**
 * A bounds-checked cursor over a received buffer, for the TLS presentation language
 * (RFC 5246 §4): fixed-width big-endian integers and vectors with 1-, 2- or 3-byte length
 * prefixes. It never throws: a read past the end sets `ok` to false and returns 0 or an empty
 * view, so a decoder reads everything and checks `ok` once. Views share memory with the input
 * buffer and stay valid while the caller leaves that buffer unchanged.
 */
export class Reader {
  private pos: number;
  private failed = false;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    private readonly end = buf.length,
  ) {
    this.pos = offset;
    if (end > buf.length || offset > end) this.failed = true;
  }

  /** True until a read ran past the end or a length was out of range. */
  get ok(): boolean {
    return !this.failed;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.failed ? 0 : this.end - this.pos;
  }

  /** True when every byte was consumed and nothing failed. */
  get done(): boolean {
    return !this.failed && this.pos === this.end;
  }

  fail(): void {
    this.failed = true;
  }

  private take(n: number): number {
    if (this.failed || n > this.end - this.pos) {
      this.failed = true;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at]!;
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }

  u24(): number {
    const at = this.take(3);
    return at < 0 ? 0 : this.buf.readUIntBE(at, 3);
  }

  u48(): number {
    const at = this.take(6);
    return at < 0 ? 0 : this.buf.readUIntBE(at, 6);
  }

  bytes(n: number): Buffer {
    const at = this.take(n);
    return at < 0 ? EMPTY : this.buf.subarray(at, at + n);
  }

  /** opaque x<min..max> with a 1-byte length. */
  vec8(min = 0, max = 255): Buffer {
    return this.vector(this.u8(), min, max);
  }

  /** opaque x<min..max> with a 2-byte length. */
  vec16(min = 0, max = 65535): Buffer {
    return this.vector(this.u16(), min, max);
  }

  /** opaque x<min..max> with a 3-byte length. */
  vec24(min = 0, max = 0xffffff): Buffer {
    return this.vector(this.u24(), min, max);
  }

  private vector(length: number, min: number, max: number): Buffer {
    if (this.failed) return EMPTY;
    if (length < min || length > max) {
      this.failed = true;
      return EMPTY;
    }
    return this.bytes(length);
  }

  /** A sub-reader over the next `n` bytes (consumed here). */
  sub(n: number): Reader {
    const at = this.take(n);
    if (at < 0) {
      const r = new Reader(EMPTY);
      r.fail();
      return r;
    }
    return new Reader(this.buf, at, at + n);
  }
}

export const EMPTY: Buffer = Buffer.alloc(0);

/** Reads a vector of uint16 values, e.g. cipher suites; undefined when its length is odd. */
export function readUint16List(v: Buffer): number[] | undefined {
  if (v.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 2) out.push(v.readUInt16BE(i));
  return out;
}

/** Reads a vector of uint8 values. */
export function readUint8List(v: Buffer): number[] {
  return Array.from(v);
}
