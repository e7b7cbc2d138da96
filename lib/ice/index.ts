/**
 * ICE (RFC 8445) for rtcd: a full agent with trickle (RFC 8838) and consent freshness
 * (RFC 7675) for embedders and tests, and an ICE-lite endpoint whose sessions share one UDP
 * port (RFC 8445 §2.5, RFC 7983 demultiplexing) for servers.
 */

// Full agent (helper ice-agent).
export { type GatheringState, IceAgent, type IceAgentEvents, type IceState } from './agent.js';
export {
  type IceAgentOptions,
  type IceStunServer,
  type IceTurnServer,
  parseIceUrl,
  type TurnUrl,
} from './agent-options.js';
export * from './candidate.js';
export type {
  CandidatePair,
  IceCredentials,
  LocalCandidate,
  PairState,
  Role,
} from './checklist.js';

// ICE-lite endpoint and the shared pieces (helper ice-lite).
export * from './demux.js';
export * from './lite-options.js';
export * from './lite-session.js';
export * from './stun-check.js';
export * from './udp-mux.js';
