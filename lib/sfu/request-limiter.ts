import { ipToString, parseIp, unmapIpv4 } from '../util/ip.js';

/**
 * Requests per second per client address for the SFU's HTTP front: a token bucket per
 * address (IPv6 per /64, the block one subscriber usually holds), with a bounded table so a
 * spray of source addresses cannot grow memory without end.
 */
export class AddressRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param rate tokens (requests) added per second.
   * @param burst bucket size: requests one address may make at once.
   * @param maxAddresses addresses tracked; beyond, the least recently seen is forgotten.
   */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxAddresses = 65_536,
  ) {}

  /** 0 when `address` may make a request at `now` (ms), else ms until it may. */
  take(address: string, now: number): number {
    const key = addressKey(address);
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxAddresses) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.burst, at: now };
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
      this.buckets.delete(key); // re-inserted below: the Map's order is recency
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 1000) / this.rate);
  }

  /** Forgets addresses whose bucket is full again (nothing to remember). */
  sweep(now: number): void {
    const full = (this.burst * 1000) / this.rate;
    for (const [k, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * IPv4 (also IPv4-mapped IPv6) as is; IPv6 reduced to its /64 prefix. Text that is no IP
 * address (`parseIp` refuses it) is its own key.
 */
export function addressKey(address: string): string {
  const parsed = parseIp(address);
  if (parsed === undefined) return address;
  const ip = unmapIpv4(parsed);
  if (ip.family === 4) return ipToString(4, ip.bytes);
  const words = [0, 2, 4, 6].map((i) => ((ip.bytes[i]! << 8) | ip.bytes[i + 1]!).toString(16));
  return `${words.join(':')}::/64`;
}
