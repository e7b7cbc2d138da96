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
   * allocation each); it is never reused, so it stays valid for as long as it is referenced.
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
      this.nonce.writeUInt16BE(epoch, 4);
      this.nonce.writeUIntBE(seq, 6, 6);
      this.nonce.copy(out, offset, 4, NONCE_LENGTH);
    }
    const cipher = this.chacha
      ? createCipheriv('chacha20-poly1305', this.key, this.nonce, { authTagLength: 16 })
      : createCipheriv(this.gcm, this.key, this.nonce, { authTagLength: 16 });
    cipher.setAAD(this.aad);
    let n = offset + explicit;
    n += cipher.update(plaintext).copy(out, n);
    n += cipher.final().copy(out, n);
    cipher.getAuthTag().copy(out, n);
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
    if (this.chacha) this.writeChachaNonce(epoch, seq);
    else fragment.copy(this.nonce, 4, 0, explicit);
    try {
      const decipher = this.chacha
        ? createDecipheriv('chacha20-poly1305', this.key, this.nonce, { authTagLength: 16 })
        : createDecipheriv(this.gcm, this.key, this.nonce, { authTagLength: 16 });
      decipher.setAAD(this.aad);
      decipher.setAuthTag(fragment.subarray(explicit + length));
      const body = decipher.update(fragment.subarray(explicit, explicit + length));
      const tail = decipher.final();
      return tail.length === 0 ? body : Buffer.concat([body, tail]);
    } catch {
      return undefined;
    }
  }

  private writeAad(type: number, version: number, epoch: number, seq: number, length: number) {
    const a = this.aad;
    a.writeUInt16BE(epoch, 0);
    a.writeUIntBE(seq, 2, 6);
    a[8] = type;
    a.writeUInt16BE(version, 9);
    a.writeUInt16BE(length, 11);
  }

  private writeChachaNonce(epoch: number, seq: number) {
    const n = this.nonce;
    const iv = this.fixedIv;
    n.writeUInt16BE(epoch, 4);
    n.writeUIntBE(seq, 6, 6);
    for (let i = 0; i < 4; i++) n[i] = iv[i]!;
    for (let i = 4; i < NONCE_LENGTH; i++) n[i] = n[i]! ^ iv[i]!;
  }
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
