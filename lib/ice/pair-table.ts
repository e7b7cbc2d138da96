import type { TransportAddress } from '../stun/index.js';
import { type IceCandidate, pairPriority } from './candidate.js';
import {
  type CandidatePair,
  familyOf,
  type LocalCandidate,
  normalize,
  type PairState,
  type Role,
  sameAddress,
  toAddress,
} from './pair.js';

/**
 * The candidates and pairs of a check list (RFC 8445 §6.1.2): pairing with redundancy
 * pruning and the `maxPairs` limit, frozen/waiting by foundation, peer-reflexive candidates
 * learned from checks (§7.3.1.3) and from responses (§7.2.5.3.1), priorities by role.
 * Pairs stay sorted by priority, best first.
 */
export class PairTable {
  readonly locals: LocalCandidate[] = [];
  readonly remotes: IceCandidate[] = [];
  readonly pairs: CandidatePair[] = [];
  private prflxCount = 0;

  constructor(
    private readonly role: () => Role,
    private readonly maxPairs: number,
    /** True for a pair in the triggered-check queue (never frozen by a newcomer). */
    private readonly queued: (p: CandidatePair) => boolean,
  ) {}

  addLocal(c: LocalCandidate): void {
    this.locals.push(c);
    // Server-reflexive candidates are pruned: checks leave from their base (§6.1.2.4).
    if (c.type === 'srflx' || c.type === 'prflx') return;
    for (const r of this.remotes) this.addPair(c, r);
  }

  /** Adds a remote candidate (trickled or from the SDP); `.local` names are not paired. */
  addRemote(c: IceCandidate): void {
    if (c.component !== 1 || c.transport !== 'udp') return;
    const known = this.remotes.find((r) => r.address === c.address && r.port === c.port);
    if (known !== undefined) {
      // A prflx we learned is now signalled: keep the learned one (§7.3.1.3 note).
      return;
    }
    this.remotes.push(c);
    if (c.address.endsWith('.local')) return;
    for (const l of this.locals) {
      if (l.type === 'host' || l.type === 'relay') this.addPair(l, c);
    }
  }

  /** The host or relay candidate whose base is `base` (checks arrive on it). */
  baseCandidate(base: string): LocalCandidate | undefined {
    return this.locals.find((l) => l.base === base && (l.type === 'host' || l.type === 'relay'));
  }

  findRemote(from: TransportAddress): IceCandidate | undefined {
    return this.remotes.find((r) => sameAddress(r, from));
  }

  /** A remote peer-reflexive candidate from a check's source and PRIORITY (§7.3.1.3). */
  learnRemote(from: TransportAddress, priority: number): IceCandidate {
    const remote: IceCandidate = {
      foundation: `p${++this.prflxCount}`,
      component: 1,
      transport: 'udp',
      priority,
      address: normalize(from.address),
      port: from.port,
      type: 'prflx',
    };
    this.remotes.push(remote);
    return remote;
  }

  /** After a role switch: pair priorities depend on who controls (§6.1.2.3). */
  reprioritize(): void {
    for (const p of this.pairs) p.priority = this.computePriority(p.local, p.remote);
    this.sort();
  }

  isKnownRemote(base: string, from: TransportAddress): boolean {
    return this.pairs.some(
      (p) => p.local.base === base && sameAddress(p.remote, from) && p.state !== 'failed',
    );
  }

  private sort(): void {
    this.pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
  }

  private pairKey(l: LocalCandidate, r: IceCandidate): string {
    return `${l.base}|${l.address}:${l.port}|${normalize(r.address)}:${r.port}`;
  }

  private computePriority(l: IceCandidate, r: IceCandidate): bigint {
    return this.role() === 'controlling'
      ? pairPriority(l.priority, r.priority)
      : pairPriority(r.priority, l.priority);
  }

  addPair(l: LocalCandidate, r: IceCandidate): CandidatePair | undefined {
    if (familyOf(l.address) !== familyOf(normalize(r.address))) return undefined;
    const id = this.pairKey(l, r);
    const existing = this.pairs.find((p) => p.id === id);
    if (existing !== undefined) return existing;
    // Redundant: same base and remote as an existing pair (§6.1.2.4).
    const redundant = this.pairs.find(
      (p) => p.local.base === l.base && sameAddress(p.remote, toAddress(r)),
    );
    if (redundant !== undefined) return redundant;
    if (this.pairs.length >= this.maxPairs) return undefined;
    const foundation = `${l.foundation}:${r.foundation}`;
    const priority = this.computePriority(l, r);
    // §6.1.2.6: per foundation, the best pair waits and the others stay frozen. With
    // trickle pairs come one by one: a better newcomer takes over from a waiting pair.
    const same = this.pairs.filter((p) => p.foundation === foundation);
    let state: PairState = 'waiting';
    if (same.some((p) => p.state === 'in-progress')) state = 'frozen';
    for (const p of same) {
      if (p.state !== 'waiting' || this.queued(p)) continue;
      if (p.priority >= priority) state = 'frozen';
      else p.state = 'frozen';
    }
    const pair: CandidatePair = {
      id,
      local: l,
      remote: r,
      foundation,
      priority,
      state,
      valid: false,
      nominated: false,
      nominateOnSuccess: false,
    };
    this.pairs.push(pair);
    this.sort();
    return pair;
  }

  /** §7.2.5.3.2: the valid pair's local candidate is the one matching the mapped address. */
  validPairFor(pair: CandidatePair, mapped: TransportAddress, priority: number): CandidatePair {
    if (sameAddress(pair.local, mapped)) return pair;
    // The same mapping again (a re-check, a nomination): the same valid pair object, so
    // that the selected pair keeps its identity.
    const known = pair.validPair;
    if (known !== undefined && sameAddress(known.local, mapped)) return known;
    let local = this.locals.find((l) => l.base === pair.local.base && sameAddress(l, mapped));
    if (local === undefined) {
      local = {
        foundation: `lp${++this.prflxCount}`,
        component: 1,
        transport: 'udp',
        priority,
        address: normalize(mapped.address),
        port: mapped.port,
        type: 'prflx',
        relatedAddress: pair.local.address,
        relatedPort: pair.local.port,
        base: pair.local.base,
      };
      this.locals.push(local);
    }
    const id = `${this.pairKey(local, pair.remote)}|valid`;
    let v = this.pairs.find((p) => p.id === id);
    if (v === undefined) {
      v = {
        id,
        local,
        remote: pair.remote,
        foundation: `${local.foundation}:${pair.remote.foundation}`,
        priority: this.computePriority(local, pair.remote),
        state: 'succeeded',
        valid: true,
        nominated: false,
        nominateOnSuccess: false,
      };
      // Kept out of the check list: it is never checked itself, only through `pair`.
    }
    return v;
  }
}
