// rtcd/turn: the STUN/TURN server, its sans-IO core and its building blocks.

export { type Logger, silentLogger } from '../util/logger.js';
export * from './channel-data.js';
export {
  type AllocateOptions,
  type Allocation,
  type AutoRefreshOptions,
  TurnClient,
  TurnClientError,
  TurnClientErrorCode,
  type TurnClientEvents,
  type TurnClientOptions,
} from './client.js';
export * from './credentials.js';
export type { ClientRef, RelayRef, RelayRequest, RelayResult, TurnEffects } from './effects.js';
export * from './metrics.js';
export * from './nonce.js';
export * from './observer.js';
export type * from './options.js';
export * from './peer-filter.js';
export * from './resolve-options.js';
export {
  TurnServer,
  type TurnServerAddresses,
  type TurnServerDeps,
  type TurnServerEvents,
} from './server.js';
export { TurnCore, type TurnCoreInit } from './server-core.js';
export * from './token-bucket.js';
