/**
 * rtcd/signal: the signaling server (`rtcd signal`) as a library.
 */
export { Authenticator, type Identity, matchRoom, roomAllowed } from './auth.js';
export { CloseCode, httpStatus, SignalErrorCode, SignalOptionsError } from './errors.js';
export { mintIceServers } from './ice-servers.js';
export { MemoryStore } from './memory-store.js';
export { SIGNAL_DEFAULTS, type SignalServerOptions } from './options.js';
export {
  type ClientMessage,
  type IceCandidateInit,
  type ParseResult,
  parseClientMessage,
  ROOM_NAME,
  type RtcIceServer,
  type SessionType,
} from './protocol.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { SignalServer } from './server.js';
export {
  type SessionRecord,
  type SessionStatus,
  type SignalStore,
  type StoreEvent,
  StoreUnavailableError,
} from './store.js';
