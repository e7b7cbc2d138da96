import { once } from 'node:events';
import { IceAgent } from '../../lib/ice/agent.js';
import type { IceAgentOptions } from '../../lib/ice/agent-options.js';
import { formatCandidate, parseCandidate } from '../../lib/ice/candidate.js';
import type { TurnServer } from '../../lib/turn/server.js';

/** Two full agents wired through an in-process "signaling" channel (candidate strings). */

export const FAST: IceAgentOptions = {
  addresses: ['127.0.0.1'],
  taMs: 5,
  checkRtoMs: 100,
  nominationDelayMs: 50,
  gatherTimeoutMs: 2000,
  connectTimeoutMs: 10_000,
};

/** Signals `from`'s parameters and trickled candidates to `to` (as SDP lines, both ways). */
export function signal(from: IceAgent, to: IceAgent): void {
  to.setRemoteParameters(from.localParameters);
  for (const c of from.localCandidates) to.addRemoteCandidate(parseCandidate(formatCandidate(c))!);
  from.on('candidate', (c) => to.addRemoteCandidate(parseCandidate(formatCandidate(c))!));
  from.on('gathering-complete', () => to.addRemoteCandidate(null));
  if (from.gatheringState === 'complete') to.addRemoteCandidate(null);
}

export async function connectPair(a: IceAgent, b: IceAgent): Promise<void> {
  signal(a, b);
  signal(b, a);
  await Promise.all([a.connect(), b.connect()]);
}

export function makePair(
  common: IceAgentOptions,
  aOpts: IceAgentOptions = {},
  bOpts: IceAgentOptions = {},
): [IceAgent, IceAgent] {
  return [
    new IceAgent({ ...FAST, ...common, controlling: true, ...aOpts }),
    new IceAgent({ ...FAST, ...common, controlling: false, ...bOpts }),
  ];
}

export async function waitState(agent: IceAgent, state: string, ms = 10_000): Promise<void> {
  if (agent.state === state) return;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for (;;) {
      const [s] = await once(agent, 'state', { signal: ac.signal });
      if (s === state) return;
    }
  } finally {
    clearTimeout(timer);
  }
}

export function turnUrl(server: TurnServer, transport: 'udp' | 'tcp' | 'tls'): string {
  const a = server.addresses[transport][0];
  if (a === undefined) throw new Error(`no ${transport} listener`);
  const scheme = transport === 'tls' ? 'turns' : 'turn';
  const q = transport === 'tcp' ? '?transport=tcp' : '';
  return `${scheme}:${a.host}:${a.port}${q}`;
}
