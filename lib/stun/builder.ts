import { createHmac } from 'node:crypto';
import { addressValueLength, writeAddressValue } from './attributes/address.js';
import { errorCodeValueLength, writeErrorCodeValue } from './attributes/error-code.js';
import {
  AttributeType,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  reasonPhrase,
  StunClass,
  TRANSACTION_ID_LENGTH,
} from './constants.js';
import { fingerprintValue } from './fingerprint.js';
import { MESSAGE_INTEGRITY_SHA256_MIN_LENGTH } from './integrity.js';
import { messageType, type StunMessage } from './message.js';
import { isTransportAddress, type TransportAddress } from './transport-address.js';

const INITIAL_CAPACITY = 256;
const MAX_MESSAGE_LENGTH = 0xffff; // the 16-bit length field

/**
 * Builds one STUN message into a growing buffer. Attributes are written in call order,
 * each padded to 4 bytes. MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are
 * computed over everything added before them with the header length already covering
 * themselves (RFC 8489 §14.5-14.7), so add them last, in that order. After `addFingerprint`
 * or `toBuffer` the builder is finished and further `add*` calls throw.
 *
 * Misuse (bad class, method, transaction ID, attribute type, address, error code, a message
 * over 64 KiB) throws TypeError.
 */
export class StunMessageBuilder {
  private buf: Buffer;
  private end = HEADER_LENGTH;
  private finished = false;

  constructor(messageClass: StunClass, method: number, transactionId: Uint8Array) {
    if (
      messageClass !== StunClass.request &&
      messageClass !== StunClass.indication &&
      messageClass !== StunClass.success &&
      messageClass !== StunClass.error
    ) {
      throw new TypeError(`invalid STUN class ${String(messageClass)}`);
    }
    if (!Number.isInteger(method) || method < 0 || method > 0xfff) {
      throw new TypeError(`invalid STUN method ${method}`);
    }
    if (transactionId.length !== TRANSACTION_ID_LENGTH) {
      throw new TypeError('a transaction ID is 12 bytes');
    }
    this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    this.buf.writeUInt16BE(messageType(messageClass, method), 0);
    this.buf.writeUInt16BE(0, 2);
    this.buf.writeUInt32BE(MAGIC_COOKIE, 4);
    this.buf.set(transactionId, 8);
  }

  /** A builder for the response of class `cls` to `request` (same method and transaction). */
  static responseTo(request: StunMessage, cls: StunClass): StunMessageBuilder {
    return new StunMessageBuilder(cls, request.method, request.transactionId);
  }

  /** Bytes written so far, header included. */
  get length(): number {
    return this.end;
  }

  /**
   * Appends an attribute with raw value bytes. `padding` is the value of the pad bytes:
   * RFC 8489 §14 lets senders choose and receivers ignore it; it exists so the RFC 5769
   * vectors, which pad with spaces, can be rebuilt byte for byte. Default 0.
   */
  add(type: number, value: Uint8Array, padding = 0): this {
    const offset = this.begin(type, value.length);
    this.buf.set(value, offset);
    this.buf.fill(padding, offset + value.length, this.end);
    return this;
  }

  /** Appends a UTF-8 string attribute (USERNAME, REALM, NONCE, SOFTWARE, …). */
  addString(type: number, value: string, padding = 0): this {
    const length = Buffer.byteLength(value, 'utf8');
    const offset = this.begin(type, length);
    this.buf.write(value, offset, 'utf8');
    this.buf.fill(padding, offset + length, this.end);
    return this;
  }

  /** Appends a 32-bit unsigned attribute (LIFETIME, PRIORITY, …). */
  addUint32(type: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new TypeError(`invalid uint32 ${value}`);
    }
    const offset = this.begin(type, 4);
    this.buf.writeUInt32BE(value, offset);
    return this;
  }

  /** Appends MAPPED-ADDRESS-style value (MAPPED-ADDRESS, ALTERNATE-SERVER). */
  addAddress(type: number, a: TransportAddress): this {
    checkAddress(a);
    const offset = this.begin(type, addressValueLength(a.family === 6 ? 6 : 4));
    writeAddressValue(this.buf, offset, a);
    return this;
  }

  /** Appends an XOR-*-ADDRESS value, XORed with this message's cookie and transaction ID. */
  addXorAddress(type: number, a: TransportAddress): this {
    checkAddress(a);
    const offset = this.begin(type, addressValueLength(a.family === 6 ? 6 : 4));
    writeAddressValue(this.buf, offset, a, this.buf.subarray(4, HEADER_LENGTH));
    return this;
  }

  /** Appends ERROR-CODE; `reason` defaults to the RFC's phrase for `code`. */
  addErrorCode(code: number, reason = reasonPhrase(code)): this {
    const offset = this.begin(AttributeType.ERROR_CODE, errorCodeValueLength(code, reason));
    writeErrorCodeValue(this.buf, offset, code, reason);
    this.zeroPad(offset + 4 + Buffer.byteLength(reason, 'utf8'));
    return this;
  }

  /** Appends UNKNOWN-ATTRIBUTES listing `types` (RFC 8489 §14.9). */
  addUnknownAttributes(types: readonly number[]): this {
    for (const t of types) checkType(t);
    const offset = this.begin(AttributeType.UNKNOWN_ATTRIBUTES, types.length * 2);
    types.forEach((t, i) => {
      this.buf.writeUInt16BE(t, offset + 2 * i);
    });
    this.zeroPad(offset + types.length * 2);
    return this;
  }

  /** Appends MESSAGE-INTEGRITY: HMAC-SHA1 under `key` of everything so far (§14.5). */
  addMessageIntegrity(key: Uint8Array): this {
    const start = this.end;
    const offset = this.begin(AttributeType.MESSAGE_INTEGRITY, 20);
    this.writeLength();
    const mac = createHmac('sha1', key).update(this.buf.subarray(0, start)).digest();
    this.buf.set(mac, offset);
    return this;
  }

  /**
   * Appends MESSAGE-INTEGRITY-SHA256 (§14.6), truncated to `length` bytes (16..32, a
   * multiple of 4; default 32, untruncated).
   */
  addMessageIntegritySha256(key: Uint8Array, length = 32): this {
    if (
      !Number.isInteger(length) ||
      length < MESSAGE_INTEGRITY_SHA256_MIN_LENGTH ||
      length > 32 ||
      length % 4 !== 0
    ) {
      throw new TypeError('MESSAGE-INTEGRITY-SHA256 length must be 16..32, a multiple of 4');
    }
    const start = this.end;
    const offset = this.begin(AttributeType.MESSAGE_INTEGRITY_SHA256, length);
    this.writeLength();
    const mac = createHmac('sha256', key).update(this.buf.subarray(0, start)).digest();
    this.buf.set(mac.subarray(0, length), offset);
    return this;
  }

  /** Appends FINGERPRINT (§14.7) and finishes the message. */
  addFingerprint(): this {
    const start = this.end;
    const offset = this.begin(AttributeType.FINGERPRINT, 4);
    this.writeLength();
    this.buf.writeUInt32BE(fingerprintValue(this.buf, start), offset);
    this.finished = true;
    return this;
  }

  /**
   * The encoded message: a view of the builder's own buffer (no copy). The builder is
   * finished afterwards, so the view never changes under the caller.
   */
  toBuffer(): Buffer {
    this.writeLength();
    this.finished = true;
    return this.buf.subarray(0, this.end);
  }

  private writeLength(): void {
    this.buf.writeUInt16BE(this.end - HEADER_LENGTH, 2);
  }

  private zeroPad(from: number): void {
    this.buf.fill(0, from, this.end);
  }

  /** Writes an attribute header, reserves the padded value; returns the value offset. */
  private begin(type: number, valueLength: number): number {
    if (this.finished) throw new TypeError('the message is finished (FINGERPRINT or toBuffer)');
    checkType(type);
    const next = this.end + 4 + ((valueLength + 3) & ~3);
    if (valueLength > 0xffff || next - HEADER_LENGTH > MAX_MESSAGE_LENGTH) {
      throw new TypeError('STUN message longer than 65535 bytes');
    }
    if (next > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(next, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    this.buf.writeUInt16BE(type, this.end);
    this.buf.writeUInt16BE(valueLength, this.end + 2);
    const offset = this.end + 4;
    this.end = next;
    return offset;
  }
}

function checkType(type: number): void {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
    throw new TypeError(`invalid attribute type ${type}`);
  }
}

function checkAddress(a: TransportAddress): void {
  if (!isTransportAddress(a)) throw new TypeError(`invalid transport address ${JSON.stringify(a)}`);
}
