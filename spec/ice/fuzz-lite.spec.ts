/**
 * Fuzzing the ICE-lite responder and the RFC 7983 demultiplexer with random datagrams,
 * mutated finished checks (which mostly fail framing, fingerprint or integrity) and mutated
 * check bodies sealed with the right key (which authenticate and reach the ICE attribute
 * handling with odd values). Nothing may throw, and every answer must be one the RFCs allow:
 * - every packet sent is a well-formed Binding response with a valid FINGERPRINT and the
 *   request's transaction ID;
 * - a success response goes only to a request that authenticates (checked independently,
 *   with lib/stun's createHmac-based verifier) for a registered ufrag;
 * - nothing at all is sent for a request naming an unregistered ufrag.
 * Reproduce a failure with FUZZ_SEED=<seed> (and FUZZ_ITERATIONS).
 */
import t from 'tap';
import { classifyPacket, isRtcp } from '../../lib/ice/demux.js';
import { IceLiteCore, type LiteEffects, type LiteRemote } from '../../lib/ice/lite-core.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { decodeString } from '../../lib/stun/attributes/string.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import { shortTermKey, verifyMessageIntegrity } from '../../lib/stun/integrity.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import { fuzzSettings, Random } from '../helpers/prng.js';
import { BytePool, mutateBody, mutateMessage, seal } from '../helpers/stun-mutations.js';
import { RFC5769_REQUEST } from '../stun/vectors.js';

const SESSIONS: Record<string, string> = {
  srv1: 'fuzzPasswordNumberOne0001',
  srv2: 'fuzzPasswordNumberTwo0002',
  evtj: 'VOkJxbRl1RmTxUk/WvJxBt', // RFC 5769's, so its sample request is in the corpus
};

const FROM: LiteRemote[] = [
  { family: 4, address: '192.0.2.1', port: 40000, transport: 'udp' },
  { family: 6, address: '2001:db8::9', port: 40001, transport: 'udp' },
];

/** Authenticates `buf` the slow, independent way: lib/stun decode + createHmac. */
function reference(buf: Buffer): { ufrag: string; authenticated: boolean } | undefined {
  const d = decodeStunMessage(buf);
  if (!d.ok) return undefined;
  const u = d.message.get(AttributeType.USERNAME);
  const name = u && decodeString(d.message, u, 512);
  const ufrag = name?.split(':')[0];
  if (ufrag === undefined) return undefined;
  const pwd = Object.hasOwn(SESSIONS, ufrag) ? SESSIONS[ufrag] : undefined;
  return {
    ufrag,
    authenticated:
      pwd !== undefined &&
      verifyFingerprint(d.message) &&
      verifyMessageIntegrity(d.message, shortTermKey(pwd)),
  };
}

function corpus(): {
  checks: Buffer[];
  bodies: { body: Buffer; methodEnd: number; pwd: string }[];
} {
  const checks: Buffer[] = [RFC5769_REQUEST];
  const bodies: { body: Buffer; methodEnd: number; pwd: string }[] = [];
  for (const [ufrag, pwd] of Object.entries(SESSIONS)) {
    for (const role of ['controlling', 'controlled'] as const) {
      for (const useCandidate of [false, true]) {
        checks.push(
          buildCheckRequest({
            localUfrag: 'peer',
            remoteUfrag: ufrag,
            remotePwd: pwd,
            priority: 0x6e7f1eff,
            role,
            tieBreaker: 0x1234n,
            useCandidate,
          }),
        );
        const b = new StunMessageBuilder(StunClass.request, StunMethod.binding, Buffer.alloc(12))
          .addUint32(AttributeType.PRIORITY, 0x7e0000ff)
          .add(
            role === 'controlling' ? AttributeType.ICE_CONTROLLING : AttributeType.ICE_CONTROLLED,
            Buffer.alloc(8, 1),
          );
        if (useCandidate) b.add(AttributeType.USE_CANDIDATE, Buffer.alloc(0));
        const methodEnd = b.length;
        b.addString(AttributeType.USERNAME, `${ufrag}:peer`);
        bodies.push({ body: Buffer.from(b.toBuffer()), methodEnd, pwd });
      }
    }
  }
  checks.push(
    buildCheckRequest({
      localUfrag: 'peer',
      remoteUfrag: 'ghost',
      remotePwd: 'x'.repeat(22),
      priority: 1,
      role: 'controlling',
      tieBreaker: 1n,
    }),
  );
  return { checks, bodies };
}

t.test(
  'random, mutated and mutated-then-sealed checks: no throw, only RFC-allowed answers',
  async (t) => {
    const { seed, iterations } = fuzzSettings({ seed: 0x11fe, iterations: 120_000 });
    const rng = new Random(seed);
    const pool = new BytePool(rng);
    const { checks, bodies } = corpus();
    let input: Buffer = Buffer.alloc(0);
    const violations: string[] = [];
    const tally = { successes: 0, errors: 0, drops: 0, selected: 0, expired: 0 };
    const effects: LiteEffects<string> = {
      send: (_to, data) => {
        const d = decodeStunMessage(data);
        if (!d.ok || !verifyFingerprint(d.message)) {
          violations.push(`sent an ill-formed message for ${input.toString('hex')}`);
          return;
        }
        const m = d.message;
        if (m.method !== StunMethod.binding || !m.transactionId.equals(input.subarray(8, 20))) {
          violations.push(`response does not match the request ${input.toString('hex')}`);
        }
        const ref = reference(input);
        if (m.messageClass === StunClass.success) {
          tally.successes++;
          if (!ref?.authenticated)
            violations.push(`success for an unauthenticated ${input.toString('hex')}`);
        } else {
          tally.errors++;
          const code = m.value(AttributeType.ERROR_CODE);
          const is400 = code !== undefined && code[2] === 4 && code[3] === 0;
          if (ref !== undefined && !Object.hasOwn(SESSIONS, ref.ufrag) && !is400) {
            violations.push(`answered an unknown ufrag ${ref.ufrag}`);
          }
        }
      },
      selected: () => {
        tally.selected++;
      },
      consentExpired: () => {
        tally.expired++;
      },
      drop: () => {
        tally.drops++;
      },
    };
    const core = new IceLiteCore<string>({ consentTimeoutMs: 1000 }, effects);
    for (const [ufrag, pwd] of Object.entries(SESSIONS)) core.add(ufrag, ufrag, pwd);
    let classified = 0;
    for (let i = 0; i < iterations; i++) {
      const kind = rng.int(10);
      if (kind < 2) {
        input = rng.bytes(rng.int(120));
        if (input.length > 0 && rng.chance(0.5)) input[0]! &= 0x03;
        if (input.length >= 8 && rng.chance(0.5)) input.writeUInt32BE(0x2112a442, 4);
      } else if (kind < 7) {
        input = mutateMessage(rng, rng.pick(checks), pool);
      } else {
        const b = rng.pick(bodies);
        input = seal(mutateBody(rng, b.body, b.methodEnd, pool), {
          key: shortTermKey(b.pwd),
          fingerprint: rng.chance(0.95),
        });
      }
      const cls = classifyPacket(input);
      if (cls !== 'unknown') classified++;
      if (cls === 'rtp') isRtcp(input);
      if (cls === 'stun') core.handleStun(input, rng.pick(FROM), i);
      if (i % 1000 === 0) core.sweep(i);
      if (violations.length > 5) break;
    }
    t.same(violations, [], `seed ${seed}`);
    t.ok(
      tally.successes > 100,
      `some mutated-and-sealed checks still authenticate (${tally.successes})`,
    );
    t.ok(tally.errors > 100, `error responses were exercised (${tally.errors})`);
    t.ok(tally.drops > iterations / 4, 'most inputs are dropped');
    t.ok(tally.selected > 0, 'nominations happened');
    t.ok(classified > iterations / 2);
    t.equal(
      core.size,
      Object.keys(SESSIONS).length,
      'the table holds the registered sessions only',
    );
  },
);

t.test('every first byte and length up to 64 classifies without throwing', async (t) => {
  let n = 0;
  for (let len = 0; len <= 64; len++) {
    for (let b = 0; b < 256; b++) {
      const buf = Buffer.alloc(len, b);
      classifyPacket(buf);
      isRtcp(buf);
      n++;
    }
  }
  t.equal(n, 65 * 256);
});
