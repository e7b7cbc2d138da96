import { randomBytes } from 'node:crypto';
import {
  AttributeType,
  decodeAddress,
  decodeXorAddress,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  type TransportAddress,
} from '../stun/index.js';

interface Pending {
  resolve(a: TransportAddress): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Binding requests to STUN servers sent from the host sockets themselves, so the mapped
 * address is that of the candidate's base (RFC 8445 §5.1.1.2). Responses arrive on the same
 * socket as checks; the agent offers each unmatched STUN response to `handle`.
 * Retransmits on the RFC 8489 schedule (RTO 500 ms, doubling) until `timeoutMs`.
 */
export class SrflxRequests {
  private readonly pending = new Map<string, Pending>();

  binding(send: (buf: Buffer) => void, timeoutMs: number, rtoMs = 500): Promise<TransportAddress> {
    const id = randomBytes(12);
    const key = id.toString('latin1');
    const request = new StunMessageBuilder(StunClass.request, StunMethod.binding, id)
      .addFingerprint()
      .toBuffer();
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let rto = rtoMs;
      const attempt = (): void => {
        const left = started + timeoutMs - Date.now();
        if (left <= 0) {
          this.pending.delete(key);
          reject(new Error('STUN server did not answer'));
          return;
        }
        try {
          send(request);
        } catch (err) {
          this.pending.delete(key);
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        entry.timer = setTimeout(attempt, Math.min(rto, left));
        rto *= 2;
      };
      const entry: Pending = { resolve, reject, timer: setTimeout(() => {}, 0) };
      this.pending.set(key, entry);
      attempt();
    });
  }

  /** True if `m` answered one of our requests (and settled it). */
  handle(m: StunMessage): boolean {
    const key = Buffer.from(m.transactionId).toString('latin1');
    const p = this.pending.get(key);
    if (p === undefined) return false;
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (m.messageClass !== StunClass.success) {
      p.reject(new Error('STUN server refused the Binding request'));
      return true;
    }
    const x = m.get(AttributeType.XOR_MAPPED_ADDRESS);
    const plain = m.get(AttributeType.MAPPED_ADDRESS);
    const mapped = (x && decodeXorAddress(m, x)) ?? (plain ? decodeAddress(m, plain) : undefined);
    if (mapped === undefined) p.reject(new Error('Binding response without a mapped address'));
    else p.resolve(mapped);
    return true;
  }

  /** Rejects everything outstanding (agent closed). */
  cancel(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('agent closed'));
    }
    this.pending.clear();
  }
}
