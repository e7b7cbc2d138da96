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

/** IPv4 (also IPv4-mapped IPv6) as is; IPv6 reduced to its /64 prefix. */
export function addressKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::', 2);
  const h = head === '' ? [] : head.split(':');
  const t = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::')
    ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
    : h;
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
