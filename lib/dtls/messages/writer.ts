/**
 * Encoders for the TLS presentation language. Handshake messages are small and built once
 * per flight, so clarity wins over avoiding a copy here. Values out of range are programming
 * errors and throw `TypeError` (never reached from network input).
 */
export class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  get length(): number {
    return this.size;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'uint8');
    return this.push(Buffer.of(v));
  }

  u16(v: number): this {
    checkUint(v, 0xffff, 'uint16');
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v, 0);
    return this.push(b);
  }

  u24(v: number): this {
    checkUint(v, 0xffffff, 'uint24');
    const b = Buffer.allocUnsafe(3);
    b.writeUIntBE(v, 0, 3);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /** Fixed-length opaque field (e.g. the 32-byte random). */
  fixed(b: Uint8Array, length: number, name: string): this {
    if (b.length !== length) throw new TypeError(`${name} must be ${length} bytes`);
    return this.bytes(b);
  }

  vec8(b: Uint8Array): this {
    return this.u8(checkLength(b.length, 0xff, 'vector<255>')).bytes(b);
  }

  vec16(b: Uint8Array): this {
    return this.u16(checkLength(b.length, 0xffff, 'vector<2^16-1>')).bytes(b);
  }

  vec24(b: Uint8Array): this {
    return this.u24(checkLength(b.length, 0xffffff, 'vector<2^24-1>')).bytes(b);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

function checkUint(v: number, max: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new TypeError(`${name} out of range: ${v}`);
}

function checkLength(n: number, max: number, name: string): number {
  if (n > max) throw new TypeError(`${name} too long: ${n} bytes`);
  return n;
}

export function uint16List(values: readonly number[]): Buffer {
  const w = new Writer();
  for (const v of values) w.u16(v);
  return w.toBuffer();
}

export function uint8List(values: readonly number[]): Buffer {
  const w = new Writer();
  for (const v of values) w.u8(v);
  return w.toBuffer();
}
