import { createHash, type Hash } from 'node:crypto';
import { encodeHandshake, type HandshakeMessage } from './handshake.js';

/** Hashes a TLS 1.2 cipher suite may use for its PRF and transcript. */
export type TranscriptHash = 'sha256' | 'sha384';

/**
 * The handshake messages hashed by Finished, CertificateVerify and the extended master
 * secret. RFC 6347 §4.2.6: each message counts once, as if sent unfragmented — its 12-byte
 * header with message_seq as sent, fragment_offset 0 and fragment_length = length — however
 * it was fragmented or retransmitted. The first ClientHello and the HelloVerifyRequest of a
 * cookie exchange are left out (only the ClientHello that carries the cookie is added).
 *
 * Running hashes are created on first use of an algorithm (the suite is only known after
 * ServerHello) and kept up to date, so `hash()` costs one digest of a copy.
 */
export class HandshakeTranscript {
  private readonly messages: Buffer[] = [];
  private readonly running = new Map<TranscriptHash, Hash>();
  private size = 0;

  /** Appends a reassembled message (body without header). */
  add(msgType: number, messageSeq: number, body: Buffer): void {
    this.addRaw(encodeHandshake(msgType, messageSeq, body));
  }

  addMessage(m: HandshakeMessage): void {
    this.add(m.msgType, m.messageSeq, m.body);
  }

  /** Appends a message already in unfragmented wire form (12-byte header + body). */
  addRaw(message: Buffer): void {
    this.messages.push(message);
    this.size += message.length;
    for (const h of this.running.values()) h.update(message);
  }

  /** Bytes added so far. */
  get length(): number {
    return this.size;
  }

  /** How many messages were added. */
  get count(): number {
    return this.messages.length;
  }

  /** All messages so far, concatenated: the input of a CertificateVerify signature. */
  bytes(): Buffer {
    return Buffer.concat(this.messages, this.size);
  }

  /** Hash of all messages so far (the session hash, or Finished's handshake_messages). */
  hash(algorithm: TranscriptHash): Buffer {
    let h = this.running.get(algorithm);
    if (!h) {
      h = createHash(algorithm);
      for (const m of this.messages) h.update(m);
      this.running.set(algorithm, h);
    }
    return h.copy().digest();
  }

  /** Forgets everything (e.g. a client that receives a HelloVerifyRequest starts over). */
  reset(): void {
    this.messages.length = 0;
    this.size = 0;
    this.running.clear();
  }
}
