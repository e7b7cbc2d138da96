/**
 * rtcd/signal: the signaling server (`rtcd signal`) as a library.
 */
export { Authenticator, type Identity, matchRoom, roomAllowed } from './auth.js';
export { CloseCode, httpStatus, SignalErrorCode, SignalOptionsError } from './errors.js';
export { mintIceServers } from './ice-servers.js';
export {
  type LinkDownFrame,
  type LinkUpFrame,
  parseLinkDownFrame,
  parseLinkUpFrame,
} from './link-frame.js';
export { MemoryStore } from './memory-store.js';
export { SIGNAL_DEFAULTS, type SignalServerOptions } from './options.js';
export {
  type ClientMessage,
  type IceCandidateInit,
  MAX_LAYER,
  type ParseResult,
  parseClientMessage,
  parseSfuClientMessage,
  ROOM_NAME,
  type RtcIceServer,
  type SessionType,
} from './protocol.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export {
  type RoomService,
  RoomServiceErrorCode,
  type RoomServiceSink,
  SFU_TRACK_SOURCES,
  type SfuClientMessage,
  type SfuServerMessage,
  type SfuTrackInfo,
  type SfuTrackSource,
} from './room-service.js';
export {
  connectRoomService,
  type RoomServiceLink,
  type RoomServiceLinkOptions,
} from './room-service-link.js';
export { SignalServer } from './server.js';
export { type SfuLinkStats, SfuLinks } from './sfu-links.js';
export {
  type SessionRecord,
  type SessionStatus,
  type SignalStore,
  type StoreEvent,
  StoreUnavailableError,
} from './store.js';
