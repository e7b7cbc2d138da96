import { randomBytes } from 'node:crypto';
import type { TransportAddress } from '../stun/transport-address.js';
import type { RelayRef } from './effects.js';

/** RFC 8656 §7.2: a port reserved by EVEN-PORT (R) is held "for about 30 seconds". */
export const RESERVATION_LIFETIME_MS = 30_000;

export interface Reservation<R extends RelayRef> {
  readonly relay: R;
  readonly relayed: TransportAddress;
  readonly family: 4 | 6;
  readonly expiresAt: number;
}

/** Relay sockets held for a later Allocate with RESERVATION-TOKEN, by token (hex). */
export class ReservationTable<R extends RelayRef> {
  private readonly byToken = new Map<string, Reservation<R>>();

  get size(): number {
    return this.byToken.size;
  }

  /** Holds `relay` until `now + RESERVATION_LIFETIME_MS`; returns the 8-byte token. */
  hold(relay: R, relayed: TransportAddress, family: 4 | 6, now: number): Buffer {
    let token = randomBytes(8);
    while (this.byToken.has(token.toString('hex'))) token = randomBytes(8);
    this.byToken.set(token.toString('hex'), {
      relay,
      relayed,
      family,
      expiresAt: now + RESERVATION_LIFETIME_MS,
    });
    return token;
  }

  /** Removes and returns the live reservation for `token` (hex), if any. */
  take(token: string, now: number): Reservation<R> | undefined {
    const reservation = this.byToken.get(token);
    if (reservation === undefined || now >= reservation.expiresAt) return undefined;
    this.byToken.delete(token);
    return reservation;
  }

  /** Removes reservations expired at `now` (or all of them), calling `release` for each. */
  sweep(now: number, release: (relay: R) => void): void {
    for (const [token, reservation] of this.byToken) {
      if (now < reservation.expiresAt) continue;
      this.byToken.delete(token);
      release(reservation.relay);
    }
  }
}
