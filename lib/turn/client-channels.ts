import type { TransportAddress } from '../stun/index.js';
import { MAX_CHANNEL, MIN_CHANNEL } from './channel-data.js';

/**
 * The client's channel bindings (RFC 8656 §12) in two maps: number → peer for received
 * ChannelData, and address → port → number for `send`, so the per-packet lookup builds no
 * string key. A number is `reserve`d while its ChannelBind is in flight (received ChannelData
 * on it is delivered) and `confirm`ed on success (only then does `send` use it, §12.1).
 */
export class ChannelTable {
  private readonly byNumber = new Map<number, TransportAddress>();
  private readonly byPeer = new Map<string, Map<number, number>>();

  get size(): number {
    return this.byNumber.size;
  }

  /** The peer bound (or being bound) to `channel`. */
  peerOf(channel: number): TransportAddress | undefined {
    return this.byNumber.get(channel);
  }

  /** The confirmed channel of `peer`, if any. */
  numberOf(peer: TransportAddress): number | undefined {
    return this.byPeer.get(peer.address)?.get(peer.port);
  }

  /** The channel already reserved or confirmed for `peer` (a rebind refreshes it). */
  findReserved(peer: TransportAddress): number | undefined {
    for (const [channel, p] of this.byNumber) {
      if (p.address === peer.address && p.port === peer.port) return channel;
    }
    return undefined;
  }

  /**
   * The lowest number not in use. Reusing a number for another peer is safe here: numbers
   * are only freed by a failed ChannelBind (never bound) or with the whole allocation, so the
   * RFC 8656 §12 rule against rebinding within 5 minutes of expiry does not arise.
   */
  lowestFree(): number | undefined {
    for (let channel = MIN_CHANNEL; channel <= MAX_CHANNEL; channel++) {
      if (!this.byNumber.has(channel)) return channel;
    }
    return undefined;
  }

  reserve(channel: number, peer: TransportAddress): void {
    // Frozen: this object is handed to every 'data' listener of the channel.
    const copy = Object.freeze({ family: peer.family, address: peer.address, port: peer.port });
    this.byNumber.set(channel, copy);
  }

  confirm(channel: number, peer: TransportAddress): void {
    this.reserve(channel, peer);
    let ports = this.byPeer.get(peer.address);
    if (ports === undefined) {
      ports = new Map();
      this.byPeer.set(peer.address, ports);
    }
    ports.set(peer.port, channel);
  }

  release(channel: number): void {
    const peer = this.byNumber.get(channel);
    if (peer === undefined) return;
    this.byNumber.delete(channel);
    const ports = this.byPeer.get(peer.address);
    if (ports?.get(peer.port) === channel) {
      ports.delete(peer.port);
      if (ports.size === 0) this.byPeer.delete(peer.address);
    }
  }

  /** Confirmed and reserved bindings, as [channel, peer] pairs. */
  entries(): IterableIterator<[number, TransportAddress]> {
    return this.byNumber.entries();
  }

  clear(): void {
    this.byNumber.clear();
    this.byPeer.clear();
  }
}
