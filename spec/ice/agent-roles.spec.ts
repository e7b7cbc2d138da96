import t from 'tap';
import { IceAgent } from '../../lib/ice/agent.js';
import { connectPair, FAST } from '../helpers/ice-pair.js';

const BIG = 0xffff_ffff_ffff_fff0n;
const SMALL = 5n;

for (const controlling of [true, false]) {
  const both = controlling ? 'controlling' : 'controlled';
  t.test(
    `RFC 8445 §7.3.1.1: both ${both} — the larger tie-breaker ends up controlling`,
    async (t) => {
      for (const [ta, tb] of [
        [BIG, SMALL],
        [SMALL, BIG],
      ] as const) {
        const a = new IceAgent({ ...FAST, controlling, tieBreaker: ta });
        const b = new IceAgent({ ...FAST, controlling, tieBreaker: tb });
        t.teardown(() => Promise.all([a.close(), b.close()]));
        await Promise.all([a.gather(), b.gather()]);
        await connectPair(a, b);
        const winner = ta > tb ? a : b;
        const loser = ta > tb ? b : a;
        t.equal(winner.role, 'controlling');
        t.equal(loser.role, 'controlled');
        t.ok(a.counters.roleConflicts + b.counters.roleConflicts > 0, 'a conflict was detected');
        t.ok(a.selectedPair && b.selectedPair, 'both selected a pair');
      }
    },
  );
}
