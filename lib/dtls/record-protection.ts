/**
 * AEAD record protection for DTLS 1.2: AES-GCM per RFC 5288 §3 and ChaCha20-Poly1305 per
 * RFC 7905 §2, with the DTLS additional data of RFC 6347 §4.1.2.1:
 *   epoch(2) ‖ sequence_number(6) ‖ type(1) ‖ version(2) ‖ length(2)   (13 bytes)
 * where length is the plaintext length.
 *
 * GCM nonce = fixed IV (4, from the key block) ‖ explicit nonce (8, sent in the record). We
 * send epoch ‖ sequence number as the explicit nonce: it is unique per key because the record
 * layer never reuses a sequence number within an epoch. ChaCha20-Poly1305 sends no explicit
 * nonce: nonce = fixed IV (12) XOR (0⁴ ‖ epoch ‖ sequence number).
 */
import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';
import type { CipherSuite } from './cipher-suites.js';

const AAD_LENGTH = 13;
const NONCE_LENGTH = 12;
const MAX_SEQUENCE = 2 ** 48 - 1;

export class RecordProtection {
  readonly suite: CipherSuite;
  /** Bytes a record fragment grows by when sealed (explicit nonce + tag). */
  readonly overhead: number;
  private readonly key: KeyObject;
  private readonly fixedIv: Buffer;
  private readonly chacha: boolean;
  private readonly gcm: CipherGCMTypes;
  /** Scratch buffers: node copies the nonce and consumes the AAD synchronously. */
  private readonly nonce = Buffer.alloc(NONCE_LENGTH);
  private readonly aad = Buffer.alloc(AAD_LENGTH);
  private readonly tag = Buffer.alloc(16);

  constructor(suite: CipherSuite, key: Buffer, fixedIv: Buffer) {
    if (key.length !== suite.keyLength) {
      throw new TypeError(`${suite.name} needs a ${suite.keyLength}-byte key, got ${key.length}`);
    }
    if (fixedIv.length !== suite.fixedIvLength) {
      throw new TypeError(
        `${suite.name} needs a ${suite.fixedIvLength}-byte fixed IV, got ${fixedIv.length}`,
      );
    }
    this.suite = suite;
    this.overhead = suite.explicitNonceLength + suite.tagLength;
    this.key = createSecretKey(Buffer.from(key));
    this.fixedIv = Buffer.from(fixedIv);
    this.chacha = suite.cipher === 'chacha20-poly1305';
    this.gcm = suite.cipher === 'aes-256-gcm' ? 'aes-256-gcm' : 'aes-128-gcm';
    if (!this.chacha) this.fixedIv.copy(this.nonce, 0);
  }

  /**
   * Encrypts one record's plaintext; returns the record fragment
   * (explicit nonce ‖ ciphertext ‖ tag). `seq` is the 48-bit record sequence number. The
   * result is a view into a 64 KiB slab shared with other records (cheaper than one
   * allocation each); it is never reused, so it stays valid for as long as it is referenced
   * (and keeps its slab alive: copy it to keep it for long).
   */
  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer {
    const out = slab(this.overhead + plaintext.length);
    this.sealInto(out, 0, type, version, epoch, seq, plaintext);
    return out;
  }

  /**
   * seal() into `out` at `offset` (e.g. just after a record header the caller writes):
   * needs `overhead + plaintext.length` bytes there; returns the bytes written. `plaintext`
   * must not overlap the output range.
   */
  sealInto(
    out: Buffer,
    offset: number,
    type: number,
    version: number,
    epoch: number,
    seq: number,
    plaintext: Buffer,
  ): number {
    checkSequence(epoch, seq);
    const total = this.overhead + plaintext.length;
    if (offset < 0 || offset + total > out.length) {
      throw new RangeError(`sealInto needs ${total} bytes at offset ${offset}`);
    }
    this.writeAad(type, version, epoch, seq, plaintext.length);
    const explicit = this.suite.explicitNonceLength;
    if (this.chacha) {
      this.writeChachaNonce(epoch, seq);
    } else {
      const nonce = this.nonce;
      writeSeqNum(nonce, 4, epoch, seq);
      for (let i = 0; i < 8; i++) out[offset + i] = nonce[4 + i]!;
    }
    const cipher = this.chacha
      ? createCipheriv('chacha20-poly1305', this.key, this.nonce, { authTagLength: 16 })
      : createCipheriv(this.gcm, this.key, this.nonce, { authTagLength: 16 });
    // plaintextLength: required by the ChaCha20-Poly1305 typing, ignored by both AEADs here.
    cipher.setAAD(this.aad, { plaintextLength: plaintext.length });
    let n = offset + explicit;
    const body = cipher.update(plaintext);
    out.set(body, n);
    n += body.length;
    const tail = cipher.final(); // empty for AEAD ciphers in practice
    if (tail.length > 0) {
      out.set(tail, n);
      n += tail.length;
    }
    const tag = cipher.getAuthTag();
    for (let i = 0; i < 16; i++) out[n + i] = tag[i]!;
    return total;
  }

  /**
   * Decrypts and authenticates one record fragment; undefined when it is too short or the
   * tag does not verify. Never throws on network input.
   */
  open(
    type: number,
    version: number,
    epoch: number,
    seq: number,
    fragment: Buffer,
  ): Buffer | undefined {
    const explicit = this.suite.explicitNonceLength;
    const tagLength = this.suite.tagLength;
    const length = fragment.length - explicit - tagLength;
    if (length < 0 || !validSequence(epoch, seq)) return undefined;
    this.writeAad(type, version, epoch, seq, length);
    const nonce = this.nonce;
    if (this.chacha) this.writeChachaNonce(epoch, seq);
    else for (let i = 0; i < 8; i++) nonce[4 + i] = fragment[i]!;
    // Byte loops instead of subarray()/copy(): each of those costs more than 16 stores here.
    const tag = this.tag;
    for (let i = 0, j = explicit + length; i < 16; i++, j++) tag[i] = fragment[j]!;
    try {
      const decipher = this.chacha
        ? createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: 16 })
        : createDecipheriv(this.gcm, this.key, nonce, { authTagLength: 16 });
      decipher.setAAD(this.aad, { plaintextLength: length });
      decipher.setAuthTag(tag);
      const body = decipher.update(fragment.subarray(explicit, explicit + length));
      const tail = decipher.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      return undefined;
    }
  }

  private writeAad(type: number, version: number, epoch: number, seq: number, length: number) {
    const a = this.aad;
    writeSeqNum(a, 0, epoch, seq);
    a[8] = type;
    a[9] = version >>> 8;
    a[10] = version & 0xff;
    a[11] = length >>> 8;
    a[12] = length & 0xff;
  }

  private writeChachaNonce(epoch: number, seq: number) {
    const n = this.nonce;
    const iv = this.fixedIv;
    writeSeqNum(n, 4, epoch, seq);
    for (let i = 0; i < 4; i++) n[i] = iv[i]!;
    for (let i = 4; i < NONCE_LENGTH; i++) n[i] = n[i]! ^ iv[i]!;
  }
}

/** epoch(2) ‖ sequence_number(6) big-endian at `offset`; both already range-checked. */
function writeSeqNum(b: Buffer, offset: number, epoch: number, seq: number): void {
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  b[offset] = epoch >>> 8;
  b[offset + 1] = epoch & 0xff;
  b[offset + 2] = hi >>> 8;
  b[offset + 3] = hi & 0xff;
  b[offset + 4] = lo >>> 24;
  b[offset + 5] = (lo >>> 16) & 0xff;
  b[offset + 6] = (lo >>> 8) & 0xff;
  b[offset + 7] = lo & 0xff;
}

const SLAB_SIZE = 64 * 1024;
let slabBuffer = Buffer.allocUnsafeSlow(0);
let slabOffset = 0;

/** `n` bytes carved from a shared slab (a fresh one when full); larger requests get their own. */
function slab(n: number): Buffer {
  if (n > SLAB_SIZE / 4) return Buffer.allocUnsafeSlow(n);
  if (slabOffset + n > slabBuffer.length) {
    slabBuffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabOffset = 0;
  }
  const b = slabBuffer.subarray(slabOffset, slabOffset + n);
  slabOffset += (n + 7) & ~7;
  return b;
}

function validSequence(epoch: number, seq: number): boolean {
  return (
    Number.isInteger(epoch) &&
    epoch >= 0 &&
    epoch <= 0xffff &&
    Number.isInteger(seq) &&
    seq >= 0 &&
    seq <= MAX_SEQUENCE
  );
}

function checkSequence(epoch: number, seq: number): void {
  if (!validSequence(epoch, seq)) {
    throw new RangeError(`epoch ${epoch} / sequence number ${seq} out of range`);
  }
}
