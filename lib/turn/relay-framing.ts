import { randomBytes } from 'node:crypto';
import { AttributeType, HEADER_LENGTH, MAGIC_COOKIE } from '../stun/constants.js';
import type { PeerEntry } from './allocation.js';

/** Message type of a Data indication: class indication, method Data (RFC 8656 §17). */
const DATA_INDICATION_TYPE = 0x0017;

/**
 * Writes the headers that go in front of a peer's datagram on its way to the client, so the
 * datagram itself is sent as it is (gather-send), never copied. These run once per relayed
 * packet: they allocate the head buffer and nothing else.
 */
export class RelayFraming {
  /** Data indication transaction IDs: 8 random bytes, then a counter (see `dataHead`). */
  private readonly idPrefix = randomBytes(8);
  private counter = 0;

  /**
   * The ChannelData header (RFC 8656 §12.4) for `length` bytes on `channel`. Padding the
   * data to 4 bytes is the caller's business (required on TCP/TLS, optional on UDP).
   */
  channelDataHead(channel: number, length: number): Buffer {
    const head = Buffer.allocUnsafe(4);
    head[0] = channel >> 8;
    head[1] = channel & 0xff;
    head[2] = length >> 8;
    head[3] = length & 0xff;
    return head;
  }

  /**
   * True if a Data indication can carry `length` bytes from `peer`: its length field is 16
   * bits, and an IPv6 UDP datagram (up to 65527 bytes) plus the attributes may not fit.
   */
  fitsDataIndication(peer: PeerEntry, length: number): boolean {
    const addressLength = peer.family === 4 ? 8 : 20;
    return 4 + addressLength + 4 + ((length + 3) & ~3) <= 0xffff;
  }

  /**
   * A Data indication (RFC 8656 §11.4) up to the DATA attribute's header: the caller sends
   * `length` data bytes after it, then `(4 - length % 4) % 4` zero bytes of padding. The
   * peer's address comes from the permission's cached bytes, XORed by hand (RFC 8489 §14.2).
   * The transaction ID is unique per indication but not random per packet: indications
   * are never matched to anything, and `randomBytes` per packet would cost more than the
   * send. No FINGERPRINT: RFC 8656 does not ask for one on Data indications.
   */
  dataHead(peer: PeerEntry, port: number, length: number): Buffer {
    const addressLength = peer.family === 4 ? 8 : 20;
    const size = HEADER_LENGTH + 4 + addressLength + 4;
    const head = Buffer.allocUnsafe(size);
    head.writeUInt16BE(DATA_INDICATION_TYPE, 0);
    head.writeUInt16BE(size - HEADER_LENGTH + ((length + 3) & ~3), 2);
    head.writeUInt32BE(MAGIC_COOKIE, 4);
    this.idPrefix.copy(head, 8);
    this.counter = (this.counter + 1) >>> 0;
    head.writeUInt32BE(this.counter, 16);
    let o = HEADER_LENGTH;
    head.writeUInt16BE(AttributeType.XOR_PEER_ADDRESS, o);
    head.writeUInt16BE(addressLength, o + 2);
    head[o + 4] = 0;
    head[o + 5] = peer.family === 4 ? 0x01 : 0x02;
    head.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), o + 6);
    // XOR key: the magic cookie then the transaction ID, i.e. head[4..20).
    for (let i = 0; i < peer.bytes.length; i++) head[o + 8 + i] = peer.bytes[i]! ^ head[4 + i]!;
    o += 4 + addressLength;
    head.writeUInt16BE(AttributeType.DATA, o);
    head.writeUInt16BE(length, o + 2);
    return head;
  }
}
