/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): the server answers a ClientHello
 * with cookie = HMAC-SHA256(secret_n, address ‖ port ‖ hello-without-cookie), truncated to
 * COOKIE_LENGTH bytes, and keeps nothing. A client that can receive at its source address
 * echoes it; the server recomputes and compares in constant time. So a flood from spoofed
 * addresses costs one HMAC per datagram and no memory.
 *
 * Secrets rotate every `rotateMs`: secret_n = HMAC-SHA256(secret, "rtcd cookie" ‖ n) with
 * n = floor(now / rotateMs). A cookie from the current or the previous period verifies, so
 * a cookie is honoured for between one and two periods. Servers given the same secret agree
 * on cookies without talking to each other.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Cookie bytes we send (DTLS allows up to 255; 20 is ample against forgery). */
export const COOKIE_LENGTH = 20;

export interface CookieJarOptions {
  /** Master secret, at least 16 bytes. Default: 32 random bytes (per process). */
  secret?: Buffer;
  /** Rotation period of the derived secret, ms. Default 60_000. */
  rotateMs?: number;
}

export class CookieJar {
  private readonly secret: Buffer;
  private readonly rotateMs: number;
  /** The two most recent derived secrets, by period number. */
  private readonly derived = new Map<number, Buffer>();

  constructor(opts: CookieJarOptions = {}) {
    const secret = opts.secret ?? randomBytes(32);
    const rotateMs = opts.rotateMs ?? 60_000;
    if (!Buffer.isBuffer(secret) || secret.length < 16) {
      throw new TypeError('cookie secret must be a Buffer of at least 16 bytes');
    }
    if (!Number.isInteger(rotateMs) || rotateMs <= 0) {
      throw new TypeError(`rotateMs must be a positive integer, got ${rotateMs}`);
    }
    this.secret = Buffer.from(secret);
    this.rotateMs = rotateMs;
  }

  /**
   * The cookie for a ClientHello from `address`:`port`. `helloWithoutCookie` is the
   * ClientHello body with the cookie field left out (or empty): the fields that must be the
   * same in the retried hello. `now` is a clock in ms (any epoch, the same on every call).
   */
  mint(address: string, port: number, helloWithoutCookie: Buffer, now: number): Buffer {
    return this.compute(this.period(now), address, port, helloWithoutCookie);
  }

  /** True iff `cookie` was minted for these inputs in the current or the previous period. */
  verify(
    address: string,
    port: number,
    helloWithoutCookie: Buffer,
    cookie: Buffer,
    now: number,
  ): boolean {
    if (!Buffer.isBuffer(cookie) || cookie.length !== COOKIE_LENGTH) return false;
    const n = this.period(now);
    // Both candidates are always computed, so timing does not reveal which period matched.
    const current = this.compute(n, address, port, helloWithoutCookie);
    const previous = this.compute(n - 1, address, port, helloWithoutCookie);
    const a = timingSafeEqual(current, cookie);
    const b = timingSafeEqual(previous, cookie);
    return a || b;
  }

  private period(now: number): number {
    if (!Number.isFinite(now)) throw new TypeError(`now must be a finite number, got ${now}`);
    return Math.floor(now / this.rotateMs);
  }

  private secretFor(n: number): Buffer {
    let s = this.derived.get(n);
    if (s === undefined) {
      const index = Buffer.alloc(8);
      index.writeDoubleBE(n, 0);
      s = createHmac('sha256', this.secret).update('rtcd cookie').update(index).digest();
      this.derived.set(n, s);
      // Keep only what verify() can still ask for.
      for (const k of this.derived.keys()) if (k < n - 1 || k > n + 1) this.derived.delete(k);
    }
    return s;
  }

  private compute(n: number, address: string, port: number, hello: Buffer): Buffer {
    const head = Buffer.alloc(3);
    head[0] = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
    head.writeUInt16BE(port & 0xffff, 1);
    return createHmac('sha256', this.secretFor(n))
      .update(head)
      .update(address)
      .update(hello)
      .digest()
      .subarray(0, COOKIE_LENGTH);
  }
}
